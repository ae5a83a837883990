"""The CPU vs GPU chapter's runs, as ``charts`` and ``facts`` read them: this machine's benchmark, the
serial-vs-parallel schedules and the recorded GPU runs (``runs()``), and sizes small enough for tests
(``tiny_config()``)."""
from __future__ import annotations

from dataclasses import dataclass

from ..runs import Runs
from ..timeline import Timeline
from .records import load_records
from .train import HardwareConfig, measure, serial_vs_parallel, tiny_config

__all__ = ["HardwareRuns", "runs", "tiny_config"]


@dataclass(frozen=True)
class HardwareRuns(Runs):
    bench: Timeline  # ``train.measure`` on this machine
    steps: Timeline  # ``train.serial_vs_parallel``
    records: tuple[Timeline, ...] = ()  # recorded GPU runs (``records.load_records``)


def runs(config: HardwareConfig | None = None) -> HardwareRuns:
    """The chapter's runs (from the cache when this machine measured them before) and the shipped records."""
    config = config or HardwareConfig()
    return HardwareRuns(measure(config.bench), serial_vs_parallel(config.schedule), tuple(load_records()))
