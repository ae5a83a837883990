"""Data sets the book trains on, loaded through their real loaders.

California Housing comes from scikit-learn's ``fetch_california_housing``. The loader looks in these
places, in this order, and takes the first that has the data:

1. ``$EXPLAINERS_CALIFORNIA_HOUSING``, when set: a copy of the StatLib archive's ``cal_housing.data``
   (gzipped or not). It is stored in scikit-learn's own cache format, exactly as the downloader would
   store it, as ``scikit_learn_data/cal_housing.pkz`` in the book's cache (``explainers.cache.cache_dir``),
   and read back through the same loader, so the features are derived by scikit-learn.
2. That stored copy, left by an earlier run that had the variable set (``make book`` sets it): after one
   successful build the book finds its data again with no variable and no network.
3. scikit-learn's own data folder (``$SCIKIT_LEARN_DATA``, else ``~/scikit_learn_data``), where
   ``fetch_california_housing`` downloads the data when they are not there yet.

Training runs are keyed on the data as the loader returns them, not on the file they were read from:
``california_housing_files()``, the file a run's cache key hashes, is a small file holding the digest of
the loaded arrays (``california_housing_digest``), so the same data found in any of these places gives
the same cache key.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path

import numpy as np

CALIFORNIA_HOUSING_ENV = "EXPLAINERS_CALIFORNIA_HOUSING"
CALIFORNIA_HOUSING_ROWS = 20640
# the name scikit-learn's loader gives its cache file: sklearn.datasets._base._pkl_filepath(home,
# "cal_housing.pkz"), written out so that finding the stored copy does not import scikit-learn (a test
# checks the two agree)
STORED_NAME = "cal_housing_py3.pkz"

HOW_TO_PROVIDE = (
    "California Housing is not available: scikit-learn could not download it ({reason}).\n"
    "Provide a local copy of the StatLib file `cal_housing.data` (or `cal_housing.data.gz`) and set\n"
    f"    export {CALIFORNIA_HOUSING_ENV}=/path/to/cal_housing.data.gz\n"
    "then build again; later runs find the copy stored in the book's cache without the variable.\n"
    "The file is the one inside https://ndownloader.figshare.com/files/5976036 "
    "(CaliforniaHousing/cal_housing.data)."
)


class DataUnavailable(RuntimeError):
    """The data set can be neither downloaded nor found locally."""


def _sklearn_home() -> Path:
    from .cache import cache_dir

    return cache_dir() / "scikit_learn_data"


def _seed_sklearn_cache(source: Path, data_home: Path) -> None:
    """Write ``cal_housing.pkz`` the way ``fetch_california_housing`` does after its download."""
    target = data_home / STORED_NAME
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return
    raw = np.loadtxt(source, delimiter=",")
    if raw.shape != (CALIFORNIA_HOUSING_ROWS, 9):
        raise DataUnavailable(
            f"{source} does not look like cal_housing.data: expected {CALIFORNIA_HOUSING_ROWS} rows "
            f"of 9 columns, found {raw.shape}."
        )
    import joblib

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


def _stored_copy() -> Path:
    """Where ``_seed_sklearn_cache`` stores the local copy (place 2 of the search order)."""
    return _sklearn_home() / STORED_NAME


def california_housing():
    """scikit-learn's California Housing Bunch (data, target, feature_names), found as the module says."""
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
    if local or _stored_copy().is_file():
        return fetch_california_housing(data_home=_sklearn_home(), download_if_missing=False)
    try:
        return fetch_california_housing()
    except Exception as error:  # any failure to download: no network, proxy, HTTP error
        raise DataUnavailable(HOW_TO_PROVIDE.format(reason=f"{type(error).__name__}: {error}")) from None


def california_housing_files() -> list[Path]:
    """The file a run on California Housing is keyed on (``cached(data=...)``): one that holds the digest
    of the data as loaded, named after it. Empty when the data are unavailable (loading them then raises
    ``DataUnavailable``, which says what to do)."""
    try:
        digest = california_housing_digest()
    except DataUnavailable:
        return []
    home = _sklearn_home()
    path = home / f"cal_housing.{digest[:16]}.sha256"
    if not path.is_file() or path.read_text() != digest:
        home.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=home, suffix=".part")
        with os.fdopen(fd, "w") as f:
            f.write(digest)
        os.replace(tmp, path)
    return [path]


def california_housing_digest() -> str:
    """A hash of California Housing as ``california_housing()`` returns it: features, target and their
    names. A run depends on these arrays, not on the file they came from (a ``.gz`` copy and
    scikit-learn's ``.pkz`` of the same data give the same digest).

    Loading the data imports scikit-learn (about a second), and every build asks for this digest, so it
    is remembered beside the stored copy, for as long as that file and scikit-learn's version stay the
    same.
    """
    stored = _stored_copy_to_read()
    if stored is None:  # scikit-learn's own folder, or nowhere: load (and raise) as usual
        return _digest_of(california_housing())
    stat = stored.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
             "scikit-learn": importlib.metadata.version("scikit-learn")}
    record = stored.with_name(stored.name + ".digest.json")
    try:
        remembered = json.loads(record.read_text())
        if remembered["stamp"] == stamp:
            return remembered["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    digest = _digest_of(california_housing())
    fd, tmp = tempfile.mkstemp(dir=record.parent, suffix=".part")
    with os.fdopen(fd, "w") as f:
        json.dump({"stamp": stamp, "digest": digest}, f)
    os.replace(tmp, record)
    return digest


def _stored_copy_to_read() -> Path | None:
    """The stored copy ``california_housing()`` will read (places 1 and 2), or None (place 3)."""
    local = os.environ.get(CALIFORNIA_HOUSING_ENV)
    if local:
        if not Path(local).is_file():
            return None  # california_housing() says what is wrong
        _seed_sklearn_cache(Path(local), _sklearn_home())
        return _stored_copy()
    return _stored_copy() if _stored_copy().is_file() else None


def _digest_of(housing) -> str:
    return _digest(housing.data, housing.target, tuple(housing.feature_names), tuple(housing.target_names))


def _digest(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            part = np.ascontiguousarray(part)
            digest.update(f"{part.dtype.str}{part.shape}".encode())
            digest.update(part.tobytes())
        else:
            digest.update(repr(part).encode())
    return digest.hexdigest()
