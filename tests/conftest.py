import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the shared browser helpers (tests/browser.py)

# Where California Housing cannot be downloaded, the copy beside the checkout stands in (README).
SHARED_HOUSING = HERE.parents[1] / "shared" / "data" / "california_housing" / "cal_housing.data.gz"
if not os.environ.get("EXPLAINERS_CALIFORNIA_HOUSING") and SHARED_HOUSING.exists():
    os.environ["EXPLAINERS_CALIFORNIA_HOUSING"] = str(SHARED_HOUSING)


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    """A fresh, empty training cache: runs in the test really train."""
    monkeypatch.setenv("EXPLAINERS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="session")
def site_url():
    from browser import SITE, serve

    if not (SITE / "book" / "one-neuron.html").exists():
        pytest.fail(f"the built book is missing at {SITE}: run `make test` (it builds the book first)")
    with serve(SITE) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from browser import chromium

    with chromium() as instance:
        yield instance
