"""The player: the one scrubber every timeline chart uses.

A chart hands the player its frames' true step numbers, its choices over precomputed runs (for
example the learning rate) and a render function (a JavaScript file: a function body that reads
``frame`` and ``choice`` and the chart's named ``args``, updates the chart, and returns readout pairs
``[[label, text], ...]``). The player owns the widgets, the animation, the keys and the permalink.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import Button, CustomJS, Div, RadioButtonGroup, Select, Slider, Toggle

from .assets import asset
SPEEDS = ("0.25×", "0.5×", "1×", "2×", "4×")
SLIDER_MIN_PX = 150
# names the generated render code defines or needs from the browser; a render argument must not hide them
RESERVED = {"frame", "choice", "parts", "slider", "window", "document", "ExplainersPlayer", "Bokeh"}


@dataclass(frozen=True)
class Choice:
    """A control over precomputed runs: ``key`` and ``values`` appear in the permalink."""

    key: str
    title: str
    values: tuple[str, ...]
    labels: tuple[str, ...]
    default: int = 0


class Player:
    def __init__(self, chart_id: str, steps, *, choices: tuple[Choice, ...] = (), step_label="Step",
                 duration_s: float = 6.0, start_frame: int = 0):
        steps = np.asarray(steps).astype(int)
        if len(steps) == 0 or np.any(np.diff(steps) < 0):
            raise ValueError("a player needs at least one frame and steps in increasing order")
        self.chart_id = chart_id
        self.steps = steps
        self.choices = choices
        self.step_label = step_label
        self.duration_s = duration_s
        last = len(steps) - 1
        # wide enough to scrub by touch: on a narrow screen it takes a line of its own rather than shrink.
        # No tooltip: it would show the frame's index, not its step (the readout shows that), and the
        # slider rebuilds a tooltip's elements at every change, restyling the page before each repaint.
        self.slider = Slider(start=0, end=max(last, 1), value=min(start_frame, last), step=1, title=None,
                             show_value=False, tooltips=False, sizing_mode="stretch_width", disabled=last == 0,
                             min_width=SLIDER_MIN_PX, name=f"{chart_id}-slider")
        self.play = Button(label="▶ Play", width=90, name=f"{chart_id}-play")
        self.back = Button(label="◀", width=40, name=f"{chart_id}-back")
        self.forward = Button(label="▶", width=40, name=f"{chart_id}-forward")
        self.speed = Select(value="1×", options=list(SPEEDS), width=70, name=f"{chart_id}-speed")
        self.loop = Toggle(label="Loop", active=False, width=60, name=f"{chart_id}-loop")
        self.choice_widgets = {
            c.key: RadioButtonGroup(labels=list(c.labels), active=c.default, name=f"{chart_id}-{c.key}",
                                    sizing_mode="stretch_width")
            for c in choices
        }
        for button, action in ((self.play, "toggle"), (self.back, "back"), (self.forward, "forward")):
            button.js_on_click(CustomJS(code=f"ExplainersPlayer.act({json.dumps(chart_id)}, {json.dumps(action)})"))
        self.render: CustomJS | None = None

    def bind(self, render_file: str, **args) -> CustomJS:
        """Wire the chart's render script to the slider and the choices; return the ready callback."""
        clash = RESERVED & set(args)
        if clash:
            raise ValueError(f"render arguments {sorted(clash)} would hide names the player's code uses")
        choice_reads = "".join(f"{json.dumps(k)}: choice_{k}.active, " for k in self.choice_widgets)
        code = (
            # one render per animation frame: a drag's later changes within a frame wait for the next one
            f"if (window.ExplainersPlayer && !ExplainersPlayer.admit({json.dumps(self.chart_id)})) return;\n"
            "const frame = slider.value | 0;\n"
            f"const choice = {{{choice_reads}}};\n"
            f"const parts = (function () {{\n{asset(render_file)}\n}})();\n"
            f"if (window.ExplainersPlayer) ExplainersPlayer.rendered({json.dumps(self.chart_id)}, frame, parts);\n"
        )
        widgets = {f"choice_{k}": w for k, w in self.choice_widgets.items()}
        self.render = CustomJS(args=dict(args, slider=self.slider, **widgets), code=code)
        self.slider.js_on_change("value", self.render)
        for widget in self.choice_widgets.values():
            widget.js_on_change("active", self.render)
        return self.ready()

    def ready(self) -> CustomJS:
        options = {
            "id": self.chart_id,
            "choiceValues": {c.key: list(c.values) for c in self.choices},
            "durationS": self.duration_s,
            "stepLabel": self.step_label,
        }
        code = asset("player.js") + (
            f"\nconst options = {json.dumps(options)};\n"
            "Object.assign(options, {steps, slider, play, loop, speedSelect, render, choiceWidgets});\n"
            "ExplainersPlayer.attach(options);\n"
        )
        widgets = {"choiceWidgets": dict(self.choice_widgets)} if self.choice_widgets else {"choiceWidgets": {}}
        return CustomJS(
            args=dict(steps=self.steps.astype(np.int32).tolist(), slider=self.slider, play=self.play,
                      loop=self.loop, speedSelect=self.speed, render=self.render,
                      **widgets),
            code=code,
        )

    @property
    def layout(self):
        controls = row(self.play, self.back, self.forward, self.slider, self.speed, self.loop,
                       sizing_mode="stretch_width")
        pickers = [
            column(Div(text=f"<b>{c.title}</b>"), self.choice_widgets[c.key], sizing_mode="stretch_width")
            for c in self.choices
        ]
        return column(*pickers, controls, sizing_mode="stretch_width")
