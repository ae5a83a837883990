"""The hardware chapter's measuring layer: timer, FLOP counts, peaks, records, schedules, a real run."""
import json
import math
import time

import numpy as np
import pytest
import torch

from explainers.hardware import peak, records
from explainers.hardware import train
from explainers.hardware.train import BenchConfig, ScheduleConfig
from explainers.timeline import Timeline


@pytest.fixture(autouse=True)
def cache_in_tmp(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path / "cache"))


# --- arithmetic and timer -------------------------------------------------------------------------

def test_gflops_counts_two_n_cubed_flops_per_product():
    assert train.matmul_flops(3) == 54
    assert train.gflops(1000, 2.0) == pytest.approx(1.0)  # 2e9 FLOPs in 2 s


def test_python_loop_computes_the_same_product_as_numpy():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((5, 7)), rng.standard_normal((7, 3))
    assert np.allclose(train.python_matmul(a.tolist(), b.tolist()), a @ b)


class FakeClock:
    """A clock that moves only when the timed function says it took time."""
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_timer_skips_warmup_and_keeps_every_repeat():
    clock, durations = FakeClock(), iter([100.0, 50.0, 1.0, 5.0, 3.0])

    def fn():
        clock.now += next(durations)

    times = train.time_call(fn, warmup=2, repeats=3, clock=clock)
    assert times.tolist() == [1.0, 5.0, 3.0]  # the slow warm-up calls are not in the result
    assert np.median(times) == 3.0


def test_timer_waits_for_queued_device_work_before_reading_the_clock():
    clock, pending = FakeClock(), []

    def launch():  # like a CUDA kernel launch: returns at once, the work finishes later
        pending.append(2.0)

    def synchronize():
        clock.now += sum(pending)
        pending.clear()

    assert train.time_call(launch, warmup=1, repeats=3, sync=synchronize, clock=clock).tolist() == [2.0] * 3
    assert train.time_call(launch, warmup=0, repeats=1, clock=clock).tolist() == [0.0]  # why sync matters


def test_timer_measures_a_real_sleep():
    times = train.time_call(lambda: time.sleep(0.01), warmup=1, repeats=3)
    assert len(times) == 3 and 0.009 <= np.median(times) < 0.1


# --- peaks ------------------------------------------------------------------------------------------

def cpuinfo(model, flags, mhz, cores, threads_per_core=1, vendor="GenuineIntel", family=6, model_no=85):
    blocks = []
    for cpu in range(cores * threads_per_core):
        blocks.append(f"processor\t: {cpu}\nvendor_id\t: {vendor}\ncpu family\t: {family}\n"
                      f"model\t\t: {model_no}\nmodel name\t: {model}\ncpu MHz\t\t: {mhz}\n"
                      f"physical id\t: 0\ncore id\t\t: {cpu % cores}\nflags\t\t: {flags}\n")
    return "\n".join(blocks)


def test_cpu_peak_avx2_fma_is_cores_times_clock_times_32_fp32_flops():
    text = cpuinfo("AMD EPYC", "fpu sse2 avx avx2 fma", 2445.0, 2, vendor="AuthenticAMD", family=25,
                   model_no=1)
    result = peak.cpu_peak(text)
    assert result["cores"] == 2 and result["flops_per_cycle"] == {"float32": 32, "float64": 16}
    assert result["float32"]["gflops"] == pytest.approx(2 * 2.445 * 32, rel=1e-4)
    assert result["float64"]["gflops"] == pytest.approx(2 * 2.445 * 16, rel=1e-4)
    assert "cpu MHz" in result["float32"]["source"]  # says which clock it assumed


def test_cpu_peak_avx512_prefers_cpufreq_max_clock_and_counts_physical_cores():
    text = cpuinfo("Intel Xeon Gold", "sse2 avx avx2 fma avx512f", 1200.0, 4, threads_per_core=2)
    result = peak.cpu_peak(text, max_freq_khz="3500000\n")
    assert result["cores"] == 4 and result["logical_cpus"] == 8  # hyper-threads share FMA units
    assert result["float32"]["gflops"] == pytest.approx(4 * 3.5 * 64)
    assert "cpuinfo_max_freq" in result["float32"]["source"]


def test_cpu_peak_zen4_avx512_counts_double_pumped_units_as_avx2():
    text = cpuinfo("AMD EPYC 9654", "avx2 fma avx512f", 2400.0, 1, vendor="AuthenticAMD", family=25,
                   model_no=17)
    assert peak.cpu_peak(text)["flops_per_cycle"]["float32"] == 32


