"""The chapter's runs, as ``charts`` and ``facts`` read them (``runs()``), and runs small enough for tests
(``tiny_config()``)."""
from __future__ import annotations

from .train import runs, tiny_config

__all__ = ["runs", "tiny_config"]
