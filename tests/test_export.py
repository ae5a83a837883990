"""Charts for slides: the export command, and the build's training reused rather than redone."""
import os
import re
import subprocess
import sys

from explainers.charts import REGISTRY


def test_list_names_every_chart():
    listed = subprocess.run([sys.executable, "-m", "explainers", "list"], capture_output=True, text=True, check=True)
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == list(REGISTRY)


def test_export_writes_one_offline_file_for_a_talk(tmp_path):
    subprocess.run([sys.executable, "-m", "explainers", "export", "one-neuron", "--out", str(tmp_path), "--no-png"],
                   check=True, capture_output=True)
    page = (tmp_path / "one-neuron.html").read_text()
    assert 'id="chart-one-neuron"' in page and "ExplainersPlayer" in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=\"?(https?:)?//", page), "the file must not load anything from a network"


def test_unknown_chart_id_is_refused_with_the_list_of_ids():
    result = subprocess.run([sys.executable, "-m", "explainers", "export", "no-such-chart"], capture_output=True, text=True)
    assert result.returncode != 0 and "one-neuron" in result.stderr


def test_the_books_training_is_reused_not_redone():
    # the book was built (by `make test`) with the default cache: the chapter's runs must come from it
    from explainers.regression.runs import runs

    assert {run.meta["cache"] for run in runs().timelines()} == {"hit"}


def test_a_failed_export_names_the_chart_and_the_cause_and_writes_nothing(tmp_path):
    out = tmp_path / "slides"
    broken = {**os.environ, "EXPLAINERS_CALIFORNIA_HOUSING": str(tmp_path / "missing.data.gz")}
    result = subprocess.run([sys.executable, "-m", "explainers", "export", "one-neuron", "--out", str(out), "--no-png"],
                            capture_output=True, text=True, env=broken)
    assert result.returncode == 1, result.stderr
    assert "'one-neuron'" in result.stderr and "DataUnavailable" in result.stderr and "missing.data.gz" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists(), "a failed export must not leave a folder behind"
