"""``python -m explainers export ID [--out DIR]``: write one chart as an offline HTML file and a PNG.

``python -m explainers list`` prints the ids; ``python -m explainers steer CONCEPT METHOD STRENGTH``
generates one setting of the steering chapter again and prints each held-out prompt with its answer;
``--prompt TEXT`` (repeatable) steers your own prompts instead, with the book's feature and recipe.
"""
import argparse
import sys
from pathlib import Path

from .charts import REGISTRY
from .export import ExportError, export


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explainers", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the book's chart ids")
    one = commands.add_parser("export", help="write a standalone HTML file and a PNG for one chart")
    one.add_argument("chart_id", choices=sorted(REGISTRY), metavar="ID")
    one.add_argument("--out", type=Path, default=Path("charts"), help="folder to write to (default: charts)")
    one.add_argument("--no-png", action="store_true", help="skip the PNG (needs Chromium)")
    steer = commands.add_parser("steer", help="generate the steering chapter's answers for one setting again")
    steer.add_argument("concept", help="a steered concept, e.g. golden_gate")
    steer.add_argument("method", choices=["feature", "direction"])
    steer.add_argument("strength", type=float, help="multiple of the feature's largest activation, e.g. 2.5")
    steer.add_argument("--prompt", action="append", metavar="TEXT",
                       help="a prompt of your own (repeatable); without it, the book's held-out prompts")
    args = parser.parse_args(argv)
    if args.command == "steer":
        from .lm.model import ModelMissing
        from .steering.train import reproduce

        try:
            answers = reproduce(args.concept, args.method, args.strength, prompts=args.prompt)
        except ValueError as error:
            parser.error(str(error))
        except ModelMissing as error:  # names the command that installs the model
            print(f"python -m explainers steer: {error}", file=sys.stderr)
            return 1
        for prompt, answer in answers:
            print(f"> {prompt}\n{answer}\n")
        return 0
    if args.command == "list":
        for chart_id, entry in REGISTRY.items():
            print(f"{chart_id}\t{entry.title}")
        return 0
    try:
        written = export(args.chart_id, args.out, png=not args.no_png)
    except ExportError as error:
        print(f"python -m explainers export: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
