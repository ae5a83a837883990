"""California Housing is found again without the variable, and keyed on the data, not on the file."""
import gzip

import numpy as np
import pytest

from explainers import cache, data
from explainers.regression.train import RegressionConfig, train

SHARED = data.os.environ.get(data.CALIFORNIA_HOUSING_ENV)
needs_copy = pytest.mark.skipif(not SHARED, reason="needs a local copy of cal_housing.data (README, Data)")


@pytest.fixture
def no_download(monkeypatch):
    """Any download scikit-learn tries fails the test."""
    from sklearn.datasets import _california_housing

    def refuse(*args, **kwargs):
        raise AssertionError("scikit-learn tried to download California Housing")

    monkeypatch.setattr(_california_housing, "_fetch_remote", refuse)


@needs_copy
def test_after_one_run_with_the_variable_the_data_are_found_without_it(tmp_cache, monkeypatch, no_download):
    with_variable = data.california_housing()
    monkeypatch.delenv(data.CALIFORNIA_HOUSING_ENV)
    without = data.california_housing()
    np.testing.assert_array_equal(without.data, with_variable.data)
    np.testing.assert_array_equal(without.target, with_variable.target)


@needs_copy
def test_the_same_data_give_the_same_cache_key_however_they_were_found(tmp_cache, tmp_path, monkeypatch, no_download):
    def key():
        return cache.key_for(train, RegressionConfig(), data.california_housing_files())

    gzipped = key()  # the .gz copy named by the variable
    monkeypatch.delenv(data.CALIFORNIA_HOUSING_ENV)
    stored = key()  # scikit-learn's .pkz, stored in the cache by the run before
    plain = tmp_path / "cal_housing.data"
    plain.write_bytes(gzip.decompress(open(SHARED, "rb").read()))
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path / "other-cache"))
    monkeypatch.setenv(data.CALIFORNIA_HOUSING_ENV, str(plain))
    assert key() == stored == gzipped


@needs_copy
def test_different_data_give_a_different_key(tmp_cache, tmp_path, monkeypatch, no_download):
    before = data.california_housing_digest()
    rows = gzip.decompress(open(SHARED, "rb").read()).decode().splitlines()
    rows[0] = rows[0].replace("8.3252", "8.3253")  # one block group's median income, one digit off
    edited = tmp_path / "edited.data"
    edited.write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path / "other-cache"))
    monkeypatch.setenv(data.CALIFORNIA_HOUSING_ENV, str(edited))
    assert data.california_housing_digest() != before


def test_with_nothing_stored_and_no_network_the_error_says_what_to_do(tmp_cache, monkeypatch):
    from sklearn.datasets import _california_housing

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv(data.CALIFORNIA_HOUSING_ENV, raising=False)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_cache / "empty-sklearn-home"))
    monkeypatch.setattr(_california_housing, "_fetch_remote", offline)
    with pytest.raises(data.DataUnavailable, match="network is unreachable"):
        data.california_housing()


def test_the_stored_copy_has_the_name_scikit_learn_looks_for(tmp_path):
    from sklearn.datasets._base import _pkl_filepath

    assert _pkl_filepath(str(tmp_path), "cal_housing.pkz") == str(tmp_path / data.STORED_NAME)


@needs_copy
def test_the_digest_is_remembered_until_the_stored_copy_changes(tmp_cache, monkeypatch, no_download):
    first = data.california_housing_digest()
    real_loader = data.california_housing
    monkeypatch.setattr(data, "california_housing", lambda: pytest.fail("loaded the data again"))
    assert data.california_housing_digest() == first
    stored = tmp_cache / "scikit_learn_data" / data.STORED_NAME
    data.os.utime(stored, ns=(stored.stat().st_atime_ns, stored.stat().st_mtime_ns + 1))
    monkeypatch.setattr(data, "california_housing", real_loader)
    monkeypatch.delenv(data.CALIFORNIA_HOUSING_ENV)  # else the newer source would be stored again
    assert data.california_housing_digest() == first
    assert data._stored_copy_to_read() == stored
