#!/usr/bin/env bash
# The whole pipeline on the offline default, in order: mine → train (HICRA and GRPO) → analyse/report → evaluate.
# Small budgets so that it finishes on a CPU laptop; raise them (or drop --preset smoke) for a real study.
# Usage: bash examples/pipeline.sh [OUT_DIR]   (run from the repository root after `make setup`)
set -euo pipefail
OUT=${1:-out/pipeline}
HICRA=${HICRA:-.venv/bin/hicra}
mkdir -p "$OUT"

# 1. Strategic Grams from reference solutions (paper §2.1), merged with the paper's Appendix A list.
"$HICRA" mine --rollouts src/hicra/data/benchmarks/math500/test.jsonl --output "$OUT/sg.json" --merge-paper

# 2. HICRA and its GRPO baseline on the default model and task mix (paper §3), same seed and data.
for method in hicra grpo; do
  "$HICRA" train --preset smoke --method "$method" --lexicon "$OUT/sg.json" --output-dir "$OUT/runs/$method"
done

# 3. Learning dynamics of both runs in one HTML report (paper §2.2, §4), with the 30% lexicon-ablation band.
"$HICRA" report "$OUT/runs/hicra" "$OUT/runs/grpo" --lexicon "$OUT/sg.json" \
  --lexicon-ablation 0.3 --seeds 3 --output "$OUT/report"

# 4. Pass@1 of both checkpoints (paper Table 1 protocol) and the Δ row.
for method in hicra grpo; do
  "$HICRA" eval --model "$OUT/runs/$method" --benchmarks math500,gsm8k --limit 4 --max-tokens 256 \
    --output "$OUT/eval/$method"
done
"$HICRA" eval --compare "$OUT/eval/hicra" "$OUT/eval/grpo" --labels HICRA,GRPO
echo "report: $OUT/report/index.html"
