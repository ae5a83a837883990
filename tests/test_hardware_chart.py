"""The CPU vs GPU charts and the chapter's numbers, built from tiny real measurements in a fresh cache."""
import json

import numpy as np
import pytest
from bokeh.models import ColumnDataSource, LegendItem

from explainers.embed import page_html
from explainers.hardware import bench, records, report
from explainers.hardware.bench import BenchConfig, ScheduleConfig
from explainers.hardware.chart import cell_states, schedule_chart, throughput_chart
from explainers.timeline import Timeline


@pytest.fixture
def tiny(tmp_cache):
    timeline = bench.measure(BenchConfig(sizes=(8, 16, 32, 64), python_max_n=16, cpu_max_n=64, gpu_max_n=64,
                                         warmup=0, repeats=2))
    steps = bench.serial_vs_parallel(ScheduleConfig(n=4, lanes=(1, 4, 16), measure_n=16, warmup=0, repeats=2))
    return timeline, steps


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
    return records.from_record(json.loads(json.dumps(record)), "test.json")


def sources(chart) -> list[ColumnDataSource]:
    return [m for m in chart.layout.references() if isinstance(m, ColumnDataSource)]


def finite_everywhere(chart):
    for source in sources(chart):
        for name, values in source.data.items():
            array = np.asarray(values)
            if array.dtype.kind in "fiu":
                assert np.isfinite(array).all(), f"{name} holds NaN or inf"


def legend_labels(chart) -> list[str]:
    return [item.label["value"] for item in chart.layout.references() if isinstance(item, LegendItem)]


def test_throughput_chart_draws_each_series_only_at_the_sizes_it_measured(tiny):
    timeline, _ = tiny
    chart = throughput_chart(timeline)
    finite_everywhere(chart)
    drawn = [s for s in sources(chart) if "series" in s.data]
    assert len(drawn) == len(report.measured_series(timeline))
    for series in report.measured_series(timeline):
        [source] = [s for s in drawn if s.data["series"][0] == series["label"]]
        mask = timeline[f"{series['name']}.measured"]
        assert list(source.data["n"]) == timeline["n"][mask].tolist()
        assert (np.asarray(source.data["seconds"]) > 0).all() and (np.asarray(source.data["gflops"]) > 0).all()
    python = next(s for s in drawn if s.data["series"][0] == "Python triple loop (serial)")
    assert max(python.data["n"]) == 16  # never a zero at the sizes the loop skipped
    assert page_html(chart)


def test_every_series_is_labelled_with_its_best_fraction_of_peak_and_each_peak_with_its_source(tiny):
    timeline, _ = tiny
    labels = legend_labels(throughput_chart(timeline))
    for series in report.measured_series(timeline):
        fraction = report.percent_text(report.best(timeline, series)["fraction"])
        assert any(label.startswith(series["label"]) and f"best {fraction} of CPU" in label for label in labels)
    peak = timeline.meta["peaks"]["cpu"]["float32"]
    assert any(report.short_source(peak["source"]) in label for label in labels)  # cores × clock × FLOP/cycle


def test_a_recorded_gpu_run_is_drawn_and_marked_recorded(tiny):
    timeline, _ = tiny
    recorded = recorded_gpu_run()
    chart = throughput_chart(timeline, [recorded])
    finite_everywhere(chart)
    labels = legend_labels(chart)
    assert any("recorded: Test GPU, 2000-01-02" in label for label in labels)
    assert not any(label.startswith("torch cpu") for label in labels)  # the recording machine's CPU is not drawn
    transfer = next(s for s in sources(chart) if s.data.get("series", [""])[0] == "torch cuda fp32 transfer")
    assert list(transfer.data["n"]) == [16, 32, 64, 128]
    assert "Test GPU" in chart.title
    assert "from n = 32" in report.gpu_story(timeline, [recorded])


def test_without_a_gpu_or_record_the_chapter_says_so_and_quotes_no_gpu_numbers(tiny):
    timeline, steps = tiny
    if report.measured_series(timeline, "cuda"):
        pytest.skip("this machine has a GPU")
    facts = report.facts(timeline, steps, [])
    assert "No GPU record exists yet" in facts["gpu_story"]
    assert facts["records_where"] == "none"
    assert "no GPU" in facts["bench_where"] and timeline.meta["cpu"]["model"] in facts["bench_where"]


def test_schedule_chart_colours_cells_from_the_timelines_active_and_done_arrays(tiny):
    _, steps = tiny
    for schedule in steps.meta["schedules"]:
        codes = cell_states(steps, schedule["name"])
        assert (codes == 1).tolist() == steps[f"{schedule['name']}.active"].tolist()
        assert (codes == 2).tolist() == steps[f"{schedule['name']}.done"].tolist()
    chart = schedule_chart(steps)
    finite_everywhere(chart)
    assert "state_names" in page_html(chart)
    [table] = [m for m in chart.layout.references() if m.name == "serial-vs-parallel-measured"]
    for entry, seconds in zip(steps.meta["measured"], steps["measured.seconds"]):  # real times, and where
        assert entry["label"] in table.text and report.seconds_text(float(seconds)) in table.text
    assert steps.meta["devices"]["cpu"]["device_name"] in table.text


def test_formatters_pick_readable_units():
    assert report.seconds_text(0.0362) == "36.2 ms" and report.seconds_text(8.3e-6) == "8.3 µs"
    assert report.seconds_text(1.5) == "1.5 s"
    assert report.rate_text(156.51, 4) == "156.5 GFLOP/s" and report.rate_text(67_000) == "67 TFLOP/s"
    assert report.percent_text(0.58) == "58%" and report.percent_text(0.00041) == "0.041%"
    assert report.peak_text(78.25) == "78.3 GFLOP/s" and report.peak_text(67_000.0) == "67.0 TFLOP/s"
