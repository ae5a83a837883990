"""How much text about the Golden Gate Bridge the book's SAE would need to read before one of its features
steers the model toward the bridge: the SAE trained again with doses of the model's own answers about the
bridge, each dose's feature picked and steered by the chapter's recipe (see
``explainers.steering.dose``). Writes one JSON record; on two CPU cores it takes about 7 minutes.

    python benchmarks/steering_dose.py --out src/explainers/steering/records/
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    from explainers.steering.dose import dose_response
    from explainers.recorder import write_record
    from explainers.steering.train import book_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    config = book_config()
    result = dose_response(config.chapter, config.recipe, log=lambda line: print(line, flush=True))
    print("wrote", write_record("dose", result, args.out, "python benchmarks/steering_dose.py", load_before))


if __name__ == "__main__":
    main()
