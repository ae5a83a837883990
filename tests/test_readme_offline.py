"""The README's commands, typed as a new user types them after `make book`: in a clean checkout, with the
network cut off and no variable to remember. Each must exit 0 and retrain nothing.

- The clean checkout is a copy of the repository's files as they are in the working tree (what
  `git ls-files` lists), plus what setup leaves beside them: the `.venv` and `.vendor` that `make` made
  (linked) and the training cache the book's build filled (copied). There the test first runs the build
  that `make book` runs, with `make`'s variable, as the user's setup did; then every command the README
  gives, with no `EXPLAINERS_*` variable set.
- The network is cut for real: `tests/offline/sitecustomize.py`, first on `PYTHONPATH`, makes every
  name lookup and connection to another host fail in each Python process (notebook kernels included),
  so scikit-learn's download raises as it does on a machine without a network. `PYTHONPATH` also puts
  the checkout's own `src/` first, where a shared `.venv`'s editable install points at another checkout.
- "Retrains nothing": every training run is an ``.npz`` file in the cache, written when it is computed;
  the cache must hold the same runs, unchanged, after each command.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from explainers.cache import cache_dir

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = Path(__file__).resolve().parent / "offline"
STRICT_BUILD = ".venv/bin/jupyter-book build . -W -n --keep-going"  # what `make book` runs
HOUSING_ENV = "EXPLAINERS_CALIFORNIA_HOUSING"


def readme_commands() -> list[str]:
    """Every command in the README's bash blocks, comments dropped."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    lines = (line.split("#")[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line]


def offline_commands() -> list[str]:
    """The README's commands a user runs after setup; the others set up, point at data, or publish."""
    return [c for c in readme_commands() if c.startswith((".venv/bin/jupyter-book ", ".venv/bin/python -m explainers "))]


def test_every_readme_command_is_run_here_or_is_setup_data_or_publishing():
    others = [c for c in readme_commands() if c not in offline_commands()]
    assert others == ["make book", "make test", f"export {HOUSING_ENV}=/path/to/cal_housing.data.gz",
                      ".venv/bin/ghp-import -n -p -f _build/html"]
    kinds = {re.sub(r"^\.venv/bin/(python -m explainers )?", "", c).split()[0] for c in offline_commands()}
    assert kinds == {"jupyter-book", "list", "export", "steer"}


def user_env(checkout: Path, **variables) -> dict:
    """The user's shell: the activated `.venv`, no `EXPLAINERS_*` variable, and no network."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("EXPLAINERS_") and k not in ("SCIKIT_LEARN_DATA", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = os.pathsep.join([str(OFFLINE), str(checkout / "src")])
    env["VIRTUAL_ENV"] = str(checkout / ".venv")
    env["PATH"] = os.pathsep.join([str(checkout / ".venv" / "bin"), env.get("PATH", "")])
    return env | variables


def run(command: str, checkout: Path, timeout: int, **variables) -> subprocess.CompletedProcess:
    return subprocess.run(command, shell=True, cwd=checkout, env=user_env(checkout, **variables),
                          capture_output=True, text=True, timeout=timeout)


def cache_files(checkout: Path) -> dict[str, tuple[int, int]]:
    """The training runs in the checkout's cache: one ``.npz`` each, written when the run is computed."""
    root = checkout / "_build" / "explainers-cache"
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*.npz")}


def retrained(before: dict, after: dict) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])


def _link_or_copy(source, target):
    """Hard links where possible (every cache write replaces a file, never edits one); copies else."""
    if not str(source).endswith(".json"):  # the slide copies' fingerprints.json is rewritten in place
        try:
            os.link(source, target)
            return target
        except OSError:
            pass
    return shutil.copy2(source, target)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A clean checkout after `make book`, the build run there the way `make book` runs it."""
    cache = cache_dir()
    if not cache.is_dir():
        pytest.fail(f"the training cache is missing at {cache}: run `make test` (it builds the book first)")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    target = tmp_path_factory.mktemp("readme") / "checkout"
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # not a file deleted in the working tree
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for made in (".venv", ".vendor"):  # what `make`'s setup installs
        if (ROOT / made).exists():
            (target / made).symlink_to((ROOT / made).resolve(), target_is_directory=True)
    shutil.copytree(cache, target / "_build" / "explainers-cache", copy_function=_link_or_copy)
    if (ROOT / "_build" / "charts").is_dir():  # the slide copies the build made; redone only if stale
        shutil.copytree(ROOT / "_build" / "charts", target / "_build" / "charts", copy_function=_link_or_copy)

    before = cache_files(target)
    housing = {HOUSING_ENV: os.environ[HOUSING_ENV]} if os.environ.get(HOUSING_ENV) else {}
    setup = run(STRICT_BUILD, target, timeout=1500, **housing)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert retrained(before, cache_files(target)) == [], "the book's build had already trained everything"
    return target


def test_the_network_is_really_cut_off_for_the_commands(checkout, tmp_path):
    probe = f'from sklearn.datasets import fetch_california_housing; fetch_california_housing(data_home="{tmp_path}")'
    result = run(f".venv/bin/python -c '{probe}'", checkout, timeout=300)
    assert result.returncode != 0 and "network is unreachable" in result.stderr, result.stderr[-2000:]


CHECKS = {
    # a bare rebuild after `make book` finds the data again, with the same keys: no chapter re-executed
    "jupyter-book": lambda out, checkout: "0 added, 0 changed, 0 removed" in out,
    "list": lambda out, checkout: "\none-neuron\t" in "\n" + out,
    "export": lambda out, checkout: all((checkout / "slides" / f"one-neuron.{s}").stat().st_size > 10_000
                                        for s in ("html", "png")),
    "steer": lambda out, checkout: out.startswith("> ") and out.count("> ") >= 2,
}


@pytest.mark.parametrize("command", offline_commands())
def test_readme_command_runs_offline_with_no_variables_and_retrains_nothing(checkout, command):
    kind = re.sub(r"^\.venv/bin/(python -m explainers )?", "", command).split()[0]
    before = cache_files(checkout)
    result = run(command, checkout, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert retrained(before, cache_files(checkout)) == []
    assert CHECKS[kind](result.stdout, checkout), result.stdout[-3000:]
