"""The CPU vs GPU chapter's runs, as ``charts`` and ``facts`` read them: this machine's benchmark, the
serial-vs-parallel schedules and the recorded GPU runs (``runs()``), and sizes small enough for tests
(``tiny_config()``)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..runs import Runs
from ..timeline import Timeline
from .records import load_records
from .train import HardwareConfig, measure, serial_vs_parallel, tiny_config

__all__ = ["Bench", "CPU", "HardwareRuns", "Schedules", "runs", "tiny_config"]


@dataclass(frozen=True)
class CPU:
    model: str = "unknown CPU"
    cores: int = 1
    clock_ghz: float = 0.0
    clock_source: str = ""  # where the clock was read, in words
    flops_per_cycle: dict = field(default_factory=dict)  # dtype -> FLOPs per cycle per core


@dataclass(frozen=True)
class Bench:
    """One matmul benchmark (``train.measure``): this machine's, or a recorded GPU run."""
    timeline: Timeline  # one frame per size ``n``: ``<series>.<quantity>`` arrays (``words.series_arrays``)
    series: tuple[dict, ...] = ()  # each series' name, label, device, dtype, threads, peak
    cpu: CPU = field(default_factory=CPU)
    python_version: str = ""
    torch_version: str = ""
    numpy_version: str = ""
    gpu_name: str | None = None  # None: no GPU measured
    blas: tuple[str, ...] = ()  # the BLAS libraries NumPy used, as "name version"
    peaks: dict = field(default_factory=dict)  # device -> dtype -> {"gflops", "source"}
    peak_exceeded: tuple[str, ...] = ()  # series whose rate went above their device's computed peak
    crossover: dict = field(default_factory=dict)  # GPU series -> where it first beat the fastest CPU series
    timing_repeats: int = 0
    measure_time_s: float | None = None
    recorded: bool = False  # a shipped record (``records/``), not measured by this build
    provenance: dict | None = None  # a record's device, driver, CUDA, torch, date and command
    trainers: dict | None = None  # the book's trainers timed on the CPU and the GPU (some records)
    measured_on: str = ""  # the date: a record's provenance, else when the cache stored it

    @classmethod
    def from_timeline(cls, t: Timeline) -> "Bench":
        meta = t.meta
        cpu, host = meta.get("cpu", {}), meta.get("devices", {}).get("cpu", {})
        cuda = meta.get("devices", {}).get("cuda")
        recorded = meta.get("source") == "recorded"
        provenance = meta.get("provenance")
        return cls(
            t, tuple(meta.get("series", ())),
            CPU(cpu.get("model", "unknown CPU"), cpu.get("cores", 1), cpu.get("clock_ghz", 0.0),
                cpu.get("clock_source", ""), cpu.get("flops_per_cycle", {})),
            host.get("python", ""), host.get("torch", ""), host.get("numpy", ""),
            cuda["device_name"] if cuda else None,
            tuple(f"{b['internal_api']} {b['version']}" for b in meta.get("blas", [])), meta.get("peaks", {}),
            tuple(meta.get("peak_exceeded", ())), meta.get("crossover", {}), meta.get("timing", {}).get("repeats", 0),
            meta.get("measure_time_s"), recorded, provenance, meta.get("trainers"),
            (provenance["date"] if recorded else meta.get("computed_at", ""))[:10])


@dataclass(frozen=True)
class Schedules:
    """One small product computed serially and in parallel waves (``train.serial_vs_parallel``)."""
    timeline: Timeline  # per time step: ``<schedule>.active`` / ``.done`` cells; the cells' rows and columns
    n: int  # the product's side: n² cells
    measure_n: int  # the side of the product timed for real
    repeats: int
    schedules: tuple[dict, ...]  # name, lanes, steps, label
    measured: tuple[dict, ...]  # each approach timed: label, device, median_s, gflops, speedup_vs_serial
    devices: dict  # "cpu"/"cuda" -> where it ran

    @classmethod
    def from_timeline(cls, t: Timeline) -> "Schedules":
        meta, config = t.meta, t.meta["config"]
        return cls(t, config["n"], config["measure_n"], config["repeats"], tuple(meta["schedules"]),
                   tuple(meta["measured"]), meta["devices"])


@dataclass(frozen=True)
class HardwareRuns(Runs):
    bench: Bench  # ``train.measure`` on this machine
    steps: Schedules  # ``train.serial_vs_parallel``
    records: tuple[Bench, ...] = ()  # recorded GPU runs (``records.load_records``)

    @classmethod
    def from_timelines(cls, bench: Timeline, steps: Timeline, records=()) -> "HardwareRuns":
        return cls(Bench.from_timeline(bench), Schedules.from_timeline(steps),
                   tuple(Bench.from_timeline(r) for r in records))


def runs(config: HardwareConfig | None = None) -> HardwareRuns:
    """The chapter's runs (from the cache when this machine measured them before) and the shipped records."""
    config = config or HardwareConfig()
    return HardwareRuns.from_timelines(measure(config.bench), serial_vs_parallel(config.schedule), load_records())
