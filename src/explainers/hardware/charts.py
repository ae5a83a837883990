"""The CPU vs GPU charts: one small matrix product computed serially and in parallel waves (animated,
on the shared player), and the measured matmul throughput over sizes against each device's peak.

``chart(chart_id, runs)`` builds either from ``runs.runs()``. Bokeh only: no torch, no training."""
from __future__ import annotations

import html

import numpy as np
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, Div, FixedTicker, HoverTool, Label, Range1d, Span
from bokeh.transform import factor_cmap

from .. import palette
from ..embed import Chart
from ..figure import book_figure
from ..player import Player
from .words import (DTYPE_NAMES, best, measured_series, peak_label, peak_name, peak_text,
                    percent_text, rate_text, seconds_text, series_arrays, times_text)

PAGE = "cpu-vs-gpu"
SCHEDULE_ID = "serial-vs-parallel"
THROUGHPUT_ID = "matmul-throughput"
CHARTS = {
    SCHEDULE_ID: "One matrix product, computed serially and in parallel waves",
    THROUGHPUT_ID: "Matrix multiply throughput over sizes, against each device's peak",
}

# --- serial vs parallel ------------------------------------------------------------------------------

STATES = ("waiting", "computing", "done")
STATE_FILL = ("#8c8c8c26", palette.CURRENT, palette.DATA)  # waiting: a faint cell in both themes
STATE_EDGE = (palette.MUTED, "#5c0f10", "#0d3d66")
STATE_WIDTH = (1, 3, 1)  # the cell being computed also has a thick edge: no state rests on colour alone


def cell_states(steps, name: str) -> np.ndarray:
    """(frames, cells) codes into STATES, from the schedule's ``active`` and ``done`` arrays."""
    t = steps.timeline
    active, done = t[f"{name}.active"].astype(bool), t[f"{name}.done"].astype(bool)
    if (active & done).any():
        raise ValueError(f"{name}: a cell cannot be computing and done at once")
    return (active * 1 + done * 2).astype(np.uint8)


def schedule_title(schedule: dict, cells: int) -> str:
    """A panel's short name (the schedule's full label sits under the panels)."""
    lanes = schedule["lanes"]
    return "Serial" if lanes == 1 else f"All {cells} at once" if lanes >= cells else f"{lanes} at a time"


def step_count(count: int) -> str:
    return f"{count} step{'s' if count != 1 else ''}"


def cell_grid(title: str, source: ColumnDataSource, index: int, n: int):
    fig = book_figure(title, 250, x_range=Range1d(-0.6, n - 0.4), y_range=Range1d(n - 0.4, -0.6))
    fig.rect("col", "row", width=0.86, height=0.86, source=source,
             fill_color=factor_cmap(f"state{index}", list(STATE_FILL), list(STATES)),
             line_color=factor_cmap(f"state{index}", list(STATE_EDGE), list(STATES)),
             line_width=f"edge{index}", level="overlay")  # a frame repaints the cells, not the titles
    fig.axis.visible = False
    fig.grid.visible = False
    fig.min_border_left = fig.min_border_right = 8
    return fig


def state_key(steps) -> Div:
    swatches = "".join(
        f"<span style='display:inline-block;width:0.9em;height:0.9em;vertical-align:-0.1em;margin:0 0.3em 0 0.9em;"
        f"background:{fill};border:{width}px solid {edge}'></span>{name}"
        for name, fill, edge, width in zip(STATES, STATE_FILL, STATE_EDGE, STATE_WIDTH))
    n = steps.n
    labels = " · ".join(html.escape(s["label"]) for s in steps.schedules)
    return Div(text=f"<div style='font-size:13px'>Output cells of C = A·B ({n}×{n}):{swatches}<br>"
                    f"<span style='opacity:0.75'>Each cell is one row of A times one column of B: {n} "
                    f"multiply-adds. Left to right: {labels}.</span></div>",
               sizing_mode="stretch_width")