def test_cpu_peak_without_any_clock_refuses_to_guess():
    with pytest.raises(ValueError):
        peak.cpu_peak("processor\t: 0\nflags\t\t: avx2 fma\n")


@pytest.mark.parametrize("name, fp32, bf16", [
    ("NVIDIA H100 80GB HBM3", 67_000, 989_500),
    ("NVIDIA H100 PCIe", 51_000, 756_500),
    ("NVIDIA H200", 67_000, 989_500),
    ("NVIDIA A100-SXM4-80GB", 19_500, 312_000),
    ("NVIDIA L4", 30_300, 121_000),
    ("NVIDIA L40S", 91_600, 362_050),
    ("Tesla T4", 8_100, None),
    ("NVIDIA GeForce RTX 4090", 82_600, 165_200),
    ("NVIDIA H100 NVL", 60_000, 835_500),  # not mistaken for an SXM part
    ("NVIDIA H200 NVL", 60_000, 835_500),
    ("NVIDIA A10", 31_200, 125_000),
    ("NVIDIA GH200 480GB", None, None),
    ("NVIDIA A10G", None, None),
])
def test_gpu_peak_table_gives_dense_datasheet_figures_and_none_when_unknown(name, fp32, bf16):
    result = peak.gpu_peak(name)
    assert result["float32"]["gflops"] == (pytest.approx(fp32) if fp32 else None)
    assert result["bfloat16"]["gflops"] == (pytest.approx(bf16) if bf16 else None)
    assert result["float32"]["source"]


def test_every_sparse_datasheet_figure_is_halved_and_the_halving_is_shown():
    for row in peak.GPU_PEAKS:
        source = row.bf16_source()
        assert row.card in source and row.document in source
        if row.bf16_sparse:
            assert row.bf16_dense == row.bf16_printed / 2
            assert f"{row.bf16_printed:,g} / 2 = {row.bf16_dense:,g}" in source and "with sparsity" in source
        elif row.bf16_printed is not None:
            assert "dense" in source and row.bf16_dense == row.bf16_printed


# --- crossover ----------------------------------------------------------------------------------------

def test_crossover_is_the_size_from_which_the_gpu_stays_faster():
    n = np.array([16, 32, 64, 128, 256, 512])
    cpu = np.array([1, 2, 3, 4, 5, 6.0])
    everywhere = np.ones(6, dtype=bool)
    gpu = np.array([9, 1, 9, 3, 2, 1.0])  # faster at 32 by chance, then for good from 128
    assert train.crossover(n, gpu, everywhere, cpu, everywhere) == 128
    assert train.crossover(n, gpu + 10, everywhere, cpu, everywhere) is None
    cpu_only_small = np.array([1, 1, 1, 1, 0, 0], dtype=bool)  # no CPU timing there: no comparison
    assert train.crossover(n, gpu, everywhere, cpu, cpu_only_small) == 128


# --- serial vs parallel ---------------------------------------------------------------------------

def test_every_schedule_computes_every_output_cell_exactly_once():
    config = ScheduleConfig(n=5, lanes=(1, 3, 25), measure_n=8, warmup=0, repeats=2)
    timeline = train.serial_vs_parallel(config)
    for lanes in config.lanes:
        active, done = timeline[f"lanes_{lanes}.active"], timeline[f"lanes_{lanes}.done"]
        assert active.shape == (timeline.n_frames, 25)
        assert (active.sum(axis=0) == 1).all()  # each cell once
        assert active.sum(axis=1).max() == lanes  # never more at once than there are lanes
        assert not done[0].any() and done[-1].all()
        assert (active.any(axis=1)).sum() == math.ceil(25 / lanes)
    assert timeline["lanes_1.step"].tolist() == list(range(25))  # serial: row-major, one per step


def test_serial_vs_parallel_reports_real_times_and_the_loop_is_slowest():
    timeline = train.serial_vs_parallel(ScheduleConfig(n=4, lanes=(1, 16), measure_n=32, repeats=3))
    seconds = timeline["measured.seconds"]
    assert np.isfinite(seconds).all() and (seconds > 0).all()
    names = [m["name"] for m in timeline.meta["measured"]]
    assert names[0] == "python_loop" and seconds[0] > seconds[names.index("numpy_1thread")]


# --- a real measurement ---------------------------------------------------------------------------

