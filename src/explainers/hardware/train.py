"""The CPU vs GPU scene's runs: matrix multiply timed where the book is built (serial Python, NumPy on one
core and on all of them, torch on the CPU, and torch on the GPU in fp32 and bf16, with and without copying
inputs and result), the serial-vs-parallel schedules. ``runs.runs()`` gives both with the recorded GPU runs,
three, as the chapter uses them.

An n×n @ n×n product costs 2·n³ FLOPs (n³ multiplies, n³ adds). Every series multiplies float32 inputs
(NumPy's default would be float64; float32 is what the GPU series run, so the GFLOP/s compare), except the
Python loop, whose floats are float64 by the language's definition.

Timeline layout (``measure``): one frame per matrix size ``n``. Each series has its own arrays
``<series>.seconds``, ``.gflops``, ``.peak_fraction``, ``.repeats`` and a boolean ``<series>.measured``
that says which sizes it ran at. Unmeasured entries hold 0, never NaN: a chart must filter by the mask.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..cache import cached
from ..device import describe
from ..progress import bar
from ..timeline import Timeline
from .peak import gpu_peak, machine_cpu_peak

SIZES = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
         3072, 4096, 6144, 8192, 12288, 16384)


def matmul_flops(n: int) -> int:
    return 2 * n**3


def gflops(n: int, seconds: float) -> float:
    return matmul_flops(n) / seconds / 1e9


def time_call(fn, *, warmup: int, repeats: int, sync=None, clock=time.perf_counter) -> np.ndarray:
    """Seconds taken by each of ``repeats`` calls of ``fn``, after ``warmup`` untimed calls.

    Warm-up calls pay the one-time costs (caches, page faults, GPU kernel selection) that a steady
    workload does not. A GPU call returns before the GPU has finished, so ``sync`` (e.g.
    ``torch.cuda.synchronize``) runs before every clock read that ends a measurement.
    """
    sync = sync or (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = clock()
        fn()
        sync()
        times.append(clock() - start)
    return np.asarray(times, dtype=np.float64)


def python_matmul(a: list, b: list) -> list:
    """The serial triple loop: one output cell after another, one multiply-add at a time."""
    n, inner, p = len(a), len(b), len(b[0])
    c = [[0.0] * p for _ in range(n)]
    for i in range(n):
        for j in range(p):
            total = 0.0
            for k in range(inner):
                total += a[i][k] * b[k][j]
            c[i][j] = total
    return c


@dataclass(frozen=True)
class Series:
    name: str
    label: str
    device: str  # "cpu" or "cuda": whose peak this series is a fraction of
    dtype: str  # the element type the multiply runs in
    transfer: bool = False  # timed from host inputs to a host result (GPU only)
    blas_threads: int | None = None  # limit NumPy's BLAS to this many threads while timing


PYTHON = Series("python_loop", "Python triple loop (serial)", "cpu", "float64")
CPU_SERIES = [
    Series("numpy_1thread", "NumPy, 1 thread", "cpu", "float32", blas_threads=1),
    Series("numpy_all_cores", "NumPy, all cores", "cpu", "float32"),
    Series("torch_cpu", "torch on the CPU, all cores", "cpu", "float32"),
]
GPU_SERIES = [
    Series("torch_cuda_fp32", "GPU fp32", "cuda", "float32"),
    Series("torch_cuda_fp32_transfer", "GPU fp32 incl. copies to and from the GPU", "cuda", "float32", True),
    Series("torch_cuda_bf16", "GPU bf16 (tensor cores)", "cuda", "bfloat16"),
    Series("torch_cuda_bf16_transfer", "GPU bf16 incl. copies to and from the GPU", "cuda", "bfloat16", True),
]


def runner(series: Series, a: np.ndarray, b: np.ndarray):
    """``(fn, sync)``: one call of ``fn`` is one timed product of ``a @ b`` in the series' way."""
    if series.name == "python_loop":
        a_list, b_list = a.tolist(), b.tolist()
        return (lambda: python_matmul(a_list, b_list)), None
    if series.name.startswith("numpy"):
        return (lambda: a @ b), None
    import torch

    dtype = getattr(torch, series.dtype)
    host_a, host_b = torch.from_numpy(a).to(dtype), torch.from_numpy(b).to(dtype)
    if series.device == "cpu":
        return (lambda: host_a @ host_b), None
    if series.transfer:
        # pageable host memory, as a default user has it; the copies back wait for the GPU
        return (lambda: (host_a.to("cuda") @ host_b.to("cuda")).cpu()), torch.cuda.synchronize
    dev_a, dev_b = host_a.to("cuda"), host_b.to("cuda")
    return (lambda: dev_a @ dev_b), torch.cuda.synchronize