def measured_times(steps) -> Div:
    """The real time of each approach, on the device it ran on (the Timeline's measured arrays)."""
    seconds = steps.timeline["measured.seconds"]
    rows = []
    for entry, sec in zip(steps.measured, seconds):
        device = steps.devices[entry.get("device", "cpu")]
        rows.append(f"<tr><td>{html.escape(entry['label'])}</td>"
                    f"<td>{html.escape(device['device_name'])} ({device['device']})</td>"
                    f"<td style='text-align:right'>{seconds_text(float(sec))}</td>"
                    f"<td style='text-align:right'>{times_text(float(seconds[0] / sec))}</td></tr>")
    n, repeats = steps.measure_n, steps.repeats
    return Div(
        text=(f"<div style='font-size:13px'><b>Measured here</b>: one {n}×{n} product, median of {repeats} "
              "runs (float32; Python's floats are float64)"
              "<table style='border-collapse:collapse;margin-top:0.3em' cellpadding='3'>"
              "<tr style='text-align:left'><th>approach</th><th>device</th><th>time</th><th>vs serial</th></tr>"
              f"{''.join(rows)}</table></div>"),
        sizing_mode="stretch_width", name=f"{SCHEDULE_ID}-measured")


def schedule_chart(steps, chart_id: str = SCHEDULE_ID) -> Chart:
    """``steps``: the ``runs.Schedules``. One panel per schedule, one frame per time step."""
    n = steps.n
    cells = n * n
    schedules = steps.schedules
    columns = {"row": steps.timeline["cell_row"], "col": steps.timeline["cell_col"]}
    states = []
    for i, schedule in enumerate(schedules):
        codes = cell_states(steps, schedule["name"])
        states.append(codes.ravel())
        columns |= {f"state{i}": [STATES[c] for c in codes[0]],
                    f"edge{i}": [STATE_WIDTH[c] for c in codes[0]]}
    source = ColumnDataSource(columns, name=f"{chart_id}-cells")
    grids = [cell_grid(f"{schedule_title(s, cells)} · {step_count(s['steps'])}", source, i, n)
             for i, s in enumerate(schedules)]

    player = Player(chart_id, steps.timeline["step"], step_label="Time step", duration_s=8.0)
    ready = player.bind(
        "hardware/render.js", cells=source, states=states, n_cells=cells, state_names=list(STATES),
        state_widths=list(STATE_WIDTH),
        schedules=[{"title": schedule_title(s, cells), "steps": s["steps"]} for s in schedules],
    )
    layout = column(row(*grids, sizing_mode="stretch_width"), state_key(steps), measured_times(steps),
                    player.layout, sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[SCHEDULE_ID], layout, [ready])


# --- measured throughput ----------------------------------------------------------------------------

# colour and marker per series; copies included: dotted line, hollow marker
SERIES_STYLE = {
    "python_loop": ("#8c564b", "square"),
    "numpy_1thread": ("#1f77b4", "circle"),
    "numpy_all_cores": ("#ff7f0e", "triangle"),
    "torch_cpu": ("#9467bd", "diamond"),
    "torch_cuda_fp32": ("#e377c2", "inverted_triangle"),
    "torch_cuda_fp32_transfer": ("#e377c2", "inverted_triangle"),
    "torch_cuda_bf16": ("#bcbd22", "star"),
    "torch_cuda_bf16_transfer": ("#bcbd22", "star"),
}
OTHER_STYLES = [("#17becf", "hex"), ("#7f7f7f", "plus"), ("#2ca02c", "square_pin")]


def series_lines(bench, records) -> list[tuple]:
    """(benchmark, series, recorded) for every series drawn: all of this machine's, and the GPU
    series of each recorded run (a record's CPU is another machine's: the text names it instead)."""
    lines = [(bench, s, False) for s in measured_series(bench)]
    for record in records:
        lines += [(record, s, True) for s in measured_series(record, "cuda")]
    return lines


def device_name(bench, series: dict) -> str:
    return bench.gpu_name if series["device"] == "cuda" else bench.cpu.model


def legend_label(bench, series: dict) -> str:
    """A series' key entry: its label and how close it came to its device's peak."""
    b = best(bench, series)
    peak = peak_name(device_name(bench, series), series["device"], series["dtype"])
    reach = f"best {percent_text(b['fraction'])} of {peak}" if b["fraction"] is not None else "peak unknown"
    return f"{series['label']} · {reach}"


# the key is HTML beside the plots, not a Bokeh legend: it wraps at any width, where a legend of a dozen
# entries spilled past a phone-width plot. Glyphs as text: filled and hollow markers, solid and dotted lines.
MARKER_TEXT = {"square": "■□", "circle": "●○", "triangle": "▲△", "diamond": "◆◇", "inverted_triangle": "▼▽",
               "star": "★☆", "hex": "⬢⬡", "plus": "++", "square_pin": "◼◻"}


