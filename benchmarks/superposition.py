"""How long the superposition chapter's runs take to train, from scratch (the cache bypassed).

    .venv/bin/python benchmarks/superposition.py [repeats]

Prints wall-clock and CPU time per function with the book's default configs, and the load average,
since a shared machine's other jobs slow the wall clock down.
"""
import os
import sys
import time

from explainers.device import describe
from explainers.superposition import pentagon_sae, toy as superposition

RUNS = [
    ("train_toy_model", superposition.train_toy_model, superposition.ToyConfig()),
    ("phase_diagram", superposition.phase_diagram, superposition.PhaseConfig()),
    ("train_pentagon_sae", pentagon_sae.train_pentagon_sae, pentagon_sae.PentagonSAEConfig()),
]


def main(repeats: int = 1) -> None:
    machine = describe()
    print(f"{machine['device']} ({machine['device_name']}), {machine['cpu_count']} cores, "
          f"torch {machine['torch']}, load average {os.getloadavg()[0]:.1f}")
    superposition.train_toy_model(superposition.ToyConfig())  # the SAE reads it (cached) in its timing
    total_wall = total_cpu = 0.0
    for name, fn, config in RUNS:
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            fn.uncached(config)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        total_wall, total_cpu = total_wall + min(walls), total_cpu + min(cpus)
        print(f"{name:20s} wall {min(walls):6.2f} s   cpu {min(cpus):6.2f} s   (best of {repeats})")
    print(f"{'all three':20s} wall {total_wall:6.2f} s   cpu {total_cpu:6.2f} s   "
          f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
