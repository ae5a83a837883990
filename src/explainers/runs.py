"""The one shape of what a scene's ``runs()`` returns.

Every scene's ``runs.py`` defines a frozen dataclass that subclasses ``Runs``, with named, typed fields for
what its charts and facts read (``runs.lambda_max``, ``runs.descents[2].regime``), built from its cached
Timelines. The Timelines stay what is stored and what the browser is sent (arrays, and plain JSON in
``meta``); reading them by string key happens once, where the scene's runs are made, never in a chart or
a fact.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .timeline import Timeline


@dataclass(frozen=True)
class Runs:
    def timelines(self) -> list[Timeline]:
        """Every Timeline the runs were made from (a field, or inside a field's list, tuple, dict or
        dataclass), in field order: the stored form, with its provenance."""
        found: list[Timeline] = []

        def collect(value):
            if isinstance(value, Timeline):
                found.append(value)
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                for f in dataclasses.fields(value):
                    collect(getattr(value, f.name))
            elif isinstance(value, (list, tuple)):
                for item in value:
                    collect(item)
            elif isinstance(value, dict):
                for item in value.values():
                    collect(item)

        collect(self)
        return found

    @property
    def wall_time_s(self) -> float:
        """Seconds the runs took when they were computed (a cache hit keeps the first computation's)."""
        return float(sum(t.meta.get("wall_time_s", 0.0) for t in self.timelines()))