def blas_limit(series: Series):
    if series.blas_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=series.blas_threads, user_api="blas")


@dataclass
class BenchConfig:
    sizes: tuple[int, ...] = SIZES
    python_max_n: int = 64  # the Python loop takes ~50 ms at n=64 and 8x that per doubling
    cpu_max_n: int = 2048  # keeps the CPU part to ~10 s on 2 cores
    gpu_max_n: int = 16384
    warmup: int = 1
    repeats: int = 5
    max_run_s: float = 1.0  # a series stops growing after a size whose median exceeds this
    gpu: bool = True  # time the GPU series when CUDA is present
    seed: int = 0


def series_for(config: BenchConfig, cuda: bool) -> list[tuple[Series, int]]:
    """The series this machine runs, each with its largest size."""
    chosen = [(PYTHON, config.python_max_n)] + [(s, config.cpu_max_n) for s in CPU_SERIES]
    if cuda and config.gpu:
        chosen += [(s, config.gpu_max_n) for s in GPU_SERIES]
    return chosen


def crossover(n, gpu_seconds, gpu_measured, cpu_seconds, cpu_measured) -> int | None:
    """Smallest size from which the GPU is faster than the CPU at every larger size measured by both."""
    both = np.flatnonzero(np.asarray(gpu_measured) & np.asarray(cpu_measured))
    found = None
    for i in both[::-1]:
        if gpu_seconds[i] >= cpu_seconds[i]:
            break
        found = int(n[i])
    return found


def blas_info() -> list[dict]:
    from threadpoolctl import threadpool_info

    keep = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: lib.get(k) for k in keep} for lib in threadpool_info() if lib["user_api"] == "blas"]


def hardware_meta(cuda: bool) -> dict:
    """Where the numbers come from: devices, CPU, the peak of each device, BLAS and torch settings."""
    import torch

    cpu = machine_cpu_peak()
    meta = {
        "devices": {"cpu": describe(torch.device("cpu"))},
        "cpu": {k: cpu[k] for k in ("model", "cores", "logical_cpus", "clock_ghz", "clock_source",
                                   "flops_per_cycle")},
        "peaks": {"cpu": {"float32": cpu["float32"], "float64": cpu["float64"]}},
        "blas": blas_info(),
        "torch_cpu_threads": torch.get_num_threads(),
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
    }
    if cuda:
        meta["devices"]["cuda"] = describe(torch.device("cuda"))
        meta["peaks"]["cuda"] = gpu_peak(meta["devices"]["cuda"]["device_name"])
    return meta


def series_meta(series: Series, max_n: int, hw: dict) -> dict:
    peak = hw["peaks"][series.device][series.dtype]
    threads = {"python_loop": 1, "numpy_1thread": 1, "torch_cpu": hw["torch_cpu_threads"],
               "numpy_all_cores": max((lib["num_threads"] or 0 for lib in hw["blas"]), default=None)}
    return {"name": series.name, "label": series.label, "device": series.device, "dtype": series.dtype,
            "threads": threads.get(series.name), "includes_transfer": series.transfer, "max_n": max_n,
            "peak_gflops": peak["gflops"], "peak_source": peak["source"]}


def fraction(gflops_array: np.ndarray, peak_gflops: float | None) -> np.ndarray:
    return gflops_array / peak_gflops if peak_gflops else np.zeros_like(gflops_array)


