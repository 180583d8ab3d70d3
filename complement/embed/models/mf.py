"""BPR matrix factorisation (Rendle et al., UAI 2009): ŷ(u, i) = p_u · q_i trained with BPR.

It is LightGCN with zero propagation layers, so it shares that module's sampling and loss; its
defaults are LightGCN's with its own learning rate, batch size and schedule."""

from __future__ import annotations

from typing import ClassVar

from .lightgcn import LightGCN


class BPRMF(LightGCN):
    name = "mf"
    defaults: ClassVar[dict] = {
        **LightGCN.defaults,
        "layers": 0,
        "lr": 5e-3,
        "batch_size": 4096,
        "epochs": 300,
        "min_epochs": 30,
        "patience": 10,
    }

    def build(self, data, device) -> None:
        self.config.layers = 0
        super().build(data, device)
