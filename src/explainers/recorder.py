"""Writing a record of a measurement too long for a build: the result with its provenance, named by date,
device and kind, read back by the chapter it belongs to."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path


def latest_record(folder: Path, kind: str) -> dict | None:
    """The newest record of one kind in ``folder`` (``*-KIND.json``, by date in the name), or None."""
    files = sorted(Path(folder).glob(f"*-{kind}.json"))
    return json.loads(files[-1].read_text()) if files else None


def write_record(kind: str, result: dict, out: Path, command: str, load_before: float, scene: str = "steering") -> Path:
    """``out/DATE-DEVICE-KIND.json``; ``result`` holds ``run`` (``device.describe``) and ``transformers``."""
    run = result["run"]
    record = {"format": f"explainers.{scene}.{kind}/1",
              "provenance": {"device_name": run["device_name"], "device": run["device"], "torch": run["torch"],
                             "transformers": result["transformers"],
                             "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                             "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                             "command": command},
              **result}
    out.mkdir(parents=True, exist_ok=True)
    name = run["device_name"].lower().replace(" ", "-").replace("(", "").replace(")", "")[:40]
    path = out / f"{record['provenance']['date'][:10]}-{name}-{kind}.json"
    path.write_text(json.dumps(record, indent=1))
    return path