@cached(machine=True)
def measure(config: BenchConfig) -> Timeline:
    """Time every series at every size up to its limit; one frame per size."""
    import torch

    started = time.perf_counter()
    cuda = torch.cuda.is_available()
    hw = hardware_meta(cuda)
    chosen = series_for(config, cuda)
    sizes = np.array(sorted(n for n in set(config.sizes) if any(n <= top for _, top in chosen)))
    if cuda and config.gpu:  # the first CUDA call creates the context and cuBLAS handle: not a matmul cost
        torch.ones(8, 8, device="cuda") @ torch.ones(8, 8, device="cuda")
        torch.cuda.synchronize()

    rng = np.random.default_rng(config.seed)
    frames = {"n": sizes, "flops": np.array([matmul_flops(n) for n in sizes], dtype=np.float64)}
    repeats = {s.name: np.zeros((len(sizes), config.repeats)) for s, _ in chosen}
    measured = {s.name: np.zeros(len(sizes), dtype=bool) for s, _ in chosen}
    stopped: dict[str, int] = {}
    progress = bar(total=sum(int((sizes <= top).sum()) for _, top in chosen), desc="matmul timing")
    for i, n in enumerate(sizes):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        for series, top in chosen:
            if n > top:
                continue
            progress.update(1)
            if series.name in stopped:
                continue
            fn, sync = runner(series, a, b)
            with blas_limit(series):
                times = time_call(fn, warmup=config.warmup, repeats=config.repeats, sync=sync)
            del fn  # frees GPU inputs before the next, larger size
            repeats[series.name][i], measured[series.name][i] = times, True
            if np.median(times) > config.max_run_s:
                stopped[series.name] = int(n)
    progress.close()

    series_list = []
    for series, top in chosen:
        info = series_meta(series, top, hw)
        series_list.append(info)
        mask = measured[series.name]
        seconds = np.where(mask, np.median(repeats[series.name], axis=1), 0.0)
        rate = np.where(mask, frames["flops"] / np.where(mask, seconds, 1.0) / 1e9, 0.0)
        frames[f"{series.name}.measured"] = mask
        frames[f"{series.name}.seconds"] = seconds
        frames[f"{series.name}.repeats"] = repeats[series.name]
        frames[f"{series.name}.gflops"] = rate
        frames[f"{series.name}.peak_fraction"] = fraction(rate, info["peak_gflops"])

    return Timeline(frames=frames, meta={
        "config": asdict(config),
        "source": "measured",
        "series": series_list,
        **hw,
        "crossover": crossovers(frames, series_list),
        "stopped_after": stopped,
        # a fraction above 1 means the peak's assumed clock (or FLOP/cycle) is below what the chip did
        "peak_exceeded": [s["name"] for s in series_list if frames[f"{s['name']}.peak_fraction"].max() > 1],
        "timing": {"warmup": config.warmup, "repeats": config.repeats, "statistic": "median",
                   "clock": "time.perf_counter", "gpu_sync": "torch.cuda.synchronize before each clock read"},
        "layout": "frames are sizes n; '<series>.<quantity>' arrays; '<series>.measured' marks real "
                  "entries, the others are 0 (never NaN)",
        "note": "timed on a machine that may be running other jobs: timings may be disturbed",
        "measure_time_s": round(time.perf_counter() - started, 3),
    })


def crossovers(frames: dict, series_list: list[dict]) -> dict:
    """For each GPU series: from which n it beats the fastest CPU series (None: not in the sizes run)."""
    cpu = [s["name"] for s in series_list if s["device"] == "cpu"]
    if not cpu:
        return {}
    cpu_measured = np.any([frames[f"{c}.measured"] for c in cpu], axis=0)
    cpu_best = np.min([np.where(frames[f"{c}.measured"], frames[f"{c}.seconds"], np.inf) for c in cpu], axis=0)
    out = {}
    for s in series_list:
        if s["device"] == "cuda":
            name = s["name"]
            out[name] = {"n": crossover(frames["n"], frames[f"{name}.seconds"], frames[f"{name}.measured"],
                                        cpu_best, cpu_measured),
                         "against": "the fastest CPU series at each size",
                         "compared_up_to_n": int(frames["n"][cpu_measured & frames[f"{name}.measured"]].max(
                             initial=0))}
    return out


