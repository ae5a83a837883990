"""Writing a steering record: the result with its provenance, named by date, device and kind."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path


def write_record(kind: str, result: dict, out: Path, command: str, load_before: float) -> Path:
    """``out/DATE-DEVICE-KIND.json``; ``result`` holds ``run`` (``device.describe``) and ``transformers``."""
    run = result["run"]
    record = {"format": f"explainers.steering.{kind}/1",
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
