"""Publishing: the Pages workflow is a valid GitHub workflow that builds with the README's command and
deploys the built folder with GitHub's official Pages actions; it installs what the Makefile needs and the
runner lacks, takes CPU-only torch and caches what the Makefile installs and the build trains, all read from
the Makefile itself so that the two cannot drift; the README gives both ways to publish."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
OFFLINE = Path(__file__).resolve().parent / "offline"  # sitecustomize.py that cuts Python off the network


def validate(path: Path) -> subprocess.CompletedProcess:
    """check-jsonschema against the GitHub workflow schema that ships inside the package, offline."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(OFFLINE), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(path)], capture_output=True, text=True, env=env, timeout=120)


def test_the_workflow_is_valid_against_githubs_published_schema():
    result = validate(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = yaml.safe_load(WORKFLOW.read_text())
    del broken["jobs"]["build"]["runs-on"]  # a job must say where it runs
    broken["jobs"]["deploy"]["steps"][0]["uses"] = 42  # an action is named by a string
    target = tmp_path / "broken.yml"
    target.write_text(yaml.safe_dump(broken))
    result = validate(target)
    assert result.returncode != 0 and "runs-on" in result.stdout + result.stderr


def test_the_workflow_builds_with_the_readme_command_and_deploys_the_built_folder():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    builds = [step for step in build["steps"] if "make book" in step.get("run", "")]
    assert [step["run"] for step in builds] == ["make book"] and "make book" in (ROOT / "README.md").read_text()
    assert not any("jupyter-book" in step.get("run", "") for step in build["steps"])  # make builds, nothing else
    uses = [step["uses"].split("@")[0] for step in build["steps"] if "uses" in step]
    assert uses[-2:] == ["actions/configure-pages", "actions/upload-pages-artifact"]
    upload = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as True


def test_readme_says_how_to_publish():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Publish it"):]
    assert ".github/workflows/publish.yml" in section and "ghp-import -n -p -f _build/html" in section
    assert "any static host" in section


# The workflow against the Makefile. Values come from make itself (`make -s print-NAME`), not copies.
CPU_TORCH = "https://download.pytorch.org/whl/cpu"


def make_var(name: str) -> str:
    return subprocess.run(["make", "-s", f"print-{name}"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def build_steps() -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]


def index(steps: list[dict], test) -> int:
    found = [i for i, step in enumerate(steps) if test(step)]
    assert len(found) == 1, f"{len(found)} steps match, one expected"
    return found[0]


def the_build(steps):
    return index(steps, lambda step: step.get("run") == "make book")


def hashed_files(key: str) -> set[str]:
    """The files named in a cache key's hashFiles(...) calls."""
    return {name.strip().strip("'\"") for call in re.findall(r"hashFiles\(([^)]*)\)", key) for name in call.split(",")}


def test_the_workflow_installs_the_corpus_packages_the_makefile_needs():
    steps = build_steps()
    install = index(steps, lambda step: "apt-get install" in step.get("run", ""))
    words = shlex.split(steps[install]["run"].split("apt-get install", 1)[1].split("&&")[0].split(";")[0])
    assert [word for word in words if not word.startswith("-")] == make_var("CORPUS_PACKAGES").split()
    assert install < the_build(steps)
    # no browser step: the runner has chromium and google-chrome on PATH (runner-images' install-google-chrome.sh),
    # names the Makefile accepts
    assert {"chromium", "google-chrome"} <= set(make_var("CHROMIUM_NAMES").split())


def test_the_build_takes_cpu_only_torch_and_the_makefile_passes_the_index_to_pip(tmp_path):
    steps = build_steps()
    assert steps[the_build(steps)]["env"]["TORCH_INDEX"] == CPU_TORCH
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_INDEX", "MAKEFLAGS")}

    def torch_line(*settings):
        dry = subprocess.run(["make", "-n", f"{venv}/.installed", f"VENV={venv}", *settings], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout
        return next(line for line in dry.splitlines() if "pip install" in line and "torch==" in line)

    assert f"--index-url {CPU_TORCH} torch==" in torch_line(f"TORCH_INDEX={CPU_TORCH}")
    assert "--index-url" not in torch_line()  # elsewhere pip's own index, as before


def test_the_virtualenv_cache_is_keyed_on_what_makes_it():
    steps = build_steps()
    venv = make_var("VENV")
    restore = index(steps, lambda step: step.get("uses", "").startswith("actions/cache@") and step["with"]["path"] == venv)
    key = steps[restore]["with"]["key"]
    assert {"pyproject.toml", "Makefile"} <= hashed_files(key)
    python = index(steps, lambda step: step.get("uses", "").startswith("actions/setup-python@"))
    assert f"steps.{steps[python]['id']}.outputs.python-version" in key  # the venv links to that exact Python
    # a restored venv is marked installed (the checkout made pyproject.toml newer than its stamp) ...
    mark = index(steps, lambda step: step.get("run") == f"touch {venv}/.installed")
    assert f"steps.{steps[restore]['id']}.outputs.cache-hit == 'true'" in steps[mark]["if"]
    # ... and that stamp is the Makefile's own target
    dry = subprocess.run(["make", "-n", f"{venv}/.installed"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert python < restore < mark < the_build(steps)


def test_the_katex_cache_is_keyed_on_the_makefiles_katex_version(tmp_path):
    steps = build_steps()
    vendor = make_var("KATEX").split("/")[0]
    restore = index(steps, lambda step: step.get("uses", "").startswith("actions/cache@") and step["with"]["path"] == vendor)
    reader = next(step for step in steps if f"steps.{step.get('id')}.outputs." in steps[restore]["with"]["key"])
    output = tmp_path / "output"
    subprocess.run(["bash", "-c", reader["run"]], cwd=ROOT, env={**os.environ, "GITHUB_OUTPUT": str(output)}, check=True)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs and set(outputs.values()) == {make_var("KATEX_VERSION")}
    assert steps.index(reader) < restore < the_build(steps)


def test_the_training_cache_is_restored_from_any_older_run_and_saved_when_it_grew(monkeypatch):
    from explainers.cache import cache_dir

    monkeypatch.delenv("EXPLAINERS_CACHE", raising=False)
    path = cache_dir().relative_to(ROOT).as_posix()
    steps = build_steps()
    restore = index(steps, lambda step: step.get("uses", "").startswith("actions/cache/restore@"))
    save = index(steps, lambda step: step.get("uses", "").startswith("actions/cache/save@"))
    assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == path
    key = steps[restore]["with"]["key"]
    assert "src/**" in hashed_files(key)
    prefixes = steps[restore]["with"]["restore-keys"].splitlines()
    assert prefixes and all(key.startswith(prefix) for prefix in prefixes)
    assert "hashFiles" not in prefixes[-1]  # the last resort: any older cache, whatever code made it
    assert steps[save]["with"]["key"] == f"${{{{ steps.{steps[restore]['id']}.outputs.cache-primary-key }}}}"
    assert "!cancelled()" in steps[save]["if"]  # a failed build's finished entries are kept too
    assert restore < the_build(steps) < save
