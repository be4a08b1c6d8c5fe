#!/usr/bin/env bash
# HICRA (or a baseline: METHOD=grpo / entropy_reg / hicra_entropy) on one node with 8 GPUs, in the verl environment
# (pip install 'hicra[verl]' plus verl's vLLM extra). Extra arguments are more Hydra overrides.
#   bash examples/verl/run_single_node.sh
#   METHOD=grpo bash examples/verl/run_single_node.sh trainer.total_training_steps=100
set -euo pipefail
source "$(dirname "$0")/common.sh"
exec python3 -m hicra.verl.main "${HICRA_ARGS[@]}" "$@"