def key_swatch(colour: str, marker: str | None, dash: str, filled: bool = True) -> str:
    line = (f"<span style='display:inline-block;width:1.7em;vertical-align:middle;"
            f"border-top:2px {dash} {colour}'></span>")
    mark = MARKER_TEXT.get(marker, "  ")[0 if filled else 1] if marker else ""
    return f"<span aria-hidden='true' style='white-space:nowrap'>{line}<span style='color:{colour}'>{mark}</span></span>"


def key_entry(swatch: str, label: str) -> str:
    return (f"<li style='display:flex;gap:0.4em;align-items:baseline;margin:0.15em 0'>{swatch}"
            f"<span>{html.escape(label)}</span></li>")


def throughput_key(groups: list[tuple[str, list[str]]]) -> Div:
    """``groups``: (heading, entries) in order; each entry from ``key_entry``."""
    parts = "".join(f"<div style='margin-top:0.4em'><b>{html.escape(heading)}</b>"
                    f"<ul style='list-style:none;padding:0;margin:0'>{''.join(entries)}</ul></div>"
                    for heading, entries in groups if entries)
    return Div(text=f"<div style='font-size:13px;line-height:1.35'>{parts}</div>", sizing_mode="stretch_width",
               name=f"{THROUGHPUT_ID}-key")


def series_source(bench, series: dict) -> ColumnDataSource:
    arrays = series_arrays(bench, series["name"])
    known = series["peak_gflops"] is not None
    return ColumnDataSource({
        **arrays,
        "series": [series["label"]] * len(arrays["n"]),
        "time_text": [seconds_text(s) for s in arrays["seconds"]],
        "rate_text": [rate_text(g) for g in arrays["gflops"]],
        "fraction_text": [percent_text(f) if known else "unknown" for f in arrays["fraction"]],
    })


def peak_lines(lines) -> list[tuple[float, str, str]]:
    """(GFLOP/s, short tag, label naming its source) of each distinct peak the drawn series are
    fractions of, lowest first."""
    peaks = {}
    for run, series, _ in lines:
        peak = run.peaks[series["device"]][series["dtype"]]
        if peak["gflops"]:
            name = device_name(run, series)
            short = peak_name(name, series["device"], series["dtype"]).removeprefix("NVIDIA ")
            tag = f"{short} {peak_text(peak['gflops'])}"
            peaks[(peak["gflops"], tag, peak_label(name, series["device"], series["dtype"], peak))] = None
    return sorted(peaks)


def crossovers(bench, records) -> list[tuple[int, str]]:
    """(n, label) where a GPU series including copies starts to beat the CPU, for each GPU run."""
    found = []
    for run in [bench, *records]:
        for name, info in run.crossover.items():
            if name.endswith("_transfer") and info["n"] is not None:
                dtype = DTYPE_NAMES[next(s["dtype"] for s in run.series if s["name"] == name)]
                found.append((info["n"], f"GPU {dtype} incl. copies faster from n = {info['n']:,}"))
    return found


def chart(chart_id: str, runs) -> Chart:
    """The chart ``chart_id`` of ``CHARTS``, from ``runs.runs()``."""
    if chart_id == SCHEDULE_ID:
        return schedule_chart(runs.steps)
    if chart_id == THROUGHPUT_ID:
        return throughput_chart(runs.bench, runs.records)
    raise KeyError(f"no chart {chart_id!r} in {PAGE}; its charts are {', '.join(CHARTS)}")


