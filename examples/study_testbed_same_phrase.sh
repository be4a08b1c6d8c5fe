#!/usr/bin/env bash
# The pre-registered follow-up on the strategy testbed's same-phrase variant (docs/prereg/testbed-same-phrase.md):
# grpo and hicra on seeds 0-9 through examples/study_cpu.sh, results in docs/results/testbed-same-phrase/.
# Usage (from the repository root after `make setup`): bash examples/study_testbed_same_phrase.sh
# The variant's warm start is built first in models/testbed-same-phrase (3 epochs: the default 2 failed its equation-accuracy gate; about 5 min on 2 idle cores), else reused.
set -euo pipefail
HICRA=${HICRA:-.venv/bin/hicra}
MODEL=${MODEL:-models/testbed-same-phrase}
"$HICRA" testbed warmstart --dataset testbed:1:same-phrase --epochs 3 --output "$MODEL"
export HICRA METHODS=${METHODS:-grpo,hicra} SEEDS=${SEEDS:-0,1,2,3,4,5,6,7,8,9}
export OUT=${OUT:-out/study_testbed_same_phrase} RESULTS=${RESULTS:-docs/results/testbed-same-phrase}
export HELDOUT_SIZE=256 HELDOUT_SAMPLES=4
export TRAIN_FLAGS="--preset testbed --model $MODEL --dataset testbed:1:same-phrase"
export STUDY_FLAGS="--jobs 2 --no-analyze --contrasts hicra:grpo --margin 5 --phase-k 10 --phase-window 5"
export TITLE="HICRA against GRPO when the planning tokens do not decide: the pre-registered same-phrase study"
exec bash "$(dirname "$0")/study_cpu.sh"
