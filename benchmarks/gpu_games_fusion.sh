#!/bin/bash
# The Games rows of docs/fusion.md's fusions over several lists, three seeds at once on one CUDA GPU:
#   bash benchmarks/gpu_games_fusion.sh          (from the repo root; SEEDS="1 2 3" by default)
# Inputs under .gpu/ (git-ignored), as benchmarks/gpu_check.sh's header says: .gpu/whl/ (duckdb and the
# other wheels that machine lacks), .gpu/data/amazon-games/, .gpu/semantic.npy and .gpu/semantic.ids.
# Each seed runs benchmarks/gpu/games-fusion-a.toml (sem, lightgcn, fusion, score, ranker3), prints its
# fusion_gap summary, then games-fusion-b.toml (aligned-contrastive, ranker4, the two-view ranker) and the
# summaries against the dual-branch model and against ranker3, its runs table and metrics: $OUT/seedN.txt.
OUT=${OUT:-/tmp/gpu-games-fusion}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=${THREADS:-5}
if [ -z "$NOINSTALL" ]; then
  if ls .gpu/whl/*.whl > /dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .gpu/whl/*.whl || exit 1
  fi
  python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 1
  nvidia-smi --query-gpu=name,memory.total --format=csv
  timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/test_fusion_ranker_views.py \
    tests/test_scoring_kernels.py > "$OUT/pytest-gpu.txt" 2>&1
  tail -3 "$OUT/pytest-gpu.txt"
fi
t0=$(date +%s)
summary() { python3 benchmarks/fusion_gap_summary.py -w "$1" --seeds "$2" --reference "$3" --methods "$4"; }
one() {
  s=$1; W=/tmp/ws-games-$s; f=$OUT/seed$s.txt
  {
    echo "=== seed $s phase A start $(( $(date +%s) - t0 )) s"
    complement run benchmarks/gpu/games-fusion-a.toml -w "$W" --set "run.seeds=[$s]" $EXTRA
    echo "=== seed $s phase A done $(( $(date +%s) - t0 )) s"
    summary "$W" "$s" fusion fusion,score,ranker3
    complement run benchmarks/gpu/games-fusion-b.toml -w "$W" --set "run.seeds=[$s]" $EXTRA
    echo "=== seed $s phase B done $(( $(date +%s) - t0 )) s"
    summary "$W" "$s" fusion fusion,score,ranker,ranker3,aligned-contrastive,ranker4
    summary "$W" "$s" ranker3 ranker3,ranker4
    complement sql -w "$W" "SELECT step, view, round(seconds, 1) AS seconds FROM runs ORDER BY started_at" -f csv
    complement diagnose -w "$W" --sql metrics --k 20 -f csv
    echo "=== seed $s all done $(( $(date +%s) - t0 )) s"
  } >> "$f" 2>&1
}
for s in ${SEEDS:-1 2 3}; do one "$s" & done
wait
grep -h -A12 "phase B done" "$OUT"/seed*.txt
if [ "${SEEDS:-1 2 3}" = "1 2 3" ]; then  # the three seeds together: mean ± sd and each seed's interval
  python3 benchmarks/fusion_gap_summary.py -w /tmp/ws-games-1 -w /tmp/ws-games-2 -w /tmp/ws-games-3 \
    --reference fusion --methods fusion,score,ranker,ranker3,aligned-contrastive,ranker4 2>&1 | tee "$OUT/summary.txt"
fi
