"""The steering chapter's strength curves: the recorded search's combined recipe (the SAE feature and the
mean-difference direction) at every strength of the search, on the training prompts and every retired
held-out set (``words.STRENGTH_PROMPTS``), scored against the people's answers; written as one JSON record
that the chapter's headline strengths are chosen from (``explainers.steering.search.strength_curves``).
About 7 minutes on two CPU cores.

    python benchmarks/steering_strengths.py --out src/explainers/steering/records/
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    from explainers.recorder import write_record
    from explainers.steering.search import strength_curves
    from explainers.steering.train import search_record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    result = strength_curves(search_record(), log=lambda line: print(line, flush=True))
    print("wrote", write_record("strengths", result, args.out, "python benchmarks/steering_strengths.py", load_before))


if __name__ == "__main__":
    main()
