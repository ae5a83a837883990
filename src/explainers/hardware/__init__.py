"""CPU vs GPU: matrix multiply measured where the book is built.

``measure(BenchConfig()) -> Timeline``: time and GFLOP/s per matrix size for serial Python, NumPy (one
thread, all cores), torch on the CPU and, when CUDA is present, torch on the GPU (fp32, bf16, with and
without copies). ``serial_vs_parallel(ScheduleConfig()) -> Timeline``: the order output cells are
computed serially and in parallel waves, plus real times. ``load_records()``: recorded GPU runs.
"""
from .bench import BenchConfig, ScheduleConfig, measure, serial_vs_parallel

__all__ = ["BenchConfig", "ScheduleConfig", "measure", "serial_vs_parallel", "load_records"]


def __getattr__(name):
    # imported on first use, so `python -m explainers.hardware.records` runs the module only once
    if name == "load_records":
        from .records import load_records

        return load_records
    raise AttributeError(name)
