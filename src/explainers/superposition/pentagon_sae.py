"""A sparse autoencoder (SAE) that tries to undo the pentagon: five features back out of two dimensions.

The sparsest toy model stores five features as five directions W_i in its 2-D hidden layer h = W x.
An SAE reads h and rewrites it as a sparse sum of learned directions (the decoder's unit columns d_j):

    f  = ReLU(W_enc (h - b_dec) + b_enc)        latent activations, f ≥ 0
    ĥ  = Σ_j f_j d_j + b_dec                      reconstruction, ‖d_j‖ = 1
    L  = ‖h - ĥ‖² + λ Σ_j f_j                     reconstruction error + L1 sparsity penalty

If it works, each true direction W_i has a latent whose d_j points the same way. Latents that stop
firing are dead; "resampling" (Anthropic, Towards Monosemanticity, 2023) points them at the inputs the
SAE reconstructs worst. All runs and seeds train at once as one batched tensor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..cache import cached
from ..device import describe, pick, torch_threads
from ..progress import bar
from ..sae_measures import explained_variance, feature_density, l0
from ..timeline import Timeline, display_frames
from .toy import ToyConfig, plain_config, train_toy_model

# --- the book's settings ------------------------------------------------------------------------------


@dataclass
class PentagonSAEConfig:
    toy: ToyConfig = field(default_factory=ToyConfig)  # its sparsest model is the pentagon we read
    # (d_sae, resample dead latents?) for each run: as many latents as features, the same with
    # resampling, and twice as many latents
    runs: tuple[tuple[int, bool], ...] = ((5, False), (5, True), (10, False))
    n_seeds: int = 8  # per run; every seed's frames are kept (see seed_to_show for the chart's default)
    seed: int = 0
    steps: int = 1000
    batch_size: int = 256
    lr: float = 3e-2  # high enough that some latents die: the thing resampling is for
    l1_coefficient: float = 0.5  # λ
    dead_window: int = 2560  # inputs: a latent that fired on none of the last 2560 is dead
    resample_at: tuple[float, ...] = (0.2, 0.4, 0.6)  # fractions of training (runs with resampling)
    resample_encoder_scale: float = 0.2  # new encoder row: 0.2 × mean alive encoder norm (as in the paper)
    n_inputs: int = 16384  # nonzero hidden vectors in the training store
    eval_size: int = 4096  # nonzero hidden vectors for the metrics we report
    recovered_cosine: float = 0.95  # a true direction is recovered when an alive latent is this close
    max_frames: int = 100


# --- the data: the pentagon model's hidden layer ------------------------------------------------------


def hidden_activations(columns: np.ndarray, p: float, count: int, generator: torch.Generator) -> torch.Tensor:
    """`count` hidden vectors h = W x = Σ_i x_i W_i with at least one feature present.

    With p = 0.01 about 95% of inputs are all zero and so is their h; they teach an SAE nothing, so
    we keep only the rest (as an activation store would never hold exact zeros).
    """
    W = torch.as_tensor(columns, dtype=torch.float32).T  # (2, n)
    present = torch.zeros(0, W.shape[1], dtype=torch.bool)
    while len(present) < count:  # draw which features are present; keep inputs with any
        draw = torch.rand(4 * count, W.shape[1], generator=generator) < p
        present = torch.cat([present, draw[draw.any(-1)]])
    present = present[:count]
    x = torch.rand(present.shape, generator=generator) * present
    return x @ W.T


# --- the SAE, batched over seeds ----------------------------------------------------------------------


class SparseAutoencoder(torch.nn.Module):
    """k independent SAEs on d_in dimensions, stored as stacked tensors.

    Every instance has room for d_max latents; an instance with d_sae < d_max keeps the rest switched
    off (`exists`), so runs of different widths train together as one batched tensor.
    """

    def __init__(self, d_in: int, d_sae: list[int], seeds: list[int]):
        super().__init__()
        d_max = max(d_sae)
        directions = torch.stack([torch.randn(d_in, d_max, generator=torch.Generator().manual_seed(s))
                                  for s in seeds])
        directions /= directions.norm(dim=1, keepdim=True)
        self.W_dec = torch.nn.Parameter(directions)  # (k, d_in, d_max): unit columns d_j
        self.W_enc = torch.nn.Parameter(directions.mT.clone())  # (k, d_max, d_in): starts as Wdecᵀ
        self.b_enc = torch.nn.Parameter(torch.zeros(len(seeds), d_max))
        self.b_dec = torch.nn.Parameter(torch.zeros(len(seeds), d_in))
        self.register_buffer("exists", torch.arange(d_max)[None, :] < torch.tensor(d_sae)[:, None])

    def encode(self, h):  # h: (k, batch, d_in) -> f: (k, batch, d_max)
        f = torch.relu((h - self.b_dec[:, None]) @ self.W_enc.mT + self.b_enc[:, None])
        return f * self.exists[:, None, :]

    def decode(self, f):
        return f @ self.W_dec.mT + self.b_dec[:, None]

    @torch.no_grad()
    def normalise_decoder(self):
        self.W_dec /= self.W_dec.norm(dim=1, keepdim=True)


def sae_loss(sae, h, l1_coefficient):
    """Per instance: (L, ‖h - ĥ‖², Σ f, f), each averaged over the batch."""
    f = sae.encode(h)
    mse = ((h - sae.decode(f)) ** 2).sum(-1).mean(-1)
    l1 = f.sum(-1).mean(-1)
    return mse + l1_coefficient * l1, mse, l1, f


@torch.no_grad()
def resample_dead(sae, optimizer, dead, pool, encoder_scale, generator):
    """Towards Monosemanticity's resampling: aim each dead latent at a badly reconstructed input.

    Inputs are drawn with probability ∝ (reconstruction error)²; the dead latent's decoder column
    becomes that input, normalised, and its encoder row the same direction with 0.2 × the mean norm of
    the alive encoder rows, bias 0. Adam's running moments for those entries are reset.
    """
    error = ((pool - sae.decode(sae.encode(pool))) ** 2).sum(-1).cpu()  # (k, pool)
    for k in range(dead.shape[0]):
        latents = dead[k].nonzero()[:, 0]
        if len(latents) == 0:
            continue
        chosen = torch.multinomial(error[k] ** 2 + 1e-12, len(latents), replacement=False,
                                   generator=generator).to(pool.device)
        direction = pool[k, chosen] / pool[k, chosen].norm(dim=-1, keepdim=True)  # (dead, d_in)
        alive = sae.exists[k] & ~dead[k]
        scale = sae.W_enc[k, alive].norm(dim=-1).mean() if alive.any() else torch.tensor(1.0)
        sae.W_dec[k][:, latents] = direction.T
        sae.W_enc[k, latents] = direction * encoder_scale * scale
        sae.b_enc[k, latents] = 0.0
        for param, index in ((sae.W_dec, (k, slice(None), latents)), (sae.W_enc, (k, latents)),
                             (sae.b_enc, (k, latents))):
            state = optimizer.state.get(param, {})
            for moment in ("exp_avg", "exp_avg_sq"):
                if moment in state:
                    state[moment][index] = 0.0


def best_matches(decoder, features, alive):
    """For each true feature direction, the alive latent whose decoder column is closest (cosine).

    decoder: (k, d_in, d_max) unit columns; features: (n, d_in) unit rows; alive: (k, d_max).
    Returns cosine (k, n) and latent index (k, n), -1 where no latent is alive.
    """
    cosine = (features @ decoder).masked_fill(~alive[:, None, :], -2.0)  # (k, n, d_max)
    best, index = cosine.max(-1)
    return best.clamp(min=-1.0), torch.where(best > -2.0, index, -1)


def train_saes(store, evaluation, features, d_sae, resample, seeds, config):
    """Train SAE instance k (width d_sae[k], resampling if resample[k], from seeds[k]) all at once.

    Every instance sees the same batches. Returns each checkpoint's records as numpy arrays.
    """
    device = store.device
    sae = SparseAutoencoder(store.shape[1], d_sae, seeds).to(device)
    k = len(seeds)
    optimizer = torch.optim.Adam(sae.parameters(), lr=config.lr)
    generator = torch.Generator().manual_seed(config.seed)  # on the CPU: the same batches on any device
    resampling = torch.tensor(resample, device=device)[:, None]
    resample_steps = {int(round(f * config.steps)) for f in config.resample_at} if any(resample) else set()
    checkpoints = set(display_frames(config.steps + 1, config.max_frames).tolist())
    last_fired = torch.zeros(k, sae.exists.shape[1], dtype=torch.long, device=device)  # input count
    seen = 0
    eval_h = evaluation.expand(k, *evaluation.shape)
    record = {name: [] for name in ("decoder", "dead", "frequency", "cosine", "latent", "mse", "l1",
                                    "l0", "explained_variance")}
    for step in bar(range(config.steps + 1), desc="pentagon SAEs"):
        dead = (seen - last_fired >= config.dead_window) & sae.exists
        if step in checkpoints:
            with torch.no_grad():
                _, mse, l1, f = sae_loss(sae, eval_h, config.l1_coefficient)
                rebuilt = sae.decode(f)
                cosine, latent = best_matches(sae.W_dec, features, sae.exists & ~dead)
                for name, value in (("decoder", sae.W_dec.mT * sae.exists[..., None]), ("dead", dead),
                                    ("frequency", feature_density(f)), ("cosine", cosine),
                                    ("latent", latent), ("mse", mse), ("l1", l1),
                                    ("l0", l0(f)), ("explained_variance", explained_variance(eval_h, rebuilt))):
                    record[name].append(value.detach().cpu().clone())
        if step == config.steps:
            break
        if step in resample_steps and (dead & resampling).any():
            pool = store[torch.randint(len(store), (4 * config.batch_size,), generator=generator).to(device)]
            resample_dead(sae, optimizer, dead & resampling, pool.expand(k, *pool.shape),
                          config.resample_encoder_scale, generator)
            last_fired = torch.where(dead & resampling, seen, last_fired)  # a fresh window to prove itself
        h = store[torch.randint(len(store), (config.batch_size,), generator=generator).to(device)]
        loss, _, _, f = sae_loss(sae, h.expand(k, *h.shape), config.l1_coefficient)
        optimizer.zero_grad(set_to_none=True)
        loss.sum().backward()
        optimizer.step()
        sae.normalise_decoder()
        seen += config.batch_size
        last_fired = torch.where(f.amax(1) > 0, seen, last_fired)
    out = {name: torch.stack(values).numpy() for name, values in record.items()}
    out["resample_steps"] = np.array(sorted(resample_steps), dtype=np.int32)
    return out


def seed_to_show(recovered: np.ndarray) -> int:
    """The seed a chart opens on: the first where the runs end differently (recovered counts differ),
    so the runs side by side show what width and resampling change; seed 0 when all agree.

    Every seed's frames are kept, and the counts over all seeds are in meta: the chart can say how
    typical the one it shows is. recovered: (run, seed).
    """
    differs = np.flatnonzero(recovered.min(0) != recovered.max(0))
    return int(differs[0]) if len(differs) else 0


def run_label(d_sae: int, resample: bool) -> str:
    return f"d_sae={d_sae}" + (" + resampling" if resample else "")


# --- the chapter's run --------------------------------------------------------------------------------


@cached
def train_pentagon_sae(config: PentagonSAEConfig = PentagonSAEConfig()) -> Timeline:
    """SAEs of each size on the pentagon model's hidden layer; how many of the 5 directions they find."""
    toy = train_toy_model(config.toy)
    sparsest = int(np.argmin(config.toy.feature_probability))
    p = float(config.toy.feature_probability[sparsest])
    columns = toy["W_columns"][-1, sparsest]  # (5, 2): the displayed pentagon
    features = columns / np.linalg.norm(columns, axis=-1, keepdims=True)

    device = pick()
    generator = torch.Generator().manual_seed(config.seed)
    store = hidden_activations(columns, p, config.n_inputs, generator).to(device)
    evaluation = hidden_activations(columns, p, config.eval_size, generator).to(device)
    R, S, n = len(config.runs), config.n_seeds, len(features)
    seeds = [config.seed + s for s in range(S)]
    with torch_threads(1):  # instance = (run, seed), in that order
        run = train_saes(store, evaluation, torch.as_tensor(features, dtype=torch.float32, device=device),
                         d_sae=[d for d, _ in config.runs for _ in seeds],
                         resample=[rs for _, rs in config.runs for _ in seeds],
                         seeds=seeds * R, config=config)
    run = {name: a.reshape(a.shape[0], R, S, *a.shape[2:]) if name != "resample_steps" else a
           for name, a in run.items()}

    recovered = (run["cosine"][-1] > config.recovered_cosine).sum(-1)  # (run, seed)
    dead = run["dead"][-1].sum(-1)
    frames = {"step": display_frames(config.steps + 1, config.max_frames),  # all (frame, run, seed, ...)
              "decoder": run["decoder"], "dead": run["dead"], "latent_frequency": run["frequency"],
              "best_cosine": run["cosine"], "best_latent": run["latent"], "mse": run["mse"],
              "l1": run["l1"], "l0": run["l0"], "explained_variance": run["explained_variance"]}
    frames["n_recovered"] = (frames["best_cosine"] > config.recovered_cosine).sum(-1)
    frames["n_dead"] = frames["dead"].sum(-1)
    shown = seed_to_show(recovered)

    labels = [run_label(d, rs) for d, rs in config.runs]
    by_run = lambda a: {label: a[i].tolist() for i, label in enumerate(labels)}  # noqa: E731
    last = lambda name, digits: by_run(np.round(run[name][-1].astype(float), digits))  # noqa: E731
    return Timeline(
        frames=frames,
        fixed={
            "feature_directions": features,
            "hidden_sample": evaluation[:1000].cpu().numpy(),
            "d_sae": np.array([d for d, _ in config.runs]),
            "resample": np.array([rs for _, rs in config.runs]),
            "latent_exists": np.arange(max(d for d, _ in config.runs)) < np.array(
                [d for d, _ in config.runs])[:, None],
            "seeds": np.array(seeds),
            "shown_seed_index": np.array(shown),  # index on the seed axis of the frames
            "resample_steps": run["resample_steps"],
            "final_recovered": recovered,  # (run, seed)
            "final_dead": dead,
            "final_best_cosine": run["cosine"][-1],  # (run, seed, feature)
            "final_mse": run["mse"][-1],
            "final_l0": run["l0"][-1],
            "final_explained_variance": run["explained_variance"][-1],
        },
        meta={
            "config": plain_config(config),
            "device": describe(device),
            "run_labels": labels,
            "settings": {"d_in": 2, "n_features": n, "feature_probability": p, "steps": config.steps,
                         "lr": config.lr, "optimizer": "Adam", "batch_size": config.batch_size,
                         "l1_coefficient": config.l1_coefficient, "seeds": seeds,
                         "resample_steps": run["resample_steps"].tolist(),
                         "inputs": "nonzero hidden vectors h = W x of the displayed pentagon model"},
            "recovered_rule": f"a true direction is recovered when an alive latent's decoder column "
                              f"has cosine > {config.recovered_cosine} with it",
            "dead_rule": f"a latent is dead when it fired on none of the last {config.dead_window} "
                         "training inputs",
            "shown_seed": seeds[shown],
            "shown_seed_rule": "the first seed where the runs' recovered counts differ (else the first)",
            "recovered": by_run(recovered),
            "all_five_recovered": {label: f"{int((recovered[i] == n).sum())} of {S} seeds"
                                   for i, label in enumerate(labels)},
            "dead_latents": by_run(dead),
            "l0": last("l0", 3),
            "explained_variance": last("explained_variance", 4),
            "mse": last("mse", 5),
            "shown": {label: {"recovered": int(recovered[i, shown]), "dead": int(dead[i, shown])}
                      for i, label in enumerate(labels)},
        },
    )
