"""Where a run computes: the GPU when one is present, else the CPU. Every result records which."""
from __future__ import annotations

import platform
import sys

import numpy as np


def pick():
    """The torch device to train on: ``cuda`` when present, otherwise ``cpu``."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
