"""The real-model chapter's random-weights control: the whole pipeline (activations, SAE, detection,
interpretation) on SmolLM2 with every weight re-initialised (``explainers.real_model.random_weights``).
Writes one JSON record; on two CPU cores it takes about seven minutes.

    python benchmarks/random_weights.py --out src/explainers/real_model/records/
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def main() -> None:
    import transformers

    from explainers.device import describe, pick
    from explainers.lm.stages import book_config
    from explainers.real_model.random_weights import control_config, summary
    from explainers.lm.stages import train
    from explainers.real_model.train import analyse
    from explainers.recorder import write_record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    config = control_config(book_config())
    trained, analysis = train(config), analyse(config)
    result = {"summary": summary(trained, analysis), "layer": config.activations.layer,
              "seconds": {"collect": trained.meta["collect_wall_s"], "sae": trained.meta["train_s"],
                          "analysis": analysis.meta["analysis_s"]},
              "transformers": transformers.__version__, "run": describe(pick())}
    print("wrote", write_record("random-weights", result, args.out, "python benchmarks/random_weights.py",
                                load_before, scene="real_model"))


if __name__ == "__main__":
    main()
