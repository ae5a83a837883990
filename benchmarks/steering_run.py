"""Write the steering chapter's run (as the book's settings make it, from the cache when the book was built)
as a record: every setting's mentions, loss and repetition on the held-out prompts, the people's answers,
the chosen strengths and the features.

    python benchmarks/steering_run.py --out src/explainers/steering/records/
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    from explainers.recorder import write_record
    from explainers.steering.train import book_config, run

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    meta = run(book_config()).meta
    keep = ("concept", "method", "strength", "mentions", "mention_fraction", "mention_interval", "loss",
            "loss_interval", "repetition", "repetition_interval", "texts")
    result = {"config": meta["config"], "features": meta["features"], "human": meta["human"],
              "settings": [{k: s[k] for k in keep} for s in meta["settings"]], "layer": meta["layer"],
              "run": meta["run"], "transformers": meta["transformers"]}
    print("wrote", write_record("run", result, args.out, "python benchmarks/steering_run.py", load_before))


if __name__ == "__main__":
    main()
