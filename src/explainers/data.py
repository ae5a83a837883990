"""Data sets the book trains on, loaded through their real loaders.

California Housing comes from scikit-learn's ``fetch_california_housing``, which downloads the StatLib
archive once. Where no download is possible, point ``EXPLAINERS_CALIFORNIA_HOUSING`` at a copy of the
archive's ``cal_housing.data`` (gzipped or not): we store it in scikit-learn's own cache format, exactly
as the downloader would, and then call the same loader, so the features are derived by scikit-learn.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

CALIFORNIA_HOUSING_ENV = "EXPLAINERS_CALIFORNIA_HOUSING"
CALIFORNIA_HOUSING_ROWS = 20640

HOW_TO_PROVIDE = (
    "California Housing is not available: scikit-learn could not download it ({reason}).\n"
    "Provide a local copy of the StatLib file `cal_housing.data` (or `cal_housing.data.gz`) and set\n"
    f"    export {CALIFORNIA_HOUSING_ENV}=/path/to/cal_housing.data.gz\n"
    "then build again. The file is the one inside https://ndownloader.figshare.com/files/5976036 "
    "(CaliforniaHousing/cal_housing.data)."
)


class DataUnavailable(RuntimeError):
    """The data set can be neither downloaded nor found locally."""


def _sklearn_home() -> Path:
    from .cache import cache_dir

    return cache_dir() / "scikit_learn_data"


def _seed_sklearn_cache(source: Path, data_home: Path) -> None:
    """Write ``cal_housing.pkz`` the way ``fetch_california_housing`` does after its download."""
    import joblib
    from sklearn.datasets._base import _pkl_filepath  # the file name the loader looks for

    target = Path(_pkl_filepath(data_home, "cal_housing.pkz"))
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return
    raw = np.loadtxt(source, delimiter=",")
    if raw.shape != (CALIFORNIA_HOUSING_ROWS, 9):
        raise DataUnavailable(
            f"{source} does not look like cal_housing.data: expected {CALIFORNIA_HOUSING_ROWS} rows "
            f"of 9 columns, found {raw.shape}."
        )
    data_home.mkdir(parents=True, exist_ok=True)
    # the same column order scikit-learn stores: target first, then the raw feature columns
    columns = raw[:, [8, 7, 2, 3, 4, 5, 6, 1, 0]]
    fd, tmp = tempfile.mkstemp(dir=data_home, suffix=".part")
    os.close(fd)
    try:
        joblib.dump(columns, tmp, compress=6)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def california_housing_files() -> list[Path]:
    """The files the data set is read from (hashed into cache keys)."""
    local = os.environ.get(CALIFORNIA_HOUSING_ENV)
    if local:
        return [Path(local)]
    from sklearn.datasets import get_data_home
    from sklearn.datasets._base import _pkl_filepath

    pkz = Path(_pkl_filepath(get_data_home(), "cal_housing.pkz"))
    return [pkz] if pkz.exists() else []


def california_housing():
    """scikit-learn's California Housing Bunch (data, target, feature_names)."""
    from sklearn.datasets import fetch_california_housing

    local = os.environ.get(CALIFORNIA_HOUSING_ENV)
    if local:
        source = Path(local)
        if not source.is_file():
            raise DataUnavailable(
                f"{CALIFORNIA_HOUSING_ENV} points at {source}, which is not a file.\n"
                + HOW_TO_PROVIDE.format(reason="no download was tried")
            )
        _seed_sklearn_cache(source, _sklearn_home())
        return fetch_california_housing(data_home=_sklearn_home(), download_if_missing=False)
    try:
        return fetch_california_housing()
    except Exception as error:  # any failure to download: no network, proxy, HTTP error
        raise DataUnavailable(HOW_TO_PROVIDE.format(reason=f"{type(error).__name__}: {error}")) from None
