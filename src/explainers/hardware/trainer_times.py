"""The book's own small trainers, timed on the CPU and on the GPU: where a GPU does not help.

Each trainer runs with the settings its chapter uses, uncached (a timing is a fresh run), on each device
in turn: ``explainers.device.forced`` makes the trainer's ``pick()`` return that device. Before the timed
runs, one run of a tiny config on the same device pays the one-time costs (CUDA kernels loaded on first
use, the environment registered), which the book's build pays once for all its chapters.

The result is plain JSON (it is stored in a hardware record): one entry per trainer, with either the
seconds of each timed run per device, or why it was skipped (a missing package or data set) or failed.
No torch import at module level: ``records`` imports this, and a record's reader needs no torch.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Trainer:
    name: str
    label: str  # what the chapter calls it
    page: str  # the chapter that trains it, under book/
    module: str
    function: str  # a ``cached`` function of one config
    config: str  # the config class in ``module``; its defaults are the book's settings
    tiny: dict = field(default_factory=dict)  # overrides for the warm-up and smoke runs
    needs: tuple[str, ...] = ()  # packages beyond torch and numpy
    housing: bool = False  # reads California Housing
    prerequisite: tuple[str, str] | None = None  # (cached function, config field) run before timing


TRAINERS = (
    Trainer("regression", "One neuron: linear regression by gradient descent", "one-neuron",
            "explainers.regression.train", "train", "RegressionConfig", {"steps": 2}, housing=True),
    Trainer("cartpole", "CartPole agent: REINFORCE until solved", "learning-from-reward",
            "explainers.cartpole.train", "train", "CartPoleConfig",
            {"max_episodes": 8, "episodes_per_update": 8, "grid_size": 3, "eval_episodes": 1},
            needs=("gymnasium",)),
    Trainer("dictionary", "Unmixer: a dictionary of strokes", "unmixer",
            "explainers.unmixer.train", "train_dictionary", "DictionaryConfig",
            {"steps": 4, "checkpoint_every": 2}),
    Trainer("toy_model", "Superposition: the toy models", "superposition",
            "explainers.superposition.toy", "train_toy_model", "ToyConfig",
            {"steps": 4, "n_seeds": 1, "eval_size": 64}),
    Trainer("phase_diagram", "Superposition: the phase diagram", "superposition",
            "explainers.superposition.toy", "phase_diagram", "PhaseConfig",
            {"n_density": 2, "n_importance": 2, "n_seeds": 1, "steps": 4, "max_frames": 3}),
    Trainer("pentagon_sae", "Superposition: SAEs on the pentagon", "superposition",
            "explainers.superposition.pentagon_sae", "train_pentagon_sae", "PentagonSAEConfig",
            {"steps": 4, "n_seeds": 1, "n_inputs": 256, "eval_size": 64, "max_frames": 3, "dead_window": 64,
             "toy": {"steps": 4, "n_seeds": 1, "eval_size": 64}},
            prerequisite=("train_toy_model", "toy")),
)


def with_overrides(config, overrides: dict):
    """``config`` with ``overrides`` applied; a dict value overrides fields of a nested config."""
    changes = {k: with_overrides(getattr(config, k), v) if isinstance(v, dict) else v
               for k, v in overrides.items()}
    return dataclasses.replace(config, **changes)


def config_of(trainer: Trainer, tiny: bool = False):
    module = importlib.import_module(trainer.module)
    book = getattr(module, trainer.config)()
    return with_overrides(book, trainer.tiny) if tiny else book


def plain(config) -> dict:
    return json_safe(dataclasses.asdict(config))


def json_safe(value):
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: a module blocked by a None in sys.modules
        return False


def why_skipped(trainer: Trainer) -> str | None:
    """Why ``trainer`` cannot run here (a missing package or data set), or None."""
    missing = [m for m in trainer.needs if not importable(m)]
    if missing:
        return f"needs {', '.join(missing)}, not installed on this machine"
    if trainer.housing:
        from ..data import CALIFORNIA_HOUSING_ENV, california_housing_files

        if not california_housing_files():  # never try a download: a GPU machine may have no network
            return f"California Housing is not on this machine (set {CALIFORNIA_HOUSING_ENV})"
    return None


def ran_on(meta: dict) -> str | None:
    """The device type a trainer's Timeline says it ran on (its ``describe`` record)."""
    for value in meta.values():
        if isinstance(value, dict) and "device_name" in value and "device" in value:
            return value["device"]
    return None


