import importlib
import sys
from dataclasses import dataclass

import numpy as np
import pytest

from explainers import cache
from explainers.timeline import Timeline


@dataclass(frozen=True)
class ToyConfig:
    n: int = 3


CALLS = []


@cache.cached
def toy_run(config: ToyConfig) -> Timeline:
    CALLS.append(config)
    return Timeline(frames={"step": np.arange(config.n), "value": np.linspace(0, 1, config.n)},
                    meta={"n": config.n})


def entries(tmp_cache):
    return sorted(tmp_cache.rglob("*.npz"))


def test_second_call_with_same_config_does_not_recompute(tmp_cache):
    CALLS.clear()
    first = toy_run(ToyConfig(4))
    second = toy_run(ToyConfig(4))
    assert len(CALLS) == 1
    assert first.meta["cache"] == "miss" and second.meta["cache"] == "hit"
    np.testing.assert_array_equal(first["value"], second["value"])
    toy_run(ToyConfig(5))
    assert len(CALLS) == 2, "a different config must compute afresh"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_or_partial_cache_file_is_recomputed_not_trusted(tmp_cache, damage):
    CALLS.clear()
    toy_run(ToyConfig(6))
    (path,) = entries(tmp_cache)
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a zip file at all" * 10, "truncated": data[: len(data) // 2],
                      "empty": b""}[damage])
    again = toy_run(ToyConfig(6))
    assert len(CALLS) == 2
    assert again.meta["cache"] == "miss"
    assert cache.load(path) is not None, "the recomputed result replaces the damaged file"


def test_a_failed_write_leaves_no_file_behind(tmp_cache, monkeypatch):
    def explode(*args, **kwargs):
        raise KeyboardInterrupt  # as if the build were interrupted mid-write

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(KeyboardInterrupt):
        toy_run(ToyConfig(7))
    assert not list(tmp_cache.rglob("*.npz")) and not list(tmp_cache.rglob("*.part"))


def test_key_changes_when_the_source_of_the_run_changes(tmp_path, monkeypatch):
    module = tmp_path / "probe_run.py"
    module.write_text("def train(config):\n    return config\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    probe = importlib.import_module("probe_run")
    before = cache.key_for(probe.train, ToyConfig())
    assert cache.key_for(probe.train, ToyConfig()) == before
    module.write_text("def train(config):\n    # a changed comment is a changed run\n    return config\n")
    assert cache.key_for(probe.train, ToyConfig()) != before
    sys.modules.pop("probe_run", None)


def test_key_follows_imports_into_the_modules_a_run_uses():
    used = set(cache._imported_modules("explainers.regression.train"))
    assert {"explainers.cache", "explainers.data", "explainers.timeline", "explainers.device"} <= used
    assert "explainers.regression.charts" not in used, "chart code must not invalidate training"


def test_key_changes_when_a_data_file_changes(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("1,2,3\n")
    before = cache.key_for(toy_run, ToyConfig(), [data])
    data.write_text("1,2,4\n")
    assert cache.key_for(toy_run, ToyConfig(), [data]) != before


def test_timeline_rejects_frames_of_different_lengths():
    with pytest.raises(ValueError):
        Timeline(frames={"a": np.zeros(3), "b": np.zeros(4)})


def test_a_stored_timeline_maps_back_equal_and_writes_to_it_stay_in_memory(tmp_path):
    big = np.arange(cache.MAP_FROM_BYTES // 2, dtype=np.float32).reshape(-1, 64)  # mapped, not read
    timeline = Timeline(frames={"step": np.arange(3)},
                        fixed={"big": big, "fortran": np.asfortranarray(np.eye(3, 5)), "scalar": np.float32(2.5),
                               "empty": np.zeros((0, 4), dtype=np.int16), "words": np.array(["a", "bc"])},
                        meta={"note": "ü"})
    path = tmp_path / "run.npz"
    cache.save(path, timeline)
    loaded = cache.load(path)
    with np.load(path) as stored:
        for name, array in loaded.to_arrays().items():
            assert array.dtype == stored[name].dtype and array.shape == stored[name].shape, name
            np.testing.assert_array_equal(array, stored[name], err_msg=name)
    assert loaded.meta == {"note": "ü"}
    loaded["big"][0, 0] = -1.0
    assert cache.load(path)["big"][0, 0] == 0.0, "a write to a loaded array must not reach the stored file"
