"""Publishing: the Pages workflow is a valid GitHub workflow that builds with the README's command and
deploys the built folder with GitHub's official Pages actions; the README gives both ways to publish."""
import os
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
    runs = [step["run"] for step in build["steps"] if "run" in step]
    assert runs == ["make book"] and "make book" in (ROOT / "README.md").read_text()
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