# --- Serial vs parallel: which output cells are computed at each time step -------------------------

@dataclass
class ScheduleConfig:
    n: int = 8  # the animated product: n×n @ n×n has n² output cells
    lanes: tuple[int, ...] = (1, 8, 64)  # cells computed at once: 1 = serial; 8 = one AVX2 fp32 register
    measure_n: int = 64  # the real product timed beside the animation (the Python loop must stay quick)
    warmup: int = 1
    repeats: int = 5
    seed: int = 0


def schedule(n: int, lanes: int) -> np.ndarray:
    """Time step at which each output cell (row-major) is computed when ``lanes`` cells run at once."""
    return np.arange(n * n) // lanes


LANE_LABELS = {1: "serial: one output cell after another",
               8: "8 lanes at once (one 256-bit AVX2 register holds 8 float32)"}


@cached(machine=True)
def serial_vs_parallel(config: ScheduleConfig) -> Timeline:
    """Frames are animation time steps: which cells each schedule computes then, and which are done.

    Beside it, the real time of a serial and of vectorised/parallel products at ``measure_n``.
    """
    import torch

    cells = config.n * config.n
    steps = {lanes: schedule(config.n, lanes) for lanes in config.lanes}
    t = np.arange(max(int(s.max()) for s in steps.values()) + 2)  # the last frame shows all cells done
    frames = {"step": t}
    fixed = {"cell_row": np.arange(cells) // config.n, "cell_col": np.arange(cells) % config.n}
    for lanes, step in steps.items():
        fixed[f"lanes_{lanes}.step"] = step
        frames[f"lanes_{lanes}.active"] = t[:, None] == step[None, :]
        frames[f"lanes_{lanes}.done"] = t[:, None] > step[None, :]

    rng = np.random.default_rng(config.seed)
    a = rng.standard_normal((config.measure_n,) * 2, dtype=np.float32)
    b = rng.standard_normal((config.measure_n,) * 2, dtype=np.float32)
    approaches = [PYTHON, *CPU_SERIES[:2]] + ([GPU_SERIES[0]] if torch.cuda.is_available() else [])
    rows = []
    for series in approaches:
        fn, sync = runner(series, a, b)
        with blas_limit(series):
            rows.append(time_call(fn, warmup=config.warmup, repeats=config.repeats, sync=sync))
    seconds = np.median(rows, axis=1)
    fixed["measured.seconds"] = seconds
    fixed["measured.repeats"] = np.array(rows)
    fixed["measured.gflops"] = matmul_flops(config.measure_n) / seconds / 1e9
    return Timeline(frames=frames, fixed=fixed, meta={
        "config": asdict(config),
        "schedules": [{"name": f"lanes_{lanes}", "lanes": lanes, "steps": int(steps[lanes].max()) + 1,
                       "label": LANE_LABELS.get(lanes, f"{lanes} lanes at once" if lanes < cells
                                                else "all cells at once (a GPU runs a thread per cell)")}
                      for lanes in config.lanes],
        "measured": [{"name": s.name, "label": s.label, "device": s.device, "n": config.measure_n,
                      "median_s": float(sec),
                      "gflops": float(matmul_flops(config.measure_n) / sec / 1e9),
                      "speedup_vs_serial": float(seconds[0] / sec)}
                     for s, sec in zip(approaches, seconds)],
        "devices": {"cpu": describe(torch.device("cpu")),
                    **({"cuda": describe(torch.device("cuda"))} if torch.cuda.is_available() else {})},
        "cpu_count": os.cpu_count(),
        "note": "timed on a machine that may be running other jobs: timings may be disturbed",
    })


# --- the scene's runs ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class HardwareConfig:
    bench: BenchConfig = field(default_factory=BenchConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)


def tiny_config() -> HardwareConfig:
    """Sizes small enough for tests: a few milliseconds of timing."""
    return HardwareConfig(
        BenchConfig(sizes=(8, 16, 32, 64), python_max_n=16, cpu_max_n=64, gpu_max_n=64, warmup=0, repeats=2),
        ScheduleConfig(n=4, lanes=(1, 4, 16), measure_n=16, warmup=0, repeats=2))

