"""Measure the hardware chapter's benchmark afresh on this machine and print what it found.

    .venv/bin/python benchmarks/hardware.py

Bypasses the cache (a benchmark answers "what does this machine do now"). Other jobs running on the
machine disturb the timings: read the figures as this run's, not the hardware's final word.
"""
import time

import numpy as np

from explainers.hardware.records import load_records
from explainers.hardware.train import BenchConfig, ScheduleConfig, measure, serial_vs_parallel


def main():
    started = time.perf_counter()
    timeline = measure.uncached(BenchConfig())
    meta = timeline.meta
    print(f"CPU: {meta['cpu']['model']}, {meta['cpu']['cores']} cores; "
          f"GPU: {meta['devices'].get('cuda', {}).get('device_name', 'none')}")
    for device, peaks in meta["peaks"].items():
        for dtype, p in peaks.items():
            print(f"peak {device} {dtype}: {p['gflops']} GFLOP/s  ({p['source']})")
    print(f"\n{'series':26} {'sizes':>11} {'best GFLOP/s':>12} {'at n':>6} {'of peak':>8} {'largest n: s':>14}")
    for s in meta["series"]:
        name, mask = s["name"], timeline[f"{s['name']}.measured"]
        n, rate = timeline["n"][mask], timeline[f"{name}.gflops"][mask]
        best = int(np.argmax(rate))
        print(f"{name:26} {f'{n[0]}-{n[-1]}':>11} {rate[best]:12.3f} {n[best]:6d} "
              f"{timeline[f'{name}.peak_fraction'][mask][best] * 100:7.3g}% {timeline[f'{name}.seconds'][mask][-1]:14.6f}")
    print(f"crossover (GPU incl. copies beats the CPU): {meta['crossover'] or 'no GPU here'}")
    print(f"stopped early (a run exceeded max_run_s): {meta['stopped_after'] or 'none'}")
    print(f"above the computed peak (clock assumption too low): {meta['peak_exceeded'] or 'none'}")
    print(f"measurement time: {meta['measure_time_s']:.1f} s")

    steps = serial_vs_parallel.uncached(ScheduleConfig())
    print("\nserial vs vectorised at n =", ScheduleConfig().measure_n)
    for m in steps.meta["measured"]:
        print(f"  {m['name']:18} {m['median_s'] * 1e3:10.4f} ms  {m['gflops']:9.3f} GFLOP/s  "
              f"{m['speedup_vs_serial']:8.0f}x the loop")
    print(f"recorded GPU runs: {len(load_records())}")
    print(f"total wall time incl. the animation data: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
