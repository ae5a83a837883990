"""Where a run computes: the GPU when one is present, else the CPU. Every result records which."""
from __future__ import annotations

import platform
import sys
from contextlib import contextmanager

import numpy as np


_forced: list[str] = []  # set by ``forced``: the device every ``pick`` returns meanwhile


def pick():
    """The torch device to train on: ``cuda`` when present, otherwise ``cpu`` (or the ``forced`` one)."""
    import torch

    if _forced:
        return torch.device(_forced[-1])
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextmanager
def forced(device: str):
    """Make every trainer's ``pick()`` return ``device`` inside the block (to time one on each device)."""
    _forced.append(device)
    try:
        yield
    finally:
        _forced.pop()


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(device=None) -> dict:
    """A plain-JSON record of where a run computed and with which library versions."""
    import torch

    device = device or pick()
    import os

    record = {
        "device": str(device.type),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    if device.type == "cuda":
        record["cuda"] = torch.version.cuda
    return record


@contextmanager
def torch_threads(n: int = 1):
    """Run torch on ``n`` CPU threads, restoring the caller's setting afterwards.

    The book's models are tiny; splitting their matrices across threads costs more than it saves, and
    on a busy 2-core machine two threads ran 7 to 30 times slower than one (measured for CartPole, the
    superposition toys and the patch dictionary). Harmless on a GPU, whose work does not use them.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
