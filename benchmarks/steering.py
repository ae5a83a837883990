"""How long the steering chapter takes on top of the real-model chapter's cache, and what it found.

    .venv/bin/python benchmarks/steering.py            # steering and labelling from scratch
    .venv/bin/python benchmarks/steering.py --cached   # the book's cache: a warm rebuild

The cold run works in a scratch cache that links the previous chapter's cached activations and SAE,
which is the situation of a build: that chapter has already run. Prints the time of each run, the
answers generated per second, and the chapter's headline results. The load average is printed too: on
a shared machine other jobs slow the wall clock down.
"""
import os
import sys
import tempfile
import time
from pathlib import Path

PREVIOUS = ("explainers.lm.activations.collect", "explainers.lm.train.train")


def main(cached: bool = False) -> None:
    from explainers.cache import cache_dir

    if not cached:
        book_cache = cache_dir()
        scratch = Path(tempfile.mkdtemp(prefix="steering-bench-"))
        for name in PREVIOUS:
            if not (book_cache / name).exists():
                sys.exit(f"build the book first: {book_cache / name} is missing")
            (scratch / name).symlink_to(book_cache / name)
        os.environ["EXPLAINERS_CACHE"] = str(scratch)
    from explainers.device import describe
    from explainers.lm import corpus, interpret, steering
    from explainers.lm.steering_report import facts

    machine = describe()
    print(f"{machine['device']} ({machine['device_name']}), {machine['cpu_count']} cores, torch {machine['torch']}, "
          f"load average {os.getloadavg()[0]:.1f}")
    wall = time.perf_counter()
    steered = steering.book_run()
    steer_s = time.perf_counter() - wall
    wall = time.perf_counter()
    labelled = interpret.book_run()
    label_s = time.perf_counter() - wall
    found = facts(steered, labelled, corpus.concepts())
    n = steered.meta["n_generations"]
    print(f"steering run       {steer_s:7.1f} s   ({n} answers in {steered.meta['generation_s']:.1f} s: "
          f"{n / steered.meta['generation_s']:.2f} answers/s, {steered.meta['config']['max_new_tokens']} tokens max)")
    print(f"labelling run      {label_s:7.1f} s   ({found['n_labelled']} features, labels generated in "
          f"{labelled.meta['label_s']:.1f} s)")
    print(f"chapter total      {steer_s + label_s:7.1f} s   (budget: 300 s on a 2-core CPU)")
    print(f"feature clamp:     {found['feature_verdict']}")
    print(f"direction:         {found['direction_verdict']}")
    print(f"labels scoring >= {found['good_score']}: model {found['model_good']}, corpus matcher {found['corpus_good']} "
          f"of {found['n_labelled']}")


if __name__ == "__main__":
    main(cached="--cached" in sys.argv)
