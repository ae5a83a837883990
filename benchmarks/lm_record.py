"""Run both language-model chapters from scratch on this machine's device, at that device's book settings, and
write one JSON record of what they measured and how long each stage took.

On a GPU this is the chapters' "ten times the text" setting (``SAE_BY_DEVICE`` and ``CORPUS`` by device), which
a CPU build never runs; the record is how the book learns what that setting finds.

    python benchmarks/lm_record.py --out benchmarks/records/
    python benchmarks/lm_record.py --tiny --out /tmp/x   # the tests' tiny settings: checks the script anywhere

Every stage runs in a fresh, empty cache. The record is written after the real-model stages and again after
steering, so a run cut short still leaves what it finished.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path


def plain(found: dict) -> dict:
    """The numbers and short strings of a chapter's facts (its HTML pieces left out)."""
    from explainers.markup import Html, Markdown

    return {k: v for k, v in found.items()
            if isinstance(v, (int, float, str)) and not isinstance(v, (Html, Markdown)) and "<" not in str(v)}


def steering_facts(steered) -> dict | None:
    try:  # the steering facts share helpers with its charts, which need bokeh (absent on some GPU machines)
        from explainers.steering.facts import facts
    except ImportError:
        return None
    from explainers.steering.runs import SteeringRuns

    return plain(facts(SteeringRuns.from_timeline(steered)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny settings")
    args = parser.parse_args()
    os.environ["EXPLAINERS_CACHE"] = tempfile.mkdtemp(prefix="lm-record-")

    import torch
    import transformers

    from explainers.device import describe
    from explainers.lm import stages
    from explainers.real_model import train as real_model
    from explainers.real_model.facts import facts as real_facts
    from explainers.real_model.runs import RealModelRuns
    from explainers.steering import train as steering
    from real_model import timed_stages  # benchmarks/real_model.py, beside this script

    chapter = real_model.tiny_config() if args.tiny else stages.book_config()
    # the book's recipe and strengths (the recorded search's), at this device's chapter settings
    steer_config = steering.tiny_config() if args.tiny else replace(steering.book_config(), chapter=chapter)
    run = describe()
    date = datetime.now(timezone.utc).isoformat(timespec="seconds")
    record = {"format": "explainers.lm.record/1",
              "provenance": {"device": run["device"], "device_name": run["device_name"], "cpu_count": run["cpu_count"],
                             "torch": torch.__version__, "transformers": transformers.__version__, "date": date,
                             "command": "python benchmarks/lm_record.py" + (" --tiny" if args.tiny else "")},
              "stages_s": {}}
    name = f"{date[:10]}-{run['device_name'].lower().replace(' ', '-')}{'-tiny' if args.tiny else ''}.json"
    args.out.mkdir(parents=True, exist_ok=True)

    def write():
        (args.out / name).write_text(json.dumps(record, indent=1, default=lambda x: getattr(x, "tolist", lambda: str(x))()))

    stage_runs = {}
    for stage, seconds, result in timed_stages(chapter):  # the record is written after each stage
        stage_runs[stage] = result
        record["stages_s"][stage] = round(seconds, 2)
        print(f"{stage:12s} {record['stages_s'][stage]:8.1f} s", flush=True)
        if stage == "SAE":
            record |= {"collect": stage_runs[stage].meta["collect"],
                       "sae": {k: v for k, v in stage_runs[stage].meta.items() if k not in ("config", "collect", "run")}
                       | {name: float(stage_runs[stage][name][-1])
                          for name in ("held_out_explained_variance", "dead_fraction")}}
        write()
    trained, analysis = stage_runs["SAE"], stage_runs["analysis"]
    record |= {"analysis_times_s": analysis.meta["times"], "metrics": analysis.meta["metrics"],
               "real_model": plain(real_facts(RealModelRuns.from_timelines(trained, analysis, real_model.recorded())))}
    write()

    started = time.perf_counter()
    steered = steering.measure(steer_config)  # measured, never read from a record
    record["stages_s"]["steering"] = round(time.perf_counter() - started, 2)
    record["steering"] = {"features": steered.meta["features"],
                          "settings": [{k: s[k] for k in ("concept", "method", "strength", "mention_fraction", "loss",
                                                          "repetition", "added_norm")} for s in steered.meta["settings"]],
                          "facts": steering_facts(steered)}
    print(f"{'steering':12s} {record['stages_s']['steering']:8.1f} s", flush=True)
    write()
    print("wrote", args.out / name)


if __name__ == "__main__":
    main()
