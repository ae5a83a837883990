"""The CPU vs GPU charts and the chapter's numbers, built from tiny real measurements in a fresh cache."""
import json

import numpy as np
import pytest
from bokeh.models import ColumnDataSource, Div

from explainers.embed import page_html
from explainers.hardware import charts, records, train
from explainers.hardware.runs import Bench, HardwareRuns, Schedules
from explainers.hardware import facts as report
from explainers.hardware import words
from explainers.hardware.charts import cell_states, schedule_chart, throughput_chart
from explainers.timeline import Timeline


@pytest.fixture
def tiny(tmp_cache):
    config = train.tiny_config()
    return (Bench.from_timeline(train.measure(config.bench)),
            Schedules.from_timeline(train.serial_vs_parallel(config.schedule)))


def recorded_gpu_run():
    """A made-up record shaped like a GPU run, to test how records are drawn (never shipped)."""
    n = np.array([8, 16, 32, 64, 128])
    frames = {"n": n, "flops": 2.0 * n**3}
    measured = {"torch_cpu": [True, True, True, False, False], "torch_cuda_fp32": [True, True, True, True, True],
                "torch_cuda_fp32_transfer": [False, True, True, True, True]}
    series = []
    for name, mask in measured.items():
        mask = np.array(mask)
        seconds = np.where(mask, 1e-5 * (n / 8.0) ** 2, 0.0)
        rate = np.where(mask, 2.0 * n**3 / np.where(mask, seconds, 1) / 1e9, 0.0)
        device = "cpu" if name == "torch_cpu" else "cuda"
        frames |= {f"{name}.measured": mask, f"{name}.seconds": seconds, f"{name}.gflops": rate,
                   f"{name}.peak_fraction": rate / 67_000.0, f"{name}.repeats": np.repeat(seconds[:, None], 2, 1)}
        series.append({"name": name, "label": name.replace("_", " "), "device": device, "dtype": "float32",
                       "threads": None, "includes_transfer": name.endswith("transfer"), "max_n": 128,
                       "peak_gflops": 67_000.0, "peak_source": "test datasheet: FP32 67 TFLOP/s"})
    peak = {"gflops": 67_000.0, "source": "Test datasheet, Test GPU (BF16 0* / 2): FP32 67.0 TFLOP/s"}
    meta = {"series": series, "cpu": {"model": "Test CPU", "cores": 4},
            "devices": {"cpu": {"device_name": "Test CPU"}, "cuda": {"device_name": "Test GPU"}},
            "peaks": {"cpu": {"float32": {"gflops": 100.0, "source": "4 cores × 1 GHz × 25 = 100"}},
                      "cuda": {"float32": peak}},
            "crossover": {"torch_cuda_fp32_transfer": {"n": 32, "against": "the fastest CPU series at each size",
                                                       "compared_up_to_n": 32}}}
    provenance = {"device_name": "Test GPU", "driver": "0.0", "torch": "0", "cuda": "0",
                  "date": "2000-01-02T00:00:00+00:00", "command": "pytest"}
    record = records.to_record(Timeline(frames=frames, meta=meta), provenance)
    return Bench.from_timeline(records.from_record(json.loads(json.dumps(record)), "test.json"))


def sources(chart) -> list[ColumnDataSource]:
    return [m for m in chart.layout.references() if isinstance(m, ColumnDataSource)]


def finite_everywhere(chart):
    for source in sources(chart):
        for name, values in source.data.items():
            array = np.asarray(values)
            if array.dtype.kind in "fiu":
                assert np.isfinite(array).all(), f"{name} holds NaN or inf"


def legend_labels(chart) -> list[str]:
    """The entries of the chart's key (an HTML list under the plots), as plain text."""
    import html
    import re

    [key] = [m for m in chart.layout.references() if isinstance(m, Div) and m.name == "matmul-throughput-key"]
    return [html.unescape(label) for label in re.findall(r"<span>([^<]*)</span></li>", key.text)]


def key_headings(chart) -> list[str]:
    [key] = [m for m in chart.layout.references() if isinstance(m, Div) and m.name == "matmul-throughput-key"]
    import re

    return re.findall(r"<b>(.*?)</b>", key.text)


