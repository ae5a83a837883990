"""How long the steering chapter takes on top of the shared stages' cache, and what it found.

    .venv/bin/python benchmarks/steering.py            # the steering run from scratch
    .venv/bin/python benchmarks/steering.py --cached   # the book's cache: a warm rebuild

The cold run works in a scratch cache that links the shared stages' cached activations, SAE and codes,
which is the situation of a build: the real-model chapter has already run. The load average is printed
too: on a shared machine other jobs slow the wall clock down.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

SHARED = ("explainers.lm.activations.collect", "explainers.lm.stages.train", "explainers.lm.stages.codes", "models")


def main(cached: bool = False) -> None:
    from explainers.cache import cache_dir

    if not cached:
        book_cache = cache_dir()
        scratch = Path(tempfile.mkdtemp(prefix="steering-bench-"))
        for name in SHARED:
            if not (book_cache / name).exists():
                sys.exit(f"build the book first: {book_cache / name} is missing")
            (scratch / name).symlink_to(book_cache / name)
        os.environ["EXPLAINERS_CACHE"] = str(scratch)
    from explainers.device import describe
    from explainers.steering import train
    from explainers.steering.facts import facts
    from explainers.steering.runs import SteeringRuns

    machine = describe()
    print(f"{machine['device']} ({machine['device_name']}), {machine['cpu_count']} cores, torch {machine['torch']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    wall = time.perf_counter()
    steered = train.measure(train.book_config())  # measured here: a record would time nothing
    wall = time.perf_counter() - wall
    found = facts(SteeringRuns.from_timeline(steered))
    n = steered.meta["n_generations"]
    print(f"setup (model, SAE, codes, directions) {steered.meta['setup_s']:7.1f} s")
    print(f"generation         {steered.meta['generation_s']:7.1f} s   ({n} answers: "
          f"{n / steered.meta['generation_s']:.2f} answers/s, {steered.meta['config']['max_new_tokens']} tokens max)")
    print(f"steering run       {wall:7.1f} s")
    for concept in steered.meta["config"]["concepts"]:
        for method in ("feature", "direction"):
            print(f"{concept:12s} {method:9s} {'works' if found[f'{concept}_{method}_works'] else 'fails'}: "
                  f"{found[f'{concept}_{method}_result']}")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main(cached="--cached" in sys.argv)
