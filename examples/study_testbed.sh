#!/usr/bin/env bash
# The pre-registered study on the strategy testbed (docs/prereg/testbed.md): grpo, hicra, hicra_random and
# hicra_scaled on the confirmatory seeds, through examples/study_cpu.sh, results in docs/results/testbed/.
# Usage (from the repository root after `make setup`): bash examples/study_testbed.sh
# The warm start is built first if $HICRA_HOME/models/testbed holds none (about 25 min on 2 cores), else reused.
set -euo pipefail
HICRA=${HICRA:-.venv/bin/hicra}
"$HICRA" testbed warmstart
export HICRA METHODS=${METHODS:-grpo,hicra,hicra_random,hicra_scaled} SEEDS=${SEEDS:-0,1,2,3,4,5,6,7,8,9}
export OUT=${OUT:-out/study_testbed} RESULTS=${RESULTS:-docs/results/testbed} HELDOUT_SIZE=256 HELDOUT_SAMPLES=4
export TRAIN_FLAGS="--preset testbed --model testbed"
STUDY_FLAGS="--jobs 2 --no-analyze --contrasts hicra:grpo,hicra:hicra_random,hicra:hicra_scaled --margin 5"
export STUDY_FLAGS="$STUDY_FLAGS --phase-k 10 --phase-window 5"
export TITLE="Does planning credit help? The pre-registered strategy-testbed study"
exec bash "$(dirname "$0")/study_cpu.sh"
