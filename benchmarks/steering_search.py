"""The steering chapter's recipe search on the training prompts, written as one JSON record.

One factor at a time from the starting recipe: the SAE's layer (block 12 against a later block), the
feature rule (logit lens, detection, output score by intervention), clamp or add the decoder direction,
every position or the answer only, and a repetition penalty; each at a finer grid of strengths, scored
against the human answers to the same prompts (see ``explainers.steering.search``). The later block's
activations, SAE and codes are trained on first use (cached like the book's); on two CPU cores the whole
search takes about 13 minutes.

    python benchmarks/steering_search.py --out src/explainers/steering/records/
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    from explainers.recorder import write_record
    from explainers.steering.search import search

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    result = search(log=lambda line: print(line, flush=True))
    print("wrote", write_record("search", result, args.out, "python benchmarks/steering_search.py", load_before))


if __name__ == "__main__":
    main()
