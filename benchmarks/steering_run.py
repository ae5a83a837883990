"""Record the steering chapter's held-out run (as the book's settings make it, from the cache when the book
was built) with the fingerprint of what it was made from, so that a build with the same SAE, codes, code,
settings and libraries reads it instead of generating the answers again (``steering.recorded``).

    python benchmarks/steering_run.py --out src/explainers/steering/records/
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    from explainers.recorder import write_record
    from explainers.steering import recorded
    from explainers.steering.train import book_config, fingerprint, measure

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    config = book_config()
    done = measure(config)
    path = write_record(recorded.KIND, recorded.as_record(done, fingerprint(config)), args.out,
                        "python benchmarks/steering_run.py", load_before)
    print("wrote", path)


if __name__ == "__main__":
    main()
