"""A TopK sparse autoencoder (Gao et al. 2024), its trainer, and the field's standard measures.

Encoder: ``f = TopK(ReLU(W_enc (x̂ - b_dec) + b_enc))``, keeping the k largest of ``d_sae`` latents;
decoder: ``x̂ = W_dec f + b_dec`` with unit-norm decoder rows. Why TopK rather than an L1 penalty:
L0 is set directly (k), so no penalty strength has to be tuned per run, and the kept activations are
not shrunk toward zero the way an L1 penalty shrinks them. Dead latents (no firing for a while) get a
gradient through the auxiliary AuxK loss, which asks them to explain what the live ones missed.
Inputs are scaled so that their mean squared norm equals the width (SAELens' normalisation), which
makes one learning rate work across layers and models.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..progress import bar
from ..sae_measures import explained_variance


@dataclass(frozen=True)
class SAEConfig:
    d_sae: int = 4608  # 8 × the model's width of 576
    k: int = 32
    aux_k: int = 256
    aux_coefficient: float = 1 / 32
    dead_after_tokens: int = 20_000  # a latent silent this long counts as dead (for AuxK)
    lr: float = 1e-3
    batch_size: int = 1024
    training_tokens: int = 300_000  # samples seen, with repetition over the stored activations
    log_every: int = 10
    seed: int = 0


class TopKSAE(nn.Module):
    def __init__(self, d_in: int, d_sae: int, k: int):
        super().__init__()
        self.k = k
        decoder = torch.randn(d_sae, d_in)
        decoder /= decoder.norm(dim=1, keepdim=True)
        self.W_dec = nn.Parameter(decoder)
        self.W_enc = nn.Parameter(decoder.T.clone())
        self.b_enc = nn.Parameter(torch.zeros(d_sae))
        self.b_dec = nn.Parameter(torch.zeros(d_in))
        self.register_buffer("scale", torch.ones(()))  # input normalisation, folded in

    def pre_acts(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu((x * self.scale - self.b_dec) @ self.W_enc + self.b_enc)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return keep_top(self.pre_acts(x), self.k)

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        return (f @ self.W_dec + self.b_dec) / self.scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def decode_top(self, indices: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """``decode`` of codes given as their ``k`` (latent, value) pairs: k rows of the decoder summed,
        not a product with all ``d_sae`` of them (the same sum, rounded in another order)."""
        summed = nn.functional.embedding_bag(indices.long(), self.W_dec, per_sample_weights=values.to(self.W_dec.dtype),
                                             mode="sum")
        return (summed + self.b_dec) / self.scale

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """``forward`` through ``decode_top``: for measuring, where no gradient flows."""
        top = self.pre_acts(x).topk(self.k, dim=-1)
        return self.decode_top(top.indices, top.values)

    @torch.no_grad()
    def normalise_decoder(self):
        self.W_dec /= self.W_dec.norm(dim=1, keepdim=True).clamp_min(1e-8)


def keep_top(pre: torch.Tensor, k: int) -> torch.Tensor:
    """``pre`` with all but each row's ``k`` largest entries set to zero."""
    top = pre.topk(k, dim=-1)
    return torch.zeros_like(pre).scatter_(-1, top.indices, top.values)


# --- training ----------------------------------------------------------------------------------------

def aux_loss(sae: TopKSAE, pre: torch.Tensor, error: torch.Tensor, dead: torch.Tensor, aux_k: int):
    """AuxK: the dead latents' top activations try to reconstruct the error of the live ones."""
    n_dead = int(dead.sum())
    if n_dead == 0:
        return pre.new_zeros(())
    f_aux = keep_top(pre.masked_fill(~dead, 0.0), min(aux_k, n_dead))
    error_hat = f_aux @ sae.W_dec
    return (error_hat - error).pow(2).sum(-1).mean() / error.pow(2).sum(-1).mean().clamp_min(1e-8)


def initial_sae(train: torch.Tensor, config: SAEConfig, device, generator: torch.Generator) -> TopKSAE:
    """A fresh SAE whose input scale and decoder bias come from ``train`` (a sample of 20,000 rows)."""
    d_in = train.shape[1]
    sae = TopKSAE(d_in, config.d_sae, config.k).to(device)
    with torch.no_grad():
        sae.scale.fill_(float((d_in / train.pow(2).sum(1).mean()).sqrt()))
        sample = train[torch.randperm(len(train), generator=generator)[:20_000]].to(device)
        sae.b_dec.copy_(sample.mean(0) * sae.scale)  # start the decoder bias at the data's mean
    return sae


