"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter)."""
from __future__ import annotations

from typing import Any

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    """Adam whose weight decay shrinks the weights directly instead of adding to the gradient,
    step for step as `torch.optim.AdamW` (Adam with decoupled_weight_decay=True):

        p  = p·(1 − lr·weight_decay)
        then Adam's update with the plain gradient (see Adam).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         foreach=foreach, maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)

    def _fill_saved_group(self, saved: dict[str, Any]) -> None:
        """Adam's, and decoupled_weight_decay True whatever was saved, as PyTorch's AdamW loads a state_dict."""
        super()._fill_saved_group(saved)
        saved["decoupled_weight_decay"] = True