def test_throughput_chart_draws_each_series_only_at_the_sizes_it_measured(tiny):
    timeline, _ = tiny
    chart = throughput_chart(timeline)
    finite_everywhere(chart)
    drawn = [s for s in sources(chart) if "series" in s.data]
    assert len(drawn) == len(words.measured_series(timeline))
    for series in words.measured_series(timeline):
        [source] = [s for s in drawn if s.data["series"][0] == series["label"]]
        mask = timeline.timeline[f"{series['name']}.measured"]
        assert list(source.data["n"]) == timeline.timeline["n"][mask].tolist()
        assert (np.asarray(source.data["seconds"]) > 0).all() and (np.asarray(source.data["gflops"]) > 0).all()
    python = next(s for s in drawn if s.data["series"][0] == "Python triple loop (serial)")
    assert max(python.data["n"]) == 16  # never a zero at the sizes the loop skipped
    assert page_html(chart)


def test_every_series_is_labelled_with_its_best_fraction_of_peak_and_each_peak_with_its_source(tiny):
    timeline, _ = tiny
    labels = legend_labels(throughput_chart(timeline))
    for series in words.measured_series(timeline):
        fraction = words.percent_text(words.best(timeline, series)["fraction"])
        assert any(label.startswith(series["label"]) and f"best {fraction} of CPU" in label for label in labels)
    peak = timeline.peaks["cpu"]["float32"]
    assert any(words.short_source(peak["source"]) in label for label in labels)  # cores × clock × FLOP/cycle


def test_a_recorded_gpu_run_is_drawn_and_marked_recorded(tiny):
    timeline, _ = tiny
    recorded = recorded_gpu_run()
    chart = throughput_chart(timeline, [recorded])
    finite_everywhere(chart)
    labels = legend_labels(chart)
    assert "Recorded on the Test GPU, 2000-01-02" in key_headings(chart)
    assert any(label.startswith("torch cuda fp32 transfer") for label in labels)
    assert not any(label.startswith("torch cpu") for label in labels)  # the recording machine's CPU is not drawn
    transfer = next(s for s in sources(chart) if s.data.get("series", [""])[0] == "torch cuda fp32 transfer")
    assert list(transfer.data["n"]) == [16, 32, 64, 128]
    assert "Test GPU" in chart.caption
    assert "from n = 32" in report.gpu_story(timeline, [recorded])


def test_without_a_gpu_or_record_the_chapter_says_so_and_quotes_no_gpu_numbers(tiny):
    timeline, steps = tiny
    if words.measured_series(timeline, "cuda"):
        pytest.skip("this machine has a GPU")
    facts = report.facts(HardwareRuns(timeline, steps))
    assert "No GPU record exists yet" in facts["gpu_story"]
    assert facts["records_where"] == "none"
    assert "no GPU" in facts["bench_where"] and timeline.cpu.model in facts["bench_where"]


def test_schedule_chart_colours_cells_from_the_timelines_active_and_done_arrays(tiny):
    _, steps = tiny
    for schedule in steps.schedules:
        codes = cell_states(steps, schedule["name"])
        assert (codes == 1).tolist() == steps.timeline[f"{schedule['name']}.active"].tolist()
        assert (codes == 2).tolist() == steps.timeline[f"{schedule['name']}.done"].tolist()
    chart = schedule_chart(steps)
    finite_everywhere(chart)
    assert "state_names" in page_html(chart)
    [table] = [m for m in chart.layout.references() if m.name == "serial-vs-parallel-measured"]
    for entry, seconds in zip(steps.measured, steps.timeline["measured.seconds"]):  # real times, and where
        assert entry["label"] in table.text and words.seconds_text(float(seconds)) in table.text
    assert steps.devices["cpu"]["device_name"] in table.text


def test_formatters_pick_readable_units():
    assert words.seconds_text(0.0362) == "36.2 ms" and words.seconds_text(8.3e-6) == "8.3 µs"
    assert words.seconds_text(1.5) == "1.5 s"
    assert words.rate_text(156.51, 4) == "156.5 GFLOP/s" and words.rate_text(67_000) == "67 TFLOP/s"
    assert words.percent_text(0.58) == "58%" and words.percent_text(0.00041) == "0.041%"
    assert words.peak_text(78.25) == "78.3 GFLOP/s" and words.peak_text(67_000.0) == "67.0 TFLOP/s"