def batches_of(train: torch.Tensor, batch_size: int, steps: int, generator: torch.Generator):
    """``steps`` batches of rows of ``train``, each pass over the rows in a new random order."""
    order, cursor = torch.randperm(len(train), generator=generator), 0
    for _ in range(steps):
        if cursor + batch_size > len(order):
            order, cursor = torch.randperm(len(train), generator=generator), 0
        yield train[order[cursor:cursor + batch_size]]
        cursor += batch_size


@torch.no_grad()
def log_step(curves: dict, sae: TopKSAE, step: int, config: SAEConfig, numbers: dict, density: np.ndarray,
             held_out: torch.Tensor | None) -> None:
    """One point of every training curve (the held-out explained variance: nan without held-out rows)."""
    curves["step"].append(step)
    curves["tokens"].append((step + 1) * config.batch_size)
    for name, value in numbers.items():
        curves[name].append(float(value))
    curves["density"].append(density)
    if held_out is not None:
        h = held_out.to(sae.W_dec.device)
        curves["held_out_explained_variance"].append(float(explained_variance(h, sae.reconstruct(h))))
    else:
        curves["held_out_explained_variance"].append(float("nan"))


def train_sae(train: torch.Tensor, config: SAEConfig, device, held_out: torch.Tensor | None = None):
    """Train on the rows of ``train`` (float32, [tokens, width]); returns the SAE and its curves."""
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    sae = initial_sae(train, config, device, generator)
    optimizer = torch.optim.Adam(sae.parameters(), lr=config.lr, betas=(0.9, 0.999))
    steps = max(1, config.training_tokens // config.batch_size)
    scheduler = torch.optim.lr_scheduler.LambdaLR(  # hold, then decay linearly over the last fifth
        optimizer, lambda s: min(1.0, 5 * (1 - s / steps)))
    last_fired = torch.zeros(config.d_sae, dtype=torch.long, device=device)
    curves = {"step": [], "tokens": [], "mse": [], "explained_variance": [], "aux_loss": [], "dead_fraction": [],
              "held_out_explained_variance": [], "density": []}
    fired_window, window_tokens = torch.zeros(config.d_sae, device=device), 0
    started = time.perf_counter()
    rows = batches_of(train, config.batch_size, steps, generator)
    for step, x in zip(bar(range(steps), desc="SAE training"), rows):
        x = x.to(device)
        xs = x * sae.scale
        pre = sae.pre_acts(x)
        f = keep_top(pre, config.k)
        xs_hat = f @ sae.W_dec + sae.b_dec  # the reconstruction in the scaled space the loss is measured in
        error = xs - xs_hat
        mse = error.pow(2).sum(-1).mean() / xs.pow(2).sum(-1).mean()  # normalised MSE
        fired = (f > 0).any(0)
        last_fired = torch.where(fired, torch.zeros_like(last_fired), last_fired + config.batch_size)
        dead = last_fired >= config.dead_after_tokens
        aux = aux_loss(sae, pre, error.detach(), dead, config.aux_k)
        optimizer.zero_grad(set_to_none=True)
        (mse + config.aux_coefficient * aux).backward()
        optimizer.step()
        scheduler.step()
        sae.normalise_decoder()
        fired_window += (f > 0).float().sum(0).detach()
        window_tokens += len(x)
        if step % config.log_every == 0 or step == steps - 1:
            log_step(curves, sae, step, config, {"mse": mse, "explained_variance": explained_variance(xs, xs_hat),
                                                 "aux_loss": aux, "dead_fraction": dead.float().mean()},
                     (fired_window / window_tokens).cpu().numpy(), held_out)
            fired_window.zero_()
            window_tokens = 0
    seconds = time.perf_counter() - started
    return sae, {k: np.asarray(v) for k, v in curves.items()}, {"train_s": round(seconds, 2), "steps": steps,
                                                               "tokens_per_s": round(steps * config.batch_size / seconds, 1)}
