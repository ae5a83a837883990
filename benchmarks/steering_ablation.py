"""Why does clamping one SAE feature not steer the model toward a concept? Run the steering chapter's
experiment under each variant of the two suspects, and write one JSON record of the outcomes:

- **which feature**: the chapter's rule (detects the concept on training sentences with AUC ≥ 0.9, then
  the one whose decoder most raises the concept's words), a looser detector (AUC ≥ 0.6), and the output
  score alone (AUC ≥ 0.5, or no detection at all), after Arad et al. (2025);
- **where**: every position of prompt and answer (as Golden Gate Claude), or only where the answer is
  written.

It retrains nothing the book has cached; each variant generates every answer again (about 20 s per
variant on an H200, about 2 minutes on two CPU cores).

    python benchmarks/steering_ablation.py --out src/explainers/steering/records/
"""
from __future__ import annotations

import argparse
import json
from datetime import datetime, timezone
from pathlib import Path

VARIANTS = {
    "detect 0.9, all positions (the chapter's rule)": dict(min_auc=0.9, positions="all"),
    "detect 0.9, answer only": dict(min_auc=0.9, positions="answer"),
    "detect 0.6, all positions": dict(min_auc=0.6, positions="all"),
    "detect 0.6, answer only": dict(min_auc=0.6, positions="answer"),
    "output score (AUC 0.5), all positions": dict(min_auc=0.5, positions="all"),
    "output score (AUC 0.5), answer only": dict(min_auc=0.5, positions="answer"),
    "output score alone, all positions": dict(min_auc=0.0, positions="all"),
}
STRENGTHS = (0, 0.5, 1, 2, 4, 8)


def summary(meta: dict) -> dict:
    return {"features": meta["features"],
            "settings": [{k: s[k] for k in ("concept", "method", "strength", "mention_fraction", "loss", "repetition",
                                            "added_norm")} for s in meta["settings"]]}


def main() -> None:
    from explainers.device import describe
    from explainers.steering import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."))
    args = parser.parse_args()
    chapter = train.book_config().chapter
    variants = {}
    for name, settings in VARIANTS.items():
        result = train.run(train.SteeringConfig(chapter=chapter, strengths=STRENGTHS, **settings))
        variants[name] = summary(result.meta) | {"config": settings}
        print(name, flush=True)
    import transformers

    run = describe()
    record = {"format": "explainers.steering.ablation/1",
              "provenance": {"device_name": run["device_name"], "torch": run["torch"],
                             "transformers": transformers.__version__,
                             "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             "command": "python benchmarks/steering_ablation.py"},
              "strengths": list(STRENGTHS), "variants": variants}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{record['provenance']['date'][:10]}-{run['device_name'].lower().replace(' ', '-')}-ablation.json"
    path.write_text(json.dumps(record, indent=1))
    print("wrote", path)


if __name__ == "__main__":
    main()
