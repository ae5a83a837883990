"""The Makefile's install targets (`corpus`, `chromium`) as a reader runs them: as root, as a user with
password-less sudo, as a user whose sudo asks for a password, and as a user with no sudo at all.

Nothing is really installed: PATH holds only stub `sudo` and `apt-get` scripts that log their arguments
(and `id`, which the Makefile asks who is running it), and the corpus folders point at an empty folder.
The non-root runs use a user made for this module with useradd and removed afterwards."""
import ast
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = ROOT / "Makefile"
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

# The stubs log one line per call. A password-less sudo runs the command it is given (`-n` dropped);
# the other one fails as sudo fails when it would have to ask for a password.
STUBS = {
    "apt-get": 'echo "apt-get $*" >> "$STUB_LOG"\n',
    "sudo": 'echo "sudo $*" >> "$STUB_LOG"\n[ "$1" = -n ] && shift\n[ "$1" = true ] && exit 0\nexec "$@"\n',
    "sudo-asks": 'echo "sudo $*" >> "$STUB_LOG"\necho "sudo: a password is required" >&2\nexit 1\n',
    "python3": 'echo "python3 $*" >> "$STUB_LOG"\nexit 1\n',
    "npm": 'echo "npm $*" >> "$STUB_LOG"\nexit 1\n',
}


def make_var(name: str) -> str:
    return subprocess.run([MAKE, "-s", f"print-{name}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture(scope="module")
def user():
    """A throwaway user (no home, no sudo rights): its name, uid and gid."""
    if os.geteuid() != 0:
        pytest.skip("making a throwaway non-root user needs root (these tests run as root in the project's container)")
    if not shutil.which("useradd") or not shutil.which("userdel"):
        pytest.skip("useradd/userdel are missing: cannot make a non-root user to run make as")
    name = f"mk{uuid.uuid4().hex[:10]}"
    made = subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"useradd failed: {made.stderr.strip()}")
    try:
        entry = pwd.getpwnam(name)
        yield name, entry.pw_uid, entry.pw_gid
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        if subprocess.run(["getent", "group", name], capture_output=True).returncode == 0:
            subprocess.run(["groupdel", name], capture_output=True)


@pytest.fixture
def box():
    """A world-readable folder: bin/ (only `id` at first), an empty corpus folder, and the stubs' log."""
    folder = Path(tempfile.mkdtemp(prefix="make-install-"))
    (folder / "bin").mkdir()
    (folder / "empty").mkdir()
    (folder / "bin" / "id").symlink_to(shutil.which("id"))
    for path in (folder, folder / "bin", folder / "empty"):
        path.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def stub(box: Path, name: str, script: str | None = None) -> None:
    path = box / "bin" / name
    path.write_text("#!/bin/sh\n" + STUBS.get(script or name, "exit 0\n"))  # others: found, and succeed
    path.chmod(0o755)


def make(box: Path, *targets: str, user=None, corpus: Path | None = None, cwd: Path | None = None):
    """make TARGETS with the real Makefile, PATH = the box's bin only, the corpus folders at `corpus`."""
    corpus = corpus or box / "empty"
    env = {"PATH": str(box / "bin"), "HOME": str(box), "STUB_LOG": str(box / "log"), "LC_ALL": "C"}
    as_user = {"user": user[1], "group": user[2], "extra_groups": []} if user else {}
    result = subprocess.run([MAKE, "-f", str(MAKEFILE), *targets, f"WORDNET_DIR={corpus}", f"FORTUNES_DIR={corpus}",
                             f"VENV={box / 'venv'}"],
                            cwd=cwd or box, env=env, capture_output=True, text=True, timeout=60, **as_user)
    log = (box / "log").read_text().splitlines() if (box / "log").exists() else []
    return result, log


def installs(packages: str, sudo: bool) -> list[str]:
    """The log of an install of `packages`, through password-less sudo or as root."""
    lines = []
    for command in ("apt-get update -qq", f"apt-get install -y -qq {packages}"):
        lines += [f"sudo -n {command}", command] if sudo else [command]
    return lines


def one_line_naming(result, packages: str) -> bool:
    lines = result.stdout.splitlines()
    return (result.returncode != 0 and len(lines) == 1 and f"sudo apt-get install {packages}" in lines[0]
            and "password" not in result.stdout + result.stderr)


CASES = [("corpus", "CORPUS_PACKAGES"), ("chromium", "CHROMIUM_PACKAGE")]


@pytest.mark.parametrize("target,packages", CASES)
def test_a_user_with_passwordless_sudo_gets_the_packages_installed(user, box, target, packages):
    stub(box, "apt-get"), stub(box, "sudo")
    result, log = make(box, target, user=user)
    assert result.returncode == 0, result.stdout + result.stderr
    assert log == ["sudo -n true", *installs(make_var(packages), sudo=True)]


@pytest.mark.parametrize("target,packages", CASES)
def test_a_user_whose_sudo_asks_for_a_password_is_told_the_command_in_one_line(user, box, target, packages):
    stub(box, "apt-get"), stub(box, "sudo", "sudo-asks")
    result, log = make(box, target, user=user)
    assert one_line_naming(result, make_var(packages)), result.stdout + result.stderr
    assert log == ["sudo -n true"]  # asked once, without a prompt; apt-get never ran


@pytest.mark.parametrize("target,packages", CASES)
def test_a_user_without_sudo_is_told_the_command_in_one_line(user, box, target, packages):
    stub(box, "apt-get")
    result, log = make(box, target, user=user)
    assert one_line_naming(result, make_var(packages)), result.stdout + result.stderr
    assert log == []


@pytest.mark.parametrize("target,packages", CASES)
def test_root_installs_without_sudo(box, target, packages):
    if os.geteuid() != 0:
        pytest.skip("checks what make does as root")
    stub(box, "apt-get")  # and no sudo on PATH: root must not need it
    result, log = make(box, target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert log == installs(make_var(packages), sudo=False)


def test_nothing_is_installed_when_the_corpus_and_a_browser_are_there(user, box):
    stub(box, "apt-get"), stub(box, "sudo"), stub(box, "google-chrome")
    corpus = box / "corpus"
    corpus.mkdir()
    (corpus / "data.noun").write_text("")
    (corpus / "people").write_text("")
    result, log = make(box, "corpus", "chromium", user=user, corpus=corpus)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    assert log == []


def test_a_user_who_must_install_is_told_before_any_download(user, box):
    stub(box, "python3"), stub(box, "npm")  # the virtualenv and KaTeX: they would log if they ran
    result, log = make(box, "book", user=user, cwd=ROOT)  # where pyproject.toml is: only the check stops it
    assert result.returncode != 0 and len(result.stdout.splitlines()) == 1, result.stdout + result.stderr
    assert log == []


def test_the_makefile_looks_for_the_browsers_the_book_looks_for():
    """explainers.export.chromium() takes the first of its names on PATH: the Makefile accepts the same ones,
    so it neither installs a Chromium the book would not need nor accepts one the book would not find."""
    tree = ast.parse((ROOT / "src" / "explainers" / "export.py").read_text())
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "chromium")
    loop = next(node for node in ast.walk(function) if isinstance(node, ast.For))
    assert make_var("CHROMIUM_NAMES").split() == list(ast.literal_eval(loop.iter))
