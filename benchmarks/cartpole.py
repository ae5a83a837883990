"""How long the CartPole chapter's training takes here, and how many episodes it needs to solve.

    python benchmarks/cartpole.py              # the book's config (seed 0)
    python benchmarks/cartpole.py --seeds 0 1 2 3 4
    python benchmarks/cartpole.py --threads 2    # torch's default here: compare on a busy machine

Trains for real (bypasses the cache). Timings share the CPU with whatever else runs: the load average
is printed so an inflated figure can be recognised as such.
"""
import argparse
import dataclasses
import os
import time

import numpy as np
import torch

from explainers.cartpole.train import CartPoleConfig, train
from explainers.device import describe


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[CartPoleConfig().seed])
    parser.add_argument("--threads", type=int, default=CartPoleConfig().torch_threads)
    args = parser.parse_args()

    record = describe()
    print(f"device: {record['device']} ({record['device_name']}), cpu_count {record['cpu_count']}, "
          f"torch {record['torch']}, torch threads: {torch.get_num_threads()} by default, "
          f"{args.threads} while training")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'seed':>4} {'solved':>6} {'episodes to solve':>17} {'episodes':>8} {'train s':>8} {'total s':>8}")
    times, episodes = [], []
    for seed in args.seeds:
        config = dataclasses.replace(CartPoleConfig(), seed=seed, torch_threads=args.threads)
        started = time.perf_counter()
        timeline = train.uncached(config)
        total = time.perf_counter() - started
        meta = timeline.meta
        times.append(meta["train_wall_time_s"])
        if meta["solved"]:
            episodes.append(meta["episodes_to_solve"])
        print(f"{seed:>4} {str(meta['solved']):>6} {str(meta['episodes_to_solve']):>17} "
              f"{meta['n_episodes']:>8} {meta['train_wall_time_s']:>8.2f} {total:>8.2f}")
    print(f"solved {len(episodes)}/{len(args.seeds)}; training wall time median {np.median(times):.2f} s, "
          f"max {max(times):.2f} s" + (f"; episodes to solve median {np.median(episodes):.0f}, "
                                        f"range {min(episodes)}-{max(episodes)}" if episodes else ""))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