def tiny_config():
    return BenchConfig(sizes=(8, 16, 32), python_max_n=16, cpu_max_n=32, gpu_max_n=32, warmup=1, repeats=3)


def test_tiny_measure_has_finite_positive_times_and_a_mask_instead_of_nan():
    timeline = train.measure(tiny_config())
    assert timeline["n"].tolist() == [8, 16, 32]
    for array in {**timeline.frames, **timeline.fixed}.values():
        assert not (array.dtype.kind == "f" and np.isnan(array).any())
    for series in timeline.meta["series"]:
        name, mask = series["name"], timeline[f"{series['name']}.measured"]
        assert mask.tolist() == [n <= series["max_n"] for n in (8, 16, 32)]
        seconds, rate = timeline[f"{name}.seconds"], timeline[f"{name}.gflops"]
        assert (seconds[mask] > 0).all() and (timeline[f"{name}.repeats"][mask] > 0).all()
        assert (seconds[~mask] == 0).all() and (rate[~mask] == 0).all()
        assert rate[mask] == pytest.approx(2 * timeline["n"][mask] ** 3 / seconds[mask] / 1e9, rel=1e-3)
        if series["peak_gflops"]:
            assert timeline[f"{name}.peak_fraction"][mask] == pytest.approx(rate[mask] / series["peak_gflops"],
                                                                            rel=1e-3)
    assert timeline.meta["peaks"]["cpu"]["float32"]["gflops"] > 0
    assert timeline.meta["devices"]["cpu"]["device"] == "cpu"
    assert train.measure(tiny_config()).meta["cache"] == "hit"


# --- recorded GPU runs ----------------------------------------------------------------------------

def fake_gpu_timeline():
    """A made-up timeline shaped like a GPU run, for testing validation only (never shipped)."""
    n = np.array([16, 32])
    frames = {"n": n, "flops": 2.0 * n**3}
    for name in ("torch_cpu", "torch_cuda_fp32"):
        frames.update({f"{name}.measured": np.array([True, True]), f"{name}.seconds": np.array([1e-5, 2e-5]),
                       f"{name}.gflops": 2.0 * n**3 / np.array([1e-5, 2e-5]) / 1e9,
                       f"{name}.peak_fraction": np.array([0.1, 0.2]), f"{name}.repeats": np.full((2, 3), 1e-5)})
    series = [{"name": "torch_cpu", "device": "cpu"}, {"name": "torch_cuda_fp32", "device": "cuda"}]
    return Timeline(frames=frames, meta={"series": series})


PROVENANCE = {"device_name": "Test GPU", "driver": "0.0", "torch": "0", "cuda": "0",
              "date": "2000-01-01T00:00:00+00:00", "command": "pytest"}


def test_a_valid_record_round_trips_through_json(tmp_path):
    path = records.write_record(records.to_record(fake_gpu_timeline(), PROVENANCE), tmp_path)
    [loaded] = records.load_records(tmp_path)
    assert path.name == "2000-01-01-test-gpu.json"
    assert loaded.meta["source"] == "recorded" and loaded.meta["provenance"] == PROVENANCE
    assert loaded["torch_cuda_fp32.seconds"] == pytest.approx([1e-5, 2e-5])
    assert loaded["torch_cuda_fp32.measured"].dtype == bool


@pytest.mark.parametrize("field", records.PROVENANCE)
def test_a_record_missing_a_provenance_field_is_rejected_by_name(tmp_path, field):
    record = records.to_record(fake_gpu_timeline(), {k: v for k, v in PROVENANCE.items() if k != field})
    (tmp_path / "bad.json").write_text(json.dumps(record))
    with pytest.raises(records.RecordError, match=f"bad.json.*{field}"):
        records.load_records(tmp_path)


def test_a_record_without_a_gpu_measurement_or_with_nan_is_rejected():
    record = records.to_record(fake_gpu_timeline(), PROVENANCE)
    record["frames"]["torch_cuda_fp32.measured"] = [False, False]
    with pytest.raises(records.RecordError, match="no GPU measurement"):
        records.from_record(record)
    record = records.to_record(fake_gpu_timeline(), PROVENANCE)
    record["frames"]["torch_cuda_fp32.seconds"] = [float("nan"), 1.0]
    with pytest.raises(records.RecordError, match="finite"):
        records.from_record(json.loads(json.dumps(record)))