# --- the recorded GPU: tensor cores, the copy cost, the book's trainers ------------------------------

@pytest.fixture
def h200():
    """The shipped record (real measurements), newest first."""
    return Bench.from_timeline(records.load_records()[-1])


def test_copy_split_is_the_difference_of_the_two_timed_runs(tiny, h200):
    rows = report.copy_rows(h200)
    alone, copied = words.series_arrays(h200, "torch_cuda_bf16"), words.series_arrays(h200, "torch_cuda_bf16_transfer")
    last = rows[-1]
    assert last["n"] == int(max(set(alone["n"]) & set(copied["n"])))
    assert last["compute_s"] == pytest.approx(alone["seconds"][alone["n"] == last["n"]][0])
    assert last["total_s"] == pytest.approx(copied["seconds"][copied["n"] == last["n"]][0])
    assert last["copy_s"] + last["compute_s"] == pytest.approx(last["total_s"])
    table = report.copy_table(HardwareRuns(tiny[0], tiny[1], (h200,))).text
    assert f"<td>{last['n']:,}</td>" in table and words.percent_text(last["copy_share"]) in table
    story = report.copy_story(h200)
    assert words.seconds_text(last["compute_s"]) in story and words.seconds_text(last["total_s"]) in story


def test_tensor_core_story_quotes_the_record_best_rates(h200):
    fp32 = words.best(h200, report.series_by_name(h200, "torch_cuda_fp32"))
    bf16 = words.best(h200, report.series_by_name(h200, "torch_cuda_bf16"))
    story = report.tensor_story(h200)
    assert words.rate_text(fp32["gflops"]) in story and words.rate_text(bf16["gflops"]) in story
    assert words.times_text(bf16["gflops"] / fp32["gflops"]) in story


def test_trainer_table_appears_only_when_a_record_timed_the_trainers(tiny, h200):
    bench, steps = tiny
    plain = HardwareRuns(bench, steps, (h200,))
    if h200.trainers is None:
        assert report.trainer_table(plain).text == ""
        assert "No recorded GPU run holds" in report.facts(plain)["trainer_story"]
    shipped = h200.timeline
    timed = records.from_record(json.loads(json.dumps(records.to_record(shipped, shipped.meta["provenance"]))),
                                "x.json")
    timed.meta["trainers"] = {  # made-up timings in the recorder's shape, to test the table (never shipped)
        "devices": ["cpu", "cuda"], "repeats": 2, "cpu": "Test CPU", "runs": [
            {"name": "a", "label": "Toy A: a small run", "cpu": {"median_s": 0.5, "seconds": [0.5, 0.5]},
             "cuda": {"median_s": 2.0, "seconds": [2.0, 2.0]}},
            {"name": "b", "label": "Toy B: a larger run", "cpu": {"median_s": 3.0, "seconds": [3.0, 3.0]},
             "cuda": {"median_s": 1.0, "seconds": [1.0, 1.0]}},
            {"name": "c", "label": "Toy C", "skipped": "needs gymnasium"}]}
    runs = HardwareRuns(bench, steps, (Bench.from_timeline(timed),))
    table = report.trainer_table(runs).text
    assert "Toy A: a small run" in table and "4× as long" in table and "3× faster" in table
    assert "Not timed there: c" in table
    story = report.facts(runs)["trainer_story"]
    assert "1 of the 2" in story and "toy a" in story


def test_chart_builds_each_registered_id_and_imports_no_torch(tiny):
    import subprocess
    import sys

    runs = HardwareRuns(*tiny, tuple(Bench.from_timeline(r) for r in records.load_records()))
    for chart_id, title in charts.CHARTS.items():
        built = charts.chart(chart_id, runs)
        assert built.title == title
        finite_everywhere(built)
    with pytest.raises(KeyError):
        charts.chart("no-such-chart", runs)
    probe = "import sys, explainers.hardware.charts, explainers.hardware.facts; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
