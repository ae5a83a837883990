"""What scale buys the real-model chapter's SAE: trained again on 1/16, 1/8, 1/4 and 1/2 of its training
vectors (``explainers.real_model.scale``), each scored on the same held-out vectors. Writes one JSON
record; on two CPU cores it takes under a minute once the book's activations are cached.

    python benchmarks/sae_scale.py --out src/explainers/real_model/records/
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def main() -> None:
    from explainers.lm.stages import book_config
    from explainers.real_model.scale import scale_points
    from explainers.recorder import write_record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    gpu = sorted(Path(__file__).resolve().parent.joinpath("records").glob("*-lm-partial.json"))
    reference = None
    if gpu:  # the recorded GPU run of the same pipeline (block 12 then, a 16,384-latent SAE)
        record = json.loads(gpu[-1].read_text())
        reference = {"file": gpu[-1].name, "provenance": record["provenance"], "layer": 12, "d_sae": 16384,
                     "vectors": record["sae"]["train_tokens"],
                     "held_out_explained_variance": record["sae"]["held_out_explained_variance"]}
    result = scale_points(book_config(), reference=reference, log=lambda line: print(line, flush=True))
    print("wrote", write_record("sae-scale", result, args.out, "python benchmarks/sae_scale.py", load_before,
                                scene="real_model"))


if __name__ == "__main__":
    main()
