"""One way to edit the residual stream while the model runs: a forward hook on a block's output."""
from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def edited_residual(lm, layer: int, edit, limit: float, positions: str = "all"):
    """Apply ``edit`` (a function of the [batch, seq, width] residual) to the residual after ``layer``
    blocks, at every position whose norm is below ``limit``: attention sinks, whose norm is far larger,
    keep theirs. ``positions="answer"`` edits only where the answer is written: the prompt's last position
    (which predicts the first answer token) and every generated token, leaving the question as the model
    read it. ``edit=None`` edits nothing (no hook at all)."""
    def hook(module, inputs, output):
        hidden = output[0] if isinstance(output, tuple) else output
        x = hidden.float()
        where = x.norm(dim=-1) < limit
        if positions == "answer" and x.shape[1] > 1:  # the prompt's pass (generated tokens come one by one)
            where[:, :-1] = False
        new = torch.where(where[..., None], edit(x), x).to(hidden.dtype)
        return (new, *output[1:]) if isinstance(output, tuple) else new

    handle = None if edit is None else lm.layers[layer - 1].register_forward_hook(hook)
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()
