#!/usr/bin/env bash
# Does HICRA beat GRPO on the offline CPU default? `hicra study` over methods × seeds with held-out evaluation,
# then docs/results/ is written from its outputs (nothing there is edited by hand).
# Usage (from the repository root after `make setup`): bash examples/study_cpu.sh
# Budget and grid through environment variables (defaults: the CPU default of `hicra train`, 3 seeds):
#   SEEDS=0,1,2  ENTROPY_REG=1 (adds entropy_reg)  MAX_STEPS=16  HELDOUT_SIZE=64  HELDOUT_SAMPLES=4
#   EVAL_BENCHMARKS=math500,gsm8k EVAL_LIMIT=50  TRAIN_FLAGS="--dataset-size 256"  OUT=out/study_cpu
#   RESULTS=docs/results  HICRA=.venv/bin/hicra
#   METHODS=hicra,grpo (replaces the method list; ENTROPY_REG then adds to it)  STUDY_FLAGS="--jobs 2"
#   TITLE="Does HICRA beat GRPO? (offline CPU default)"  (the results page's heading; examples/study_testbed.sh sets it)
# Rerunning the same command after an interruption skips finished runs and resumes the interrupted one.
set -euo pipefail
HICRA=${HICRA:-.venv/bin/hicra}
OUT=${OUT:-out/study_cpu}
RESULTS=${RESULTS:-docs/results}
METHODS=${METHODS:-hicra,grpo}
TITLE=${TITLE:-"Does HICRA beat GRPO? (offline CPU default)"}
if [[ "${ENTROPY_REG:-0}" == 1 ]]; then METHODS=$METHODS,entropy_reg; fi

CMD=("$HICRA" study --methods "$METHODS" --seeds "${SEEDS:-0,1,2}" --output "$OUT"
     --heldout-size "${HELDOUT_SIZE:-64}" --heldout-samples "${HELDOUT_SAMPLES:-4}")
if [[ -n "${MAX_STEPS:-}" ]]; then CMD+=(--max-steps "$MAX_STEPS"); fi
if [[ -n "${EVAL_BENCHMARKS:-}" ]]; then CMD+=(--eval-benchmarks "$EVAL_BENCHMARKS" --eval-limit "${EVAL_LIMIT:-0}"); fi
if [[ -n "${TRAIN_FLAGS:-}" ]]; then read -r -a extra <<< "$TRAIN_FLAGS"; CMD+=("${extra[@]}"); fi
if [[ -n "${STUDY_FLAGS:-}" ]]; then read -r -a extra <<< "$STUDY_FLAGS"; CMD+=("${extra[@]}"); fi

quoted() {  # the command as one shell line: words quoted only where the shell needs it
  local out=() w
  for w in "$@"; do
    if [[ "$w" =~ ^[A-Za-z0-9_./,:=+@%-]+$ ]]; then out+=("$w"); else out+=("$(printf '%q' "$w")"); fi
  done
  echo "${out[*]}"
}

started=$(date -u '+%Y-%m-%d %H:%M UTC')
SECONDS=0
"${CMD[@]}"
wall=$SECONDS

mkdir -p "$RESULTS"
rm -rf "$RESULTS/report"
cp "$OUT/study.md" "$OUT/study.csv" "$OUT/runs.csv" "$OUT/curves.csv" "$OUT/study.json" "$OUT/study.yaml" "$RESULTS/"
for f in contrasts.csv paired.csv phases.csv; do if [[ -f "$OUT/$f" ]]; then cp "$OUT/$f" "$RESULTS/"; fi; done
cp -r "$OUT/report" "$RESULTS/report"
cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
{
  echo "# $TITLE"
  echo
  echo "Written by \`examples/study_cpu.sh\` from the outputs of \`hicra study\`; nothing here is edited by hand."
  echo
  echo "- command: \`$(quoted "${CMD[@]}")\`"
  echo "- machine: $cpu, $(nproc) cores (nproc)"
  echo "- started: $started; wall time: $((wall / 3600)) h $((wall % 3600 / 60)) min $((wall % 60)) s"
  echo "- hicra commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo
  echo "## Result"
  echo
  cat "$OUT/study.md"
  echo
  echo "Files: [study.md](study.md), [study.csv](study.csv) (per method and Δ), [runs.csv](runs.csv) (per run),"
  echo "[curves.csv](curves.csv) (seed bands of the curves), [study.json](study.json), [study.yaml](study.yaml) (settings),"
  echo "[report/index.html](report/index.html) (training curves and Fig.-2 dynamics, mean ± min–max band over seeds)."
} > "$RESULTS/README.md"
echo "results: $RESULTS/README.md"