def time_one(trainer: Trainer, device: str, repeats: int, tiny: bool = False) -> dict:
    """Seconds of each of ``repeats`` runs of ``trainer`` on ``device``, after a tiny warm-up run."""
    import torch

    from ..device import forced

    module = importlib.import_module(trainer.module)
    run = getattr(module, trainer.function).uncached
    config, warm = config_of(trainer, tiny), config_of(trainer, tiny=True)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with forced(device):
        if trainer.prerequisite:  # cached, as in the book: its time is another trainer's
            function, name = trainer.prerequisite
            getattr(module, function)(getattr(config, name))
        run(warm)
        sync()
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = run(config)
            sync()
            seconds.append(time.perf_counter() - start)
    where = ran_on(result.meta)
    if where != device:
        raise RuntimeError(f"{trainer.name} was asked to run on {device} but says it ran on {where}")
    # frames: how much the last run recorded (CartPole stops when solved, which can differ by device)
    return {"seconds": [round(s, 6) for s in seconds], "median_s": round(float(np.median(seconds)), 6),
            "frames": int(result.n_frames)}


def time_trainers(devices: list[str], repeats: int = 2, tiny: bool = False,
                  trainers=TRAINERS, log=print) -> dict:
    """Every trainer on every device in ``devices``: plain JSON, for a hardware record."""
    import torch

    from ..device import describe

    entries = []
    previous = os.environ.get("EXPLAINERS_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["EXPLAINERS_CACHE"] = cache  # prerequisites computed here, never the user's cache
        try:
            for trainer in trainers:
                entry = {"name": trainer.name, "label": trainer.label, "page": trainer.page,
                         "function": f"{trainer.module}.{trainer.function}"}
                skipped = why_skipped(trainer)
                if skipped:
                    entries.append({**entry, "skipped": skipped})
                    log(f"{trainer.name}: skipped ({skipped})")
                    continue
                entry["config"] = plain(config_of(trainer, tiny))
                for device in devices:
                    try:
                        entry[device] = time_one(trainer, device, repeats, tiny)
                        log(f"{trainer.name} on {device}: {entry[device]['median_s']:.3g} s")
                    except Exception as error:  # noqa: BLE001 - one failing trainer must not lose the record
                        entry[device] = {"failed": f"{type(error).__name__}: {error}"[:500]}
                        log(f"{trainer.name} on {device}: FAILED {entry[device]['failed']}")
                entries.append(entry)
        finally:
            if previous is None:
                os.environ.pop("EXPLAINERS_CACHE", None)
            else:
                os.environ["EXPLAINERS_CACHE"] = previous
    return {"devices": list(devices), "repeats": repeats, "statistic": "median", "tiny": tiny,
            "warmup": "one run of a tiny config on the same device first (one-time costs)",
            "torch_cpu_threads": torch.get_num_threads(),
            "cpu": describe(torch.device("cpu"))["device_name"],
            "runs": entries}


def check_trainer_times(times: dict) -> str | None:
    """What is wrong with a record's ``trainers`` entry, or None when it can be shown."""
    if not isinstance(times, dict) or not isinstance(times.get("runs"), list):
        return "trainers: no list of runs"
    devices = times.get("devices")
    if not isinstance(devices, list) or not all(d in ("cpu", "cuda") for d in devices):
        return "trainers: devices must be a list of 'cpu' and 'cuda'"
    for entry in times["runs"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            return "trainers: a run without a name"
        if "skipped" in entry:
            continue
        for device in devices:
            timing = entry.get(device)
            if not isinstance(timing, dict):
                return f"trainers: {entry['name']} has no {device} entry"
            if "failed" in timing:
                continue
            seconds = timing.get("seconds")
            if (not isinstance(seconds, list) or not seconds
                    or not all(isinstance(s, (int, float)) and np.isfinite(s) and s > 0 for s in seconds)):
                return f"trainers: {entry['name']} on {device} has no positive finite seconds"
    return None
