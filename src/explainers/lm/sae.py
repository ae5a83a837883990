"""A TopK sparse autoencoder (Gao et al. 2024), its trainer, and the field's standard measures.

Encoder: ``f = TopK(ReLU(W_enc (x̂ - b_dec) + b_enc))``, keeping the k largest of ``d_sae`` latents;
decoder: ``x̂ = W_dec f + b_dec`` with unit-norm decoder rows. Why TopK rather than an L1 penalty:
L0 is set directly (k), so no penalty strength has to be tuned per run, and the kept activations are
not shrunk toward zero the way an L1 penalty shrinks them. Dead latents (no firing for a while) get a
gradient through the auxiliary AuxK loss, which asks them to explain what the live ones missed.
Inputs are scaled so that their mean squared norm equals the width (SAELens' normalisation), which
makes one learning rate work across layers and models.

The trainer takes its gradients from the kept (token, latent) pairs only: the losses and gradients of the
dense form, at a fraction of its arithmetic.
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

class KeptPreacts(torch.autograd.Function):
    """The encoder's pre-activations at the kept (row, latent) pairs, ``pre[rows, indices]``, with the
    gradient of the dense ``(xs - b_dec) @ W_enc + b_enc`` for those pairs only. The dense pre-activations
    are computed once, without a graph, to choose the pairs; a dense backward would then multiply by all
    ``d_sae`` columns where TopK kept ``k`` (plus AuxK's few): the sparse one below is the same sum over
    the kept pairs, several times cheaper on a CPU."""

    @staticmethod
    def forward(ctx, pre, xs, b_dec, W_enc, b_enc, indices):
        ctx.save_for_backward(xs, b_dec, W_enc, indices)
        return pre.gather(1, indices)

    @staticmethod
    def backward(ctx, grad):
        xs, b_dec, W_enc, indices = ctx.saved_tensors
        n, m = indices.shape
        d_in, d_sae = W_enc.shape
        latents = indices.reshape(-1)
        rows = torch.arange(n, device=grad.device).repeat_interleave(m)
        grad_b_enc = torch.zeros(d_sae, device=grad.device, dtype=grad.dtype).index_add_(0, latents, grad.reshape(-1))
        # d loss / d W_enc[:, j] = sum over the rows that kept latent j of grad * (xs - b_dec)
        by_latent = torch.sparse_coo_tensor(torch.stack([latents, rows]), grad.reshape(-1), (d_sae, n),
                                            check_invariants=False)
        grad_W_enc = torch.sparse.mm(by_latent, xs - b_dec).T
        return None, None, -(W_enc @ grad_b_enc), grad_W_enc, grad_b_enc, None


def kept_latents(sae: TopKSAE, xs: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The pre-activations of scaled inputs ``xs`` (no gradient) and each row's ``k`` kept latents."""
    with torch.no_grad():
        pre = torch.relu((xs - sae.b_dec) @ sae.W_enc + sae.b_enc)
        return pre, pre.topk(k, dim=-1).indices


def step_losses(sae: TopKSAE, xs: torch.Tensor, pre: torch.Tensor, top: torch.Tensor, dead: torch.Tensor,
                aux_k: int):
    """``(mse, aux, xs_hat)`` with gradients from the kept pairs only: the losses of the dense form,
    ``keep_top(pre) @ W_dec`` and AuxK's ``keep_top`` of the dead latents, with each decoder sum taken
    over the kept rows (``embedding_bag``), not all ``d_sae``."""
    k, n_dead = top.shape[1], int(dead.sum())
    aux_top = pre.masked_fill(~dead, 0.0).topk(min(aux_k, n_dead), dim=-1).indices if n_dead else top[:, :0]
    kept = torch.relu(KeptPreacts.apply(pre, xs, sae.b_dec, sae.W_enc, sae.b_enc, torch.cat([top, aux_top], 1)))
    xs_hat = decode_sum(sae.W_dec, top, kept[:, :k]) + sae.b_dec
    error = xs - xs_hat
    mse = error.pow(2).sum(-1).mean() / xs.pow(2).sum(-1).mean()  # normalised MSE
    if n_dead == 0:
        return mse, mse.new_zeros(()), xs_hat
    # AuxK: the dead latents' top activations try to reconstruct the error of the live ones
    target = error.detach()
    # a row with fewer positive dead latents than aux_k tops up with live ones at zero: they count as zero
    aux_error = decode_sum(sae.W_dec, aux_top, kept[:, k:] * dead[aux_top]) - target
    return mse, aux_error.pow(2).sum(-1).mean() / target.pow(2).sum(-1).mean().clamp_min(1e-8), xs_hat


def decode_sum(W_dec: torch.Tensor, indices: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """Each row's sum of ``values`` × the decoder rows named by ``indices``."""
    return nn.functional.embedding_bag(indices, W_dec, per_sample_weights=values, mode="sum")


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
        xs = x.to(device) * sae.scale  # the scaled space the loss is measured in
        pre, top = kept_latents(sae, xs, config.k)
        # a latent fires on a token when it is kept with a positive value; silent this long, it is dead
        fires = torch.bincount(top[pre.gather(1, top) > 0], minlength=config.d_sae)
        last_fired = torch.where(fires > 0, torch.zeros_like(last_fired), last_fired + config.batch_size)
        dead = last_fired >= config.dead_after_tokens
        mse, aux, xs_hat = step_losses(sae, xs, pre, top, dead, config.aux_k)
        optimizer.zero_grad(set_to_none=True)
        (mse + config.aux_coefficient * aux).backward()
        optimizer.step()
        scheduler.step()
        sae.normalise_decoder()
        fired_window += fires
        window_tokens += len(xs)
        if step % config.log_every == 0 or step == steps - 1:
            log_step(curves, sae, step, config, {"mse": mse, "explained_variance": explained_variance(xs, xs_hat),
                                                 "aux_loss": aux, "dead_fraction": dead.float().mean()},
                     (fired_window / window_tokens).cpu().numpy(), held_out)
            fired_window.zero_()
            window_tokens = 0
    seconds = time.perf_counter() - started
    return sae, {k: np.asarray(v) for k, v in curves.items()}, {"train_s": round(seconds, 2), "steps": steps,
                                                               "tokens_per_s": round(steps * config.batch_size / seconds, 1)}
