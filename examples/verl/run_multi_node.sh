#!/usr/bin/env bash
# Several nodes through a Ray cluster (every node has the same environment with hicra[verl] installed).
#   head node:     bash examples/verl/run_multi_node.sh head
#   other nodes:   HEAD_IP=10.0.0.1 bash examples/verl/run_multi_node.sh worker
#   then, on head: NNODES=4 bash examples/verl/run_multi_node.sh submit [more Hydra overrides]
set -euo pipefail
ROLE=${1:?usage: run_multi_node.sh head|worker|submit [overrides...]}
shift
: "${RAY_PORT:=6379}"
: "${DASHBOARD_PORT:=8265}"
case "$ROLE" in
    head) exec ray start --head --port="$RAY_PORT" --dashboard-host=0.0.0.0 --dashboard-port="$DASHBOARD_PORT" ;;
    worker) exec ray start --address="${HEAD_IP:?set HEAD_IP}:$RAY_PORT" ;;
    submit)
        source "$(dirname "$0")/common.sh"
        exec ray job submit --address="http://127.0.0.1:$DASHBOARD_PORT" \
            -- python3 -m hicra.verl.main "${HICRA_ARGS[@]}" "$@" ;;
    *) echo "unknown role $ROLE (head|worker|submit)" >&2; exit 2 ;;
esac