def throughput_chart(bench, records=(), chart_id: str = THROUGHPUT_ID) -> Chart:
    """``bench``: this machine's ``runs.Bench``; ``records``: recorded GPU runs, drawn too and marked so."""
    lines = series_lines(bench, records)
    sources = [series_source(t, s) for t, s, _ in lines]
    all_n = np.concatenate([src.data["n"] for src in sources])
    seconds = np.concatenate([src.data["seconds"] for src in sources])
    rates = np.concatenate([src.data["gflops"] for src in sources])
    peaks = peak_lines(lines)
    x_range = Range1d(float(all_n.min()) / 1.4, float(all_n.max()) * 1.4)
    # powers of 4: labels that still fit side by side on a phone-width plot
    ticks = [int(n) for n in np.unique(all_n) if int(n) & (int(n) - 1) == 0 and (int(n).bit_length() - 1) % 2 == 0]
    top = max([float(rates.max())] + [g for g, *_ in peaks])
    repeats = bench.timing_repeats

    timing = book_figure(f"Seconds per n×n product (median of {repeats} runs)", 280,
                         x_axis_type="log", y_axis_type="log", x_range=x_range,
                         y_range=Range1d(float(seconds.min()) / 3, float(seconds.max()) * 3),
                         x_axis_label="matrix size n", y_axis_label="seconds")
    rate = book_figure("Rate, 2n³ FLOPs / time; dashed: peaks", 330,
                       x_axis_type="log", y_axis_type="log", x_range=x_range,
                       y_range=Range1d(float(rates.min()) / 3, top * 6),
                       x_axis_label="matrix size n", y_axis_label="GFLOP/s")
    groups = {heading(bench, False): []}
    for record in records:
        groups.setdefault(heading(record, True), [])
    hovered = {id(timing): [], id(rate): []}
    for i, ((run, series, recorded), src) in enumerate(zip(lines, sources)):
        colour, marker = SERIES_STYLE.get(series["name"], OTHER_STYLES[i % len(OTHER_STYLES)])
        dash = "dotted" if series["includes_transfer"] else "solid"
        fill = None if series["includes_transfer"] or recorded else colour
        drawn = []
        for fig, y in ((timing, "seconds"), (rate, "gflops")):
            fig.line("n", y, source=src, color=colour, line_width=2, line_dash=dash,
                     line_alpha=0.7 if recorded else 1.0)
            dots = fig.scatter("n", y, source=src, marker=marker, size=7, line_color=colour, fill_color=fill)
            hovered[id(fig)].append(dots)
            drawn.append(dots)
        groups[heading(run, recorded)].append(
            key_entry(key_swatch(colour, marker, dash, fill is not None), legend_label(run, series)))

    # each peak: a dashed line, a short tag at the left (where every series is still far below it), and a
    # key entry that names its source
    x_left = float(x_range.start) * 1.1
    peak_entries = []
    for j, (gflops, tag, label) in enumerate(peaks):
        rate.line([float(x_range.start), float(x_range.end)], [gflops, gflops], line_dash="dashed",
                  color=palette.MUTED, line_width=2)
        peak_entries.append(key_entry(key_swatch(palette.MUTED, None, "dashed"), label))
        crowded = j + 1 < len(peaks) and peaks[j + 1][0] < gflops * 4  # the next line up is close: go below
        rate.add_layout(Label(x=x_left, y=gflops, text=tag, text_font_size="10px", tags=["ink"],
                              y_offset=-3 if crowded else 3, text_baseline="top" if crowded else "bottom"))
    crossover_entries = []
    for n, label in crossovers(bench, records):
        for fig in (timing, rate):
            fig.add_layout(Span(location=n, dimension="height", line_dash="dotdash", line_color=palette.OPTIMUM,
                                line_width=2))
        crossover_entries.append(key_entry(key_swatch(palette.OPTIMUM, None, "dashed"), label))

    tooltips = [("", "@series"), ("n", "@n{0,0}"), ("time", "@time_text"), ("rate", "@rate_text"),
                ("of peak", "@fraction_text")]
    for fig in (timing, rate):
        fig.xaxis.ticker = FixedTicker(ticks=ticks)
        fig.add_tools(HoverTool(renderers=hovered[id(fig)], tooltips=tooltips))
    key = throughput_key([*groups.items(), ("Peaks (dashed lines)", peak_entries),
                          ("Crossovers (vertical lines)", crossover_entries)])

    gpus = [bench.gpu_name] if bench.gpu_name else []
    gpus += [f"{r.gpu_name} (recorded)" for r in records if measured_series(r, "cuda")]
    devices = bench.cpu.model + (f" and {', '.join(gpus)}" if gpus else "")
    caption = f"Matrix multiply measured on {devices}, {bench.measured_on}."
    layout = column(timing, rate, key, sizing_mode="stretch_width")
    return Chart(chart_id, CHARTS[THROUGHPUT_ID], layout, [], caption=caption)


def heading(bench, recorded: bool) -> str:
    if recorded:
        return f"Recorded on the {bench.gpu_name}, {bench.measured_on}"
    gpu = bench.gpu_name
    return f"Measured while this book was built: {bench.cpu.model}" + (f" and {gpu}" if gpu else "")
