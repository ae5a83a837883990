"""The "draw a shape, click Train" widget as one self-contained HTML string.

Everything is inlined (dictionary.js, draw_train.js, draw_train.css, the starting drawing), so the
widget works offline, in a built book page and in a live notebook alike. The scripts guard against
being defined twice, so several widgets can share a page, each under its own DOM id.

    from IPython.display import HTML
    HTML(draw_train_html("draw-train-house", drawing="house"))
"""
from __future__ import annotations

import base64
import json
import re

import numpy as np

from ..assets import asset
from .config import DictionaryConfig
from .drawings import drawing as builtin_drawing

ASSETS = ("dictionary.js", "draw_train.js", "draw_train.css")
_DOM_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def _inline(name: str) -> str:
    text = asset(f"unmixer/{name}")
    closing = "</style" if name.endswith(".css") else "</script"
    if closing in text.lower():  # would end the inline element early
        raise ValueError(f"{name} contains {closing!r} and cannot be inlined")
    return text


def _encode_drawing(ink: np.ndarray) -> str:
    """128×128 ink in [0, 1] as base64 bytes (0-255), the canvas's own 8-bit precision."""
    ink = np.asarray(ink, np.float32)
    if ink.shape != (128, 128):
        raise ValueError(f"a drawing is 128×128, got {ink.shape}")
    return base64.b64encode(np.round(np.clip(ink, 0, 1) * 255).astype(np.uint8).tobytes()).decode()


def draw_train_html(dom_id: str, *, drawing: str | np.ndarray | None = "house",
                    sparsity: float | None = None, steps: int | None = None, seed: int = 0) -> str:
    """HTML for one widget, with its scripts and styles inlined.

    dom_id: the widget's element id (letters, digits, '-' and '_'; unique on the page).
    drawing: a built-in drawing's name, a (128, 128) array of ink in [0, 1], or None for a blank canvas.
    sparsity, steps: λ and the number of training steps; by default the book's (DictionaryConfig).
    """
    if not _DOM_ID.match(dom_id):
        raise ValueError(f"dom_id must start with a letter and hold only letters, digits, '-', '_': {dom_id!r}")
    defaults = DictionaryConfig()
    options = {
        "sparsity": float(defaults.sparsity if sparsity is None else sparsity),
        "steps": int(defaults.steps if steps is None else steps),
        "seed": int(seed),
    }
    if drawing is not None:
        ink = builtin_drawing(drawing) if isinstance(drawing, str) else drawing
        options["drawing"] = _encode_drawing(ink)
    # "</" inside a script would close it: JSON allows the escaped form
    options_json = json.dumps(options).replace("</", "<\\/")
    return (
        f'<div id="{dom_id}" class="sae-draw-train">'
        "<noscript>This interactive widget needs JavaScript.</noscript></div>\n"
        f"<style>{_inline('draw_train.css')}</style>\n"
        f"<script>{_inline('dictionary.js')}</script>\n"
        f"<script>{_inline('draw_train.js')}</script>\n"
        f"<script>DrawTrain.mount({json.dumps(dom_id)}, {options_json});</script>\n"
    )
