"""The standard measures of a sparse autoencoder, with the field's names (as SAELens reports them).

Every function takes the arrays as the SAE produced them, numpy or torch alike, with the inputs on the
second-to-last axis and the latents (or input dimensions) on the last; any axes before those (many SAEs
trained at once) are kept. A latent "fires" on an input when its activation is above zero.
"""
from __future__ import annotations

DENSE_THRESHOLD = 0.1  # the usual cut-off: a latent firing on more than 10 % of inputs is "dense"


def _fires(latents):
    return (latents > 0) * 1.0  # float in numpy and torch alike


def l0(latents):
    """Mean number of latents active per input."""
    return _fires(latents).sum(-1).mean(-1)


def explained_variance(x, x_hat):
    """1 − ‖x − x̂‖² / ‖x − mean(x)‖², each summed over inputs and dimensions."""
    residual = ((x - x_hat) ** 2).sum(-1).sum(-1)
    total = ((x - x.mean(-2)[..., None, :]) ** 2).sum(-1).sum(-1)
    return 1 - residual / total


def feature_density(latents):
    """For each latent, the share of inputs on which it fires."""
    return _fires(latents).mean(-2)


def dead_fraction(density):
    """Share of latents that fired on no input (``density`` from ``feature_density``)."""
    return ((density == 0) * 1.0).mean(-1)


def dense_fraction(density, threshold: float = DENSE_THRESHOLD):
    """Share of latents firing on more than ``threshold`` of inputs."""
    return ((density > threshold) * 1.0).mean(-1)


def ce_loss_recovered(clean: float, spliced: float, zero_ablated: float) -> float:
    """(L_zero − L_SAE) / (L_zero − L_clean): 1 when splicing the SAE in loses nothing, 0 when it is no
    better than erasing the activation."""
    return float((zero_ablated - spliced) / (zero_ablated - clean))
