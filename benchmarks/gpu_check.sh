#!/bin/bash
# complement's CUDA checks (docs/benchmarks.md, "On a GPU"): run from the repo root on a machine with a
# CUDA GPU and torch, sentence-transformers, pytest installed; output goes to stdout and to $OUT.
# Inputs, prepared on another machine into .gpu/ (git-ignored; never commit the dataset):
#   .gpu/whl/duckdb-*.whl           a duckdb wheel for that machine's Python (if it has none)
#   .gpu/data/amazon-games/         a copy of ../shared/data/amazon-games
#   .gpu/semantic.npy, .ids         the MiniLM item vectors of that data (fp16 .npy + ids), e.g. from
#                                   `complement run examples/amazon-games.toml` on the CPU machine
#   .gpu/vocab.txt                  a BERT vocabulary (the packaged MiniLM's) for the random test encoder
#   .gpu/games-gpu.toml             examples/amazon-games.toml with path = "data/amazon-games", the
#                                   text view as `from = "semantic.npy"` + `ids = "semantic.ids"`,
#                                   and [run] device = "cuda"
OUT=${OUT:-/tmp/gpu-check-out}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
set -o pipefail
t0=$(date +%s)
lap() { echo "=== [$(( $(date +%s) - t0 )) s] $*"; }
if ls .gpu/whl/*.whl > /dev/null 2>&1; then python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir .gpu/whl/*.whl || exit 1; fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, duckdb, sentence_transformers, typer; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'duckdb', duckdb.__version__, 'st', sentence_transformers.__version__, 'typer', typer.__version__)"

lap "1. gpu-marked tests"
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests 2>&1 | tail -3

lap "2. tiny random BERT: fp16 CUDA embedding vs fp32 CPU"
python3 - <<'PY'
import os, numpy as np, torch
from transformers import BertConfig, BertModel, BertTokenizerFast
from sentence_transformers import SentenceTransformer, models
tok = BertTokenizerFast(".gpu/vocab.txt"); torch.manual_seed(0)
BertModel(BertConfig(vocab_size=tok.vocab_size, hidden_size=128, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256)).save_pretrained("/tmp/tiny"); tok.save_pretrained("/tmp/tiny")
t = models.Transformer("/tmp/tiny"); SentenceTransformer(modules=[t, models.Pooling(t.get_word_embedding_dimension())]).save("/tmp/tiny-st")
PY
W=/tmp/ws-emb; rm -rf $W
complement init $W --dataset recbole --path .gpu/data/amazon-games > /dev/null 2>&1 || complement init $W --dataset recbole --path .gpu/data/amazon-games 2>&1 | tail -3
for d in cuda cpu; do /usr/bin/time -f "embed $d wall %e s" complement embed -w $W --model /tmp/tiny-st --view tiny-$d --device $d 2>&1 | grep -v "Loading\|Writing" | tail -3; done
python3 - <<'PY'
import numpy as np, complement
ws = complement.Workspace("/tmp/ws-emb")
ids_g, g = ws.read_vectors("tiny-cuda", "item"); ids_c, c = ws.read_vectors("tiny-cpu", "item")
assert list(ids_g) == list(ids_c)
cos = (g * c).sum(1) / np.linalg.norm(g, axis=1) / np.linalg.norm(c, axis=1)
print(f"fp16 cuda vs fp32 cpu embeddings: {len(g)} items, min cosine {cos.min():.6f}, mean {cos.mean():.6f}")
PY

lap "3. the Games experiment on cuda (semantic vectors = MiniLM from the CPU machine)"
/usr/bin/time -f "run wall %e s, max RSS %M KB" complement run .gpu/games-gpu.toml -w /tmp/ws-g 2>&1 | grep -v "^\s*$" | tail -45 | tee $OUT/games_cuda_run.txt
complement sql -w /tmp/ws-g "SELECT step, view, round(seconds, 1) AS seconds FROM runs ORDER BY started_at" -f csv 2>&1 | tee $OUT/games_cuda_steps.csv | head -40
complement diagnose -w /tmp/ws-g --sql metrics --k 20 -f csv 2>&1 | tee $OUT/games_cuda_metrics.csv | head -20

lap "4. topk kernel: cuda vs cpu on the trained lightgcn vectors (same machine); epoch speed cuda vs 16-core cpu"
python3 - <<'PY' 2>&1 | tee $OUT/kernels.txt
import time, numpy as np, torch, complement
from complement.scoring import topk_indices
from complement.embed.train import load_train_data
ws = complement.Workspace("/tmp/ws-g")
_, U = ws.read_vectors("lightgcn", "user"); _, I = ws.read_vectors("lightgcn", "item")
data = load_train_data(ws, None)
seen = (np.concatenate([data.train[0], data.valid[0]]), np.concatenate([data.train[1], data.valid[1]]))
out = {}
for dev in ("cuda", "cpu", "cuda"):
    t = time.perf_counter(); out[dev] = topk_indices(U, I, 100, seen=seen, device=dev); print(f"topk {U.shape[0]} users x {I.shape[0]} items, K=100, {dev}: {time.perf_counter() - t:.2f} s")
same = (out["cuda"][0] == out["cpu"][0]).mean(); print(f"topk indices equal cuda vs cpu: {same:.6%}; max score diff {np.abs(out['cuda'][1] - out['cpu'][1]).max():.2e}")
from complement.embed.models import create_model
from complement.embed.train import epoch_batches
for name in ("lightgcn", "fusion", "aligned-contrastive"):
    d = load_train_data(ws, "text")
    for dev in ("cuda", "cpu"):
        torch.set_num_threads(16 if dev == "cpu" else 2)
        m = create_model(name, device=dev); m.data = d; m.build(d, torch.device(dev)); m.to(dev)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3); g = torch.Generator().manual_seed(0)
        b = epoch_batches(np.random.default_rng(0), len(d.train[0]), m.config.batch_size)
        def step(rows):
            loss = m.batch_loss(rows, g); opt.zero_grad(); loss.backward(); opt.step()
        for rows in b[:3]: step(rows)
        if dev == "cuda": torch.cuda.synchronize()
        t = time.perf_counter()
        for rows in b[3:23]: step(rows)
        if dev == "cuda": torch.cuda.synchronize()
        dt = (time.perf_counter() - t) / 20
        print(f"{name} {dev}: {dt * 1000:.1f} ms/batch -> {dt * len(b):.2f} s/epoch ({len(b)} batches)")
PY
lap done
