"""Recorded GPU runs: what the chapter shows when the machine building the book has no GPU.

A record is one ``measure`` Timeline made on a machine with a GPU, stored as JSON in ``records/`` with
its provenance (device, driver, torch and CUDA versions, date, the exact command). Since the recorder
also times the book's own small trainers on the CPU and on the GPU, a record may hold those too, as
``meta["trainers"]`` (see ``trainer_times``). Make one with

    python -m explainers.hardware.records            # on a machine with an NVIDIA GPU
    python -m explainers.hardware.records --smoke    # anywhere, in seconds: tiny settings, writes nothing

The recorder needs torch, numpy, scikit-learn's threadpoolctl and tqdm; not Bokeh. A trainer whose
package (gymnasium) or data (California Housing) is missing is recorded as skipped, with the reason.
A record that lacks any provenance field, or holds no GPU measurement, is rejected, never shown.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..timeline import Timeline
from .train import BenchConfig, measure
from .trainer_times import check_trainer_times, time_trainers

RECORDS_DIR = Path(__file__).resolve().parent / "records"
FORMAT = "explainers.hardware.record/1"
PROVENANCE = ("device_name", "driver", "torch", "cuda", "date", "command")


class RecordError(ValueError):
    """A recorded run that cannot be trusted: the message names the file and what is wrong."""


def to_record(timeline: Timeline, provenance: dict) -> dict:
    """A plain-JSON record of ``timeline`` (a ``measure`` result) with its provenance."""
    return {"format": FORMAT, "provenance": provenance,
            "frames": {k: v.tolist() for k, v in timeline.frames.items()},
            "fixed": {k: v.tolist() for k, v in timeline.fixed.items()},
            "meta": timeline.meta}


def from_record(record: dict, name: str = "record", require_gpu: bool = True) -> Timeline:
    """The Timeline in ``record``, after checking everything the chapter relies on."""
    def fail(why):
        raise RecordError(f"{name}: {why}")

    if not isinstance(record, dict) or record.get("format") != FORMAT:
        fail(f"not a hardware record (expected format {FORMAT!r})")
    provenance = record.get("provenance")
    if not isinstance(provenance, dict):
        fail("no provenance")
    missing = [k for k in PROVENANCE if not isinstance(provenance.get(k), str) or not provenance[k].strip()]
    if missing:
        fail(f"provenance lacks {', '.join(missing)}; a run without them cannot be shown")
    try:
        timeline = Timeline(frames={k: np.asarray(v) for k, v in record["frames"].items()},
                            fixed={k: np.asarray(v) for k, v in record.get("fixed", {}).items()},
                            meta=dict(record["meta"]))
    except (KeyError, TypeError, ValueError) as error:
        fail(f"malformed timeline ({error})")
    for key, array in {**timeline.frames, **timeline.fixed}.items():
        if array.dtype.kind not in "biuf" or (array.dtype.kind == "f" and not np.isfinite(array).all()):
            fail(f"array {key!r} is not finite numbers")
    series = timeline.meta.get("series") or []
    for s in series:
        needed = [f"{s.get('name')}.{q}" for q in ("measured", "seconds", "gflops", "peak_fraction")]
        if any(k not in timeline.frames for k in needed):
            fail(f"series {s.get('name')!r} lacks its arrays")
    if require_gpu and not any(s.get("device") == "cuda" and timeline.frames[f"{s['name']}.measured"].any()
                               for s in series):
        fail("holds no GPU measurement")
    if "trainers" in timeline.meta:
        problem = check_trainer_times(timeline.meta["trainers"])
        if problem:
            fail(problem)
    timeline.meta.update(source="recorded", provenance=provenance, record_file=name)
    return timeline


def load_records(folder: Path | str = RECORDS_DIR) -> list[Timeline]:
    """Every record in ``folder``, oldest name first; a bad one raises RecordError naming the file."""
    timelines = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise RecordError(f"{path.name}: unreadable ({error})") from error
        timelines.append(from_record(record, path.name))
    return timelines


def driver_version() -> str:
    """The NVIDIA driver version, from nvidia-smi or the kernel module; "" when neither answers."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.splitlines()[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        found = re.search(r"Kernel Module\s+([\d.]+)", Path("/proc/driver/nvidia/version").read_text())
        return found.group(1) if found else ""
    except OSError:
        return ""


def write_record(record: dict, folder: Path) -> Path:
    """Write atomically, named by date and device, so records sort by date."""
    provenance = record["provenance"]
    slug = re.sub(r"[^a-z0-9]+", "-", provenance["device_name"].lower()).strip("-")
    path = folder / f"{provenance['date'][:10]}-{slug}.json"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> Path | None:
    parser = argparse.ArgumentParser(prog="python -m explainers.hardware.records",
                                     description="Time the GPU benchmark and store it as a record.")
    parser.add_argument("--out", type=Path, default=RECORDS_DIR, help="folder for the record")
    parser.add_argument("--gpu-max-n", type=int, default=BenchConfig.gpu_max_n)
    parser.add_argument("--trainer-repeats", type=int, default=2,
                        help="timed runs of each book trainer per device (after one tiny warm-up run)")
    parser.add_argument("--no-trainers", action="store_true", help="time the matrix products only")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and trainer settings on the devices present; check, write nothing")
    args = parser.parse_args(argv)

    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        parser.exit(1, "No CUDA GPU here: nothing to record (records hold real GPU runs only).\n")
    driver = driver_version() if cuda else "none (smoke run without a GPU)"
    if not driver:
        parser.exit(1, "Cannot read the NVIDIA driver version (nvidia-smi, /proc/driver/nvidia): "
                       "a record needs it.\n")
    config = replace(BenchConfig(), gpu_max_n=args.gpu_max_n)
    if args.smoke:
        config = BenchConfig(sizes=(8, 16, 32), python_max_n=16, cpu_max_n=32, gpu_max_n=32, repeats=2)
    started = time.perf_counter()
    timeline = measure.uncached(config)  # a record is a fresh run, never a cache hit
    if not args.no_trainers:
        devices = ["cpu", "cuda"] if cuda else ["cpu"]
        timeline.meta["trainers"] = time_trainers(devices, repeats=1 if args.smoke else args.trainer_repeats,
                                                  tiny=args.smoke, log=lambda line: print(line, flush=True))
    timeline.meta["record_time_s"] = round(time.perf_counter() - started, 3)
    argv = sys.argv[1:] if argv is None else argv
    provenance = {
        "device_name": torch.cuda.get_device_name(0) if cuda else "no GPU",
        "driver": driver,
        "torch": torch.__version__,
        "cuda": (torch.version.cuda or "") if cuda else "none (smoke run without a GPU)",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "explainers.hardware.records", *argv]),
    }
    record = to_record(timeline, provenance)
    # never write what load_records rejects
    from_record(json.loads(json.dumps(record)), "new record", require_gpu=not args.smoke)
    if args.smoke:
        print(f"smoke run passed in {timeline.meta['record_time_s']:.1f} s; nothing written")
        return None
    path = write_record(record, args.out)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
