"""A view trained by a model that amplifies rounding does not depend on the CPU's kernels.

torch picks its CPU kernels by instruction set (AVX-512, AVX2 or plain code), and they round a float32
product, a sum or even a normal draw differently in the last bit. LightGCN's vectors move by about 1e-5
and the dual-branch model's by up to 1e-2 with its recall unchanged; aligned-contrastive's InfoNCE training
turned such a difference into vectors that differed by up to 1e-1 on ml-100k, and with them its lists. It
trains in float64 on the CPU (``cpu_float64``), from float64 draws, and its vectors are then the same on
every kernel set to within 1e-9.

``ATEN_CPU_CAPABILITY=default`` makes torch use its unvectorised kernels: a stand-in, on one machine, for
a CPU of another type. Each training runs in a child process, since the variable is read at import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from child_env import child_env

from complement.embed.models import MODELS, create_model

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from small_train_data import small_train_data
    from complement.embed.models import create_model

    data = small_train_data()
    model = create_model(sys.argv[1], epochs=30, min_epochs=30, eval_every=10, seed=3)
    model.fit(data)
    np.savez(sys.argv[2], users=model.user_embeddings(), items=model.item_embeddings())
    """
)


def train_in_child(tmp_path, model: str, capability: str | None) -> tuple[np.ndarray, np.ndarray]:
    out = tmp_path / f"{model}-{capability or 'native'}.npz"
    env = child_env(1)
    env.pop("ATEN_CPU_CAPABILITY", None)
    if capability:
        env["ATEN_CPU_CAPABILITY"] = capability
    subprocess.run([sys.executable, "-c", CHILD, model, str(out)], env=env, check=True, timeout=600)
    with np.load(out) as saved:
        return saved["users"], saved["items"]


def test_aligned_contrastive_trains_the_same_with_the_cpus_vectorised_kernels_and_without(tmp_path):
    native = train_in_child(tmp_path, "aligned-contrastive", None)
    plain = train_in_child(tmp_path, "aligned-contrastive", "default")
    for a, b in zip(native, plain, strict=True):
        assert a.dtype == np.float32
        # trained in float32 (before cpu_float64) they differed by ~1e-5 here, in 99% of the entries
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_only_the_amplifying_model_trains_in_float64_on_the_cpu(name):
    model = create_model(name)
    if not isinstance(model, torch.nn.Module):
        pytest.skip(f"{name} is not trained by gradient steps")
    expected = torch.float64 if name == "aligned-contrastive" else torch.float32
    assert model.dtype_on(torch.device("cpu")) == expected
    assert model.dtype_on(torch.device("cuda")) == torch.float32  # a CUDA device keeps float32