def test_at_least_one_record_ships_and_each_loads():
    shipped = sorted(records.RECORDS_DIR.glob("*.json"))
    assert shipped, "no GPU record ships: a build without a GPU would show none"
    loaded = records.load_records()
    assert [t.meta["record_file"] for t in loaded] == [p.name for p in shipped]
    for timeline in loaded:
        assert timeline.meta["source"] == "recorded"
        assert any(s["device"] == "cuda" for s in timeline.meta["series"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
def test_record_command_refuses_without_a_gpu_and_writes_nothing(tmp_path):
    with pytest.raises(SystemExit) as stopped:
        records.main(["--out", str(tmp_path)])
    assert stopped.value.code == 1 and not list(tmp_path.iterdir())


# --- the book's trainers, timed per device ------------------------------------------------------------

def test_forced_device_is_what_every_trainer_picks_inside_the_block():
    from explainers.device import forced, pick

    natural = pick()
    with forced("cpu"):
        assert pick().type == "cpu"
        with forced("meta"):
            assert pick().type == "meta"
        assert pick().type == "cpu"
    assert pick() == natural


def test_tiny_trainer_timings_are_positive_and_say_where_they_ran():
    from explainers.hardware import trainer_times

    chosen = [t for t in trainer_times.TRAINERS if t.name in ("dictionary", "phase_diagram")]
    times = trainer_times.time_trainers(["cpu"], repeats=2, tiny=True, trainers=chosen, log=lambda _: None)
    assert [e["name"] for e in times["runs"]] == ["dictionary", "phase_diagram"]
    for entry in times["runs"]:
        assert len(entry["cpu"]["seconds"]) == 2 and all(s > 0 for s in entry["cpu"]["seconds"])
        assert entry["cpu"]["frames"] >= 1 and entry["config"]["steps"] == 4
    assert trainer_times.check_trainer_times(times) is None
    json.dumps(times)  # stored in a record: plain JSON


def test_a_trainer_whose_package_is_missing_is_skipped_with_the_reason():
    from explainers.hardware import trainer_times

    missing = trainer_times.Trainer("x", "x", "x", "explainers.unmixer.train", "train_dictionary",
                                    "DictionaryConfig", needs=("no_such_package_here",))
    [entry] = trainer_times.time_trainers(["cpu"], trainers=[missing], log=lambda _: None)["runs"]
    assert "no_such_package_here" in entry["skipped"] and "cpu" not in entry


def test_a_record_with_bad_trainer_times_is_rejected():
    timeline = fake_gpu_timeline()
    timeline.meta["trainers"] = {"devices": ["cpu", "cuda"], "runs": [
        {"name": "toy", "cpu": {"seconds": [0.5]}, "cuda": {"seconds": [-1.0]}}]}
    with pytest.raises(records.RecordError, match="toy on cuda"):
        records.from_record(records.to_record(timeline, PROVENANCE))
    timeline.meta["trainers"]["runs"][0]["cuda"] = {"seconds": [0.9]}
    assert records.from_record(records.to_record(timeline, PROVENANCE)).meta["trainers"]["runs"][0]["name"] == "toy"


def test_recorder_smoke_run_works_without_a_gpu_bokeh_or_gymnasium(tmp_path):
    """The recorder runs on a bare GPU machine: torch, numpy, scikit-learn; no Bokeh, gymnasium, gguf."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = Path(records.__file__).resolve().parents[2]
    blocked = ("bokeh", "gymnasium", "gguf")
    script = (f"import sys, runpy; [sys.modules.__setitem__(m, None) for m in {blocked!r}]; "
              "sys.argv = ['records', '--smoke', '--out', sys.argv[1]]; "
              "runpy.run_module('explainers.hardware.records', run_name='__main__')")
    env = {**os.environ, "PYTHONPATH": str(src), "EXPLAINERS_CACHE": str(tmp_path / "cache"),
           "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "cartpole: skipped (needs gymnasium" in done.stdout
    assert "smoke run passed" in done.stdout and not (tmp_path / "out").exists()


def test_every_timed_trainer_names_a_cached_function_and_its_config():
    import importlib

    from explainers.hardware import trainer_times

    for trainer in trainer_times.TRAINERS:
        module = importlib.import_module(trainer.module)
        assert callable(getattr(module, trainer.function).uncached), trainer.name
        book, tiny = trainer_times.config_of(trainer), trainer_times.config_of(trainer, tiny=True)
        assert book != tiny and type(book) is type(tiny), trainer.name
        if trainer.prerequisite:
            function, field = trainer.prerequisite
            assert callable(getattr(module, function)) and hasattr(book, field)
