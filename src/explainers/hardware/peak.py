"""Peak FLOP/s of the devices a benchmark ran on: the ceiling each measurement is a fraction of.

CPU: cores × clock × FLOPs per cycle per core, read from the machine (``/proc/cpuinfo`` and, when the
kernel exposes it, ``cpufreq``). GPU: NVIDIA's datasheet figures, dense (a figure printed with 2:4 sparsity is halved).
Every peak carries a ``source`` string that says where each factor came from and what was assumed.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
MAX_FREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")


def parse_cpuinfo(text: str) -> dict:
    """The fields a peak needs, from the text of ``/proc/cpuinfo`` (first processor; cores counted)."""
    fields: dict[str, str] = {}
    cores, logical = set(), 0
    physical_id = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            logical += 1
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            cores.add((physical_id, value))
        if key and key not in fields:
            fields[key] = value
    return {
        "model": fields.get("model name", "unknown CPU"),
        "vendor": fields.get("vendor_id", ""),
        "family": int(fields["cpu family"]) if fields.get("cpu family", "").isdigit() else None,
        "model_number": int(fields["model"]) if fields.get("model", "").isdigit() else None,
        "mhz": float(fields["cpu MHz"]) if "cpu MHz" in fields else None,
        "flags": set(fields.get("flags", "").split()),
        "logical_cpus": logical,
        # without "core id" lines (some VMs, ARM) every logical CPU counts as a core
        "physical_cores": len(cores) or logical,
    }


def fp32_flops_per_cycle(info: dict) -> tuple[int, str]:
    """fp32 FLOPs one core can retire per cycle: SIMD lanes × 2 (an FMA is 2 FLOPs) × FMA units."""
    flags, vendor, family, model = info["flags"], info["vendor"], info["family"], info["model_number"]
    if "avx512f" in flags:
        if vendor == "AuthenticAMD" and family == 25:
            return 32, "AVX-512 on AMD Zen 4: 512-bit ops run on 256-bit units, same as AVX2+FMA"
        return 64, "AVX-512: 16 fp32 lanes × 2 (FMA) × 2 FMA units (some Xeons have 1 unit: half)"
    if "avx2" in flags and "fma" in flags:
        if vendor == "AuthenticAMD" and family == 23 and (model or 0) < 0x30:
            return 16, "AVX2+FMA on AMD Zen 1: 2 FMA units of 128 bits"
        return 32, "AVX2+FMA: 8 fp32 lanes × 2 (FMA) × 2 FMA units (Intel Haswell+, AMD Zen 2+)"
    if "avx" in flags:
        return 16, "AVX without FMA: one 8-lane add and one 8-lane multiply per cycle"
    return 8, "SSE: one 4-lane add and one 4-lane multiply per cycle"


def cpu_peak(cpuinfo_text: str, max_freq_khz: str | None = None, cores: int | None = None) -> dict:
    """Peak fp32 and fp64 GFLOP/s of ``cores`` cores (default: all physical cores in the text)."""
    info = parse_cpuinfo(cpuinfo_text)
    if max_freq_khz and max_freq_khz.strip().isdigit():
        ghz, clock_source = int(max_freq_khz) / 1e6, "cpufreq cpuinfo_max_freq (maximum boost clock)"
    elif info["mhz"]:
        ghz = info["mhz"] / 1e3
        clock_source = ("'cpu MHz' in /proc/cpuinfo (no cpufreq: the clock the kernel or hypervisor "
                        "reports; a boost clock can be higher, so a measurement can exceed this peak)")
    else:
        raise ValueError("no clock in cpuinfo and no cpufreq maximum: cannot compute a CPU peak")
    cores = cores or info["physical_cores"]
    fp32_cycle, why = fp32_flops_per_cycle(info)
    out = {"model": info["model"], "cores": cores, "logical_cpus": info["logical_cpus"],
           "clock_ghz": round(ghz, 4), "clock_source": clock_source,
           "flops_per_cycle": {"float32": fp32_cycle, "float64": fp32_cycle // 2}}
    for dtype, per_cycle in out["flops_per_cycle"].items():
        gflops = cores * ghz * per_cycle
        out[dtype] = {"gflops": round(gflops, 2), "source": (
            f"{cores} cores × {ghz:.3f} GHz × {per_cycle} {dtype} FLOP/cycle/core = {gflops:.1f} GFLOP/s. "
            f"Clock: {clock_source}. FLOP/cycle: {why}"
            + ("; fp64 has half the lanes." if dtype == "float64" else "."))}
    return out


def usable_cores(info: dict) -> int:
    """Physical cores this process may run on (affinity can be narrower than the machine)."""
    threads_per_core = max(1, info["logical_cpus"] // max(1, info["physical_cores"]))
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        allowed = os.cpu_count() or 1
    return max(1, min(info["physical_cores"], allowed // threads_per_core))


def machine_cpu_peak() -> dict:
    """``cpu_peak`` of the machine this runs on."""
    text = CPUINFO.read_text() if CPUINFO.exists() else ""
    max_khz = MAX_FREQ.read_text() if MAX_FREQ.exists() else None
    return cpu_peak(text, max_khz, usable_cores(parse_cpuinfo(text)))


# Datasheet peaks, in TFLOP/s: fp32 on the CUDA cores (what torch's fp32 matmul uses at its default
# "highest" precision, no TF32) and bf16 on the tensor cores. Most datasheets print the tensor-core rates
# "with sparsity" (2:4 structured sparsity: half the weights zero, their products skipped); a dense product
# runs at half that rate, so a printed sparse figure is halved here and the halving is named in the source.
# First matching pattern wins: names as torch.cuda.get_device_name gives them.


@dataclass(frozen=True)
class GpuPeak:
    pattern: str
    card: str  # the datasheet column
    fp32: float  # TFLOP/s, dense (the CUDA cores have no sparsity mode)
    bf16_printed: float | None  # TFLOP/s as printed; None: no bf16 tensor cores
    bf16_sparse: bool  # the printed bf16 figure is "with sparsity"
    document: str  # where the figures are printed

    @property
    def bf16_dense(self) -> float | None:
        if self.bf16_printed is None:
            return None
        return self.bf16_printed / 2 if self.bf16_sparse else self.bf16_printed

    def bf16_source(self) -> str:
        if self.bf16_printed is None:
            return f"{self.document}, {self.card}: no bf16 tensor cores"
        if self.bf16_sparse:
            return (f"{self.document}, {self.card}: BF16 Tensor Core {self.bf16_printed:,g} TFLOPS printed "
                    f"with sparsity; dense = {self.bf16_printed:,g} / 2 = {self.bf16_dense:,g} TFLOP/s")
        return f"{self.document}, {self.card}: BF16 Tensor Core {self.bf16_printed:,g} TFLOPS dense"

    def fp32_source(self) -> str:
        return f"{self.document}, {self.card}: FP32 {self.fp32:,g} TFLOPS"


HOPPER = "NVIDIA H100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h100)"
H200 = "NVIDIA H200 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h200)"
GPU_PEAKS = [
    GpuPeak(r"\bH100\b.*\bNVL\b", "H100 NVL", 60.0, 1671.0, True, HOPPER),
    GpuPeak(r"\bH100\b.*PCIe", "H100 PCIe", 51.0, 1513.0, True, HOPPER),
    GpuPeak(r"\bH100\b.*(SXM|HBM3)", "H100 SXM", 67.0, 1979.0, True, HOPPER),
    GpuPeak(r"\bH200\b.*\bNVL\b", "H200 NVL", 60.0, 1671.0, True, H200),
    GpuPeak(r"\bH200\b", "H200 SXM", 67.0, 1979.0, True, H200),
    GpuPeak(r"\bA100\b", "A100 (SXM and PCIe)", 19.5, 312.0, False,
            "NVIDIA A100 Tensor Core GPU datasheet (BF16 312 TFLOPS dense, 624 with sparsity)"),
    GpuPeak(r"\bL40S\b", "L40S", 91.6, 362.05, False,
            "NVIDIA L40S datasheet (BF16 362.05 TFLOPS dense, 733 with sparsity)"),
    GpuPeak(r"\bL4\b", "L4", 30.3, 242.0, True, "NVIDIA L4 Tensor Core GPU datasheet"),
    GpuPeak(r"\bA10\b", "A10", 31.2, 125.0, False,
            "NVIDIA A10 Tensor Core GPU datasheet (BF16 125 TFLOPS dense, 250 with sparsity)"),
    GpuPeak(r"\bT4\b", "T4", 8.1, None, False, "NVIDIA T4 Tensor Core GPU datasheet (Turing)"),
    GpuPeak(r"RTX 4090(?! D)", "GeForce RTX 4090", 82.6, 165.2, False,
            "NVIDIA Ada GPU Architecture whitepaper, Appendix A (BF16 with FP32 accumulate 165.2 dense, "
            "330.4 with sparsity)"),
]


def gpu_peak(device_name: str) -> dict:
    """Datasheet peaks for a GPU named as ``torch.cuda.get_device_name`` names it; None when unknown."""
    for row in GPU_PEAKS:
        if re.search(row.pattern, device_name):
            bf16 = row.bf16_dense
            return {"float32": {"gflops": row.fp32 * 1e3, "source": row.fp32_source()},
                    "bfloat16": {"gflops": bf16 * 1e3 if bf16 else None, "source": row.bf16_source()}}
    unknown = {"gflops": None, "source": f"{device_name!r} is not in explainers.hardware.peak.GPU_PEAKS"}
    return {"float32": dict(unknown), "bfloat16": dict(unknown)}
