"""action.yml: its structure, and its steps run as a runner would run them (no GitHub needed).

`ActionRunner` emulates what the GitHub runner does for a composite action: it evaluates
the `${{ }}` expressions of `with:`, `env:` and `if:` (inputs, steps.*.outputs, github.*,
runner.*, success()/always()), runs every `run:` step as `bash --noprofile --norc -eo
pipefail` in the workspace with GITHUB_WORKSPACE, GITHUB_ACTION_PATH, GITHUB_OUTPUT,
GITHUB_ENV, GITHUB_PATH, RUNNER_TEMP, RUNNER_OS and RUNNER_ARCH set, reads the step's
outputs back, applies GITHUB_ENV/GITHUB_PATH to the steps after it, skips later steps
after a failure unless their `if:` says always(), and evaluates the action's outputs.
The `uses:` steps are simulated: setup-python answers with this machine's base
interpreter; cache/restore answers `cache-hit` as the scenario says (on a hit the venv
left by an earlier scenario is the "restored" one); cache/save and upload-sarif are
recorded with their evaluated `with:` (the upload's file must exist).

What the install steps exercise for real: `python -m venv`, `pip install uv==<pinned>`
(from a local wheel of the same uv release repacked from the project's venv, with
PIP_NO_INDEX/PIP_FIND_LINKS instead of PyPI), `uv pip install --only-binary :all:
--constraint requirements.lock -r pyproject.toml setuptools wheel` (UV_OFFLINE=1: uv's
local cache instead of PyPI), the unpinned-package check, and the `--offline --no-deps
--no-build-isolation` install of auditor from a copy of this checkout. Not exercised:
bytecode compilation (UV_COMPILE_BYTECODE=0 here: 20 s), downloading from PyPI, and the
real actions/setup-python, actions/cache and upload-sarif.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.github_sarif import ingestion_problems

ROOT = Path(__file__).resolve().parents[1]
ACTION_FILE = ROOT / "action.yml"
ACTION: dict[str, Any] = yaml.safe_load(ACTION_FILE.read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
VENV_BIN = Path(sys.executable).parent
BASE_PYTHON = Path(getattr(sys, "_base_executable", sys.executable))


def _uv_cache_dir() -> str:
    """uv's cache as scripts/setup filled it (read before conftest points XDG_CACHE_HOME elsewhere)."""
    if os.environ.get("UV_CACHE_DIR"):
        return os.environ["UV_CACHE_DIR"]
    out = subprocess.run([str(VENV_BIN / "uv"), "cache", "dir"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


UV_CACHE_DIR = _uv_cache_dir()

# The runner's environment for every run step: a bare PATH (no project venv on it, so the
# action must find its own auditor), the offline stand-ins for PyPI described above.
OFFLINE_OVERRIDES = {"UV_OFFLINE": "1", "UV_COMPILE_BYTECODE": "0", "PIP_NO_INDEX": "1"}

TERRAFORM = """\
resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

resource "aws_s3_bucket_acl" "logs" {
  bucket = aws_s3_bucket.logs.id
  acl    = "public-read-write"
}
"""

PYTHON_APP = """\
import subprocess


def run(cmd: str) -> None:
    subprocess.call(cmd, shell=True)
"""

REQUIREMENTS = "urllib3==1.26.5\nrequests==2.31.0\n"

# The SARIF results (rule, file, line) of the planted problems: a public-read-write bucket
# ACL (checkov, pinned), shell=True with a variable command, urllib3 1.26.5 with a HIGH
# and a MODERATE advisory in the bundled OSV sample (requests 2.31.0 has none).
IAC_RESULTS = {
    (f"iac.{check}", "infra/main.tf", 1)
    for check in (
        "CKV2_AUD_2", "CKV2_AWS_6", "CKV2_AWS_61", "CKV2_AWS_62", "CKV_AWS_144",
        "CKV_AWS_145", "CKV_AWS_18", "CKV_AWS_20", "CKV_AWS_21", "CKV_AWS_57",
    )
}
CODE_RESULTS = {("code.python.shell-true-with-input", "app/jobs.py", 5)}
DEPS_RESULTS = {
    ("deps.vulnerable_package", "requirements.txt", 1),
    ("deps.vulnerable_package/medium", "requirements.txt", 1),
}


# -- structure --------------------------------------------------------------------------


def _uses_lines() -> list[str]:
    return [line.strip() for line in ACTION_FILE.read_text().splitlines() if line.strip().startswith("uses:")]


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_tag_as_a_comment() -> None:
    uses = [step["uses"] for step in STEPS if "uses" in step]
    assert len(uses) == 4 and len(_uses_lines()) == 4
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), ref
    for line in _uses_lines():
        assert re.fullmatch(r"uses: \S+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line
    # restore and save are the same release of actions/cache
    cache = {ref.split("@")[1] for ref in uses if ref.startswith("actions/cache/")}
    assert len(cache) == 1


def test_no_expression_is_spliced_into_a_run_script() -> None:
    runs = [step["run"] for step in STEPS if "run" in step]
    assert len(runs) == 5
    for script in runs:
        assert "${{" not in script
    for step in STEPS:
        assert step.get("shell", "bash") == "bash"


def test_step_references_name_earlier_steps() -> None:
    seen: set[str] = set()
    for step in STEPS:
        text = yaml.safe_dump({k: v for k, v in step.items() if k != "run"})
        for ref in re.findall(r"steps\.([\w-]+)\.outputs", text):
            assert ref in seen, f"{step.get('name')} refers to steps.{ref} before it ran"
        if step.get("id"):
            seen.add(step["id"])
    for spec in ACTION["outputs"].values():
        for ref in re.findall(r"steps\.([\w-]+)\.outputs", spec["value"]):
            assert ref in seen


def test_inputs_and_outputs_are_documented_and_used() -> None:
    text = ACTION_FILE.read_text()
    docs = (ROOT / "docs" / "ci.md").read_text()
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name
        assert "default" in spec, name
        assert f"inputs.{name}" in text, f"input {name} is never used"
        assert f"| `{name}`" in docs, f"input {name} is not in docs/ci.md's table"
    for name, spec in ACTION["outputs"].items():
        assert spec.get("description"), name
        assert f"| `{name}`" in docs, f"output {name} is not in docs/ci.md's table"
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used <= set(ACTION["inputs"]), used - set(ACTION["inputs"])


def test_the_example_workflow_pins_its_actions_and_uses_only_real_inputs() -> None:
    path = ROOT / "examples" / "ci" / "github-actions.yml"
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    ours = [step for step in steps if step.get("uses", "").startswith("<owner>/auditor@")]
    assert len(ours) == 1
    assert set(ours[0]["with"]) <= set(ACTION["inputs"])
    for step in steps:
        if "uses" in step and step not in ours:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    assert workflow["permissions"]["security-events"] == "write"


def test_uv_release_is_the_one_the_dockerfile_pins() -> None:
    docker = re.findall(r'uv==([\d.]+)', (ROOT / "Dockerfile").read_text())
    action = {step["env"]["UV_VERSION"] for step in STEPS if "UV_VERSION" in step.get("env", {})}
    assert action == set(docker) and len(action) == 1


# -- a runner for the steps ---------------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|(?P<name>[A-Za-z_][\w.-]*))")


class _Expr:
    """GitHub's expression language, the subset action.yml uses (anything else raises)."""

    def __init__(self, text: str, lookup: dict[str, Any], job_ok: bool) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"cannot parse expression at {text[pos:]!r}")
            kind = m.lastgroup
            assert kind is not None
            self.tokens.append((kind, m.group(kind)))
            pos = m.end()
        self.i = 0
        self.lookup = lookup
        self.job_ok = job_ok
        self.status_function = False

    def value(self) -> Any:
        v = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"trailing tokens {self.tokens[self.i:]}")
        return v

    def _peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def _or(self) -> Any:
        v = self._and()
        while self._peek() == "||":
            self.i += 1
            rhs = self._and()
            v = v if _truthy(v) else rhs
        return v

    def _and(self) -> Any:
        v = self._not()
        while self._peek() == "&&":
            self.i += 1
            rhs = self._not()
            v = rhs if _truthy(v) else v
        return v

    def _not(self) -> Any:
        if self._peek() == "!":
            self.i += 1
            return not _truthy(self._not())
        return self._cmp()

    def _cmp(self) -> Any:
        v = self._primary()
        if self._peek() in ("==", "!="):
            op = self.tokens[self.i][1]
            self.i += 1
            rhs = self._primary()
            same = str(v).lower() == str(rhs).lower()
            return same if op == "==" else not same
        return v

    def _primary(self) -> Any:
        kind, tok = self.tokens[self.i]
        self.i += 1
        if tok == "(":
            v = self._or()
            assert self._peek() == ")"
            self.i += 1
            return v
        if kind == "str":
            return tok[1:-1].replace("''", "'")
        if self._peek() == "(":
            self.i += 2
            self.status_function = True
            return {"always": True, "success": self.job_ok, "failure": not self.job_ok}[tok]
        head, _, rest = tok.partition(".")
        if head not in self.lookup:
            raise ValueError(f"unknown context {tok}")
        node = self.lookup[head]
        for part in rest.split(".") if rest else []:
            node = node.get(part, "") if isinstance(node, dict) else ""
        return node


def _truthy(v: Any) -> bool:
    return v not in ("", False, None, 0)


_SUBST = re.compile(r"\$\{\{(.*?)\}\}")


@dataclass
class StepRecord:
    name: str
    status: str  # success, failure, skipped
    kind: str  # run or uses
    rc: int | None = None
    stdout: str = ""
    stderr: str = ""
    with_: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class ActionRun:
    steps: list[StepRecord]
    outputs: dict[str, str]
    workspace: Path

    def step(self, name: str) -> StepRecord:
        (found,) = [s for s in self.steps if s.name == name]
        return found

    def uses(self, prefix: str) -> StepRecord:
        (found,) = [s for s in self.steps if s.kind == "uses" and s.name.startswith(prefix)]
        return found

    @property
    def log(self) -> str:
        return "\n".join(
            f"== {s.name} [{s.status} rc={s.rc} {s.seconds:.1f}s]\n{s.stdout}{s.stderr}" for s in self.steps
        )


class ActionRunner:
    def __init__(self, action_path: Path, runner_temp: Path, wheelhouse: Path, base_env: dict[str, str]) -> None:
        self.action_path = action_path
        self.runner_temp = runner_temp
        self.wheelhouse = wheelhouse
        self.base_env = base_env

    def run(self, workspace: Path, inputs: dict[str, str], *, cache_hit: bool) -> ActionRun:
        given = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
        unknown = set(inputs) - set(given)
        assert not unknown, unknown
        given.update(inputs)
        steps_ctx: dict[str, Any] = {}
        lookup: dict[str, Any] = {
            "inputs": given,
            "steps": steps_ctx,
            "github": {"action_path": str(self.action_path), "workspace": str(workspace)},
            "runner": {"temp": str(self.runner_temp), "os": "Linux", "arch": "X64"},
        }
        env = dict(self.base_env)
        env.update(
            {
                "GITHUB_WORKSPACE": str(workspace),
                "GITHUB_ACTION_PATH": str(self.action_path),
                "RUNNER_TEMP": str(self.runner_temp),
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
            }
        )
        extra_path: list[str] = []
        job_ok = True
        records: list[StepRecord] = []
        files = self.runner_temp / "_runner_files"
        files.mkdir(exist_ok=True)

        def subst(value: Any) -> str:
            if isinstance(value, bool):  # YAML true/false reach an action as "true"/"false"
                return "true" if value else "false"
            return _SUBST.sub(lambda m: str(_Expr(m.group(1), lookup, job_ok).value()), str(value))

        for index, step in enumerate(STEPS):
            name = step.get("name") or step["uses"]
            kind = "uses" if "uses" in step else "run"
            condition = step.get("if")
            if condition is not None:
                cond = str(condition).strip()
                match = _SUBST.fullmatch(cond)
                expr = _Expr(match.group(1) if match else cond, lookup, job_ok)
                ok = _truthy(expr.value())
                run_it = ok if expr.status_function else (ok and job_ok)
            else:
                run_it = job_ok
            outputs: dict[str, str] = {}
            if step.get("id"):
                steps_ctx[step["id"]] = {"outputs": outputs}
            if not run_it:
                records.append(StepRecord(name, "skipped", kind))
                continue
            with_ = {k: subst(v) for k, v in (step.get("with") or {}).items()}
            step_env = {k: subst(v) for k, v in (step.get("env") or {}).items()}
            if kind == "uses":
                record = StepRecord(name, "success", kind, with_=with_)
                outputs.update(self._simulate(step["uses"], with_, cache_hit))
                records.append(record)
                continue
            out_file, env_file, path_file = (files / f"{index}.{what}" for what in ("output", "env", "path"))
            for f in (out_file, env_file, path_file):
                f.write_text("")
            script = files / f"{index}.sh"
            script.write_text(step["run"])
            proc_env = dict(env)
            proc_env["PATH"] = os.pathsep.join([*reversed(extra_path), env["PATH"]])
            proc_env.update(step_env)
            proc_env.update(
                {"GITHUB_OUTPUT": str(out_file), "GITHUB_ENV": str(env_file), "GITHUB_PATH": str(path_file)}
            )
            proc_env.update(OFFLINE_OVERRIDES)
            proc_env["PIP_FIND_LINKS"] = str(self.wheelhouse)
            started = time.monotonic()
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=workspace,
                env=proc_env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            outputs.update(_read_key_values(out_file.read_text()))
            env.update(_read_key_values(env_file.read_text()))
            extra_path.extend(line for line in path_file.read_text().splitlines() if line)
            status = "success" if proc.returncode == 0 else "failure"
            job_ok = job_ok and proc.returncode == 0
            seconds = time.monotonic() - started
            records.append(
                StepRecord(name, status, kind, proc.returncode, proc.stdout, proc.stderr, env=step_env, seconds=seconds)
            )
        action_outputs = {name: subst(spec["value"]) for name, spec in ACTION["outputs"].items()}
        return ActionRun(records, action_outputs, workspace)

    def _simulate(self, uses: str, with_: dict[str, str], cache_hit: bool) -> dict[str, str]:
        action = uses.split("@")[0]
        if action == "actions/setup-python":
            assert with_["update-environment"] == "false"
            version = ".".join(map(str, sys.version_info[:3]))
            assert version.startswith(with_["python-version"])
            return {"python-path": str(BASE_PYTHON), "python-version": version}
        if action == "actions/cache/restore":
            if cache_hit:
                assert (Path(with_["path"]) / "bin" / "python").exists(), "nothing to restore"
            return {"cache-hit": "true" if cache_hit else "false"}
        if action == "actions/cache/save":
            assert (Path(with_["path"]) / "bin" / "python").exists()
            return {}
        if action == "github/codeql-action/upload-sarif":
            assert Path(with_["sarif_file"]).is_file(), with_
            return {"sarif-id": "simulated"}
        raise AssertionError(f"no simulation for {uses}")


def _read_key_values(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIM` blocks."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            body: list[str] = []
            while lines[i] != delim:
                body.append(lines[i])
                i += 1
            i += 1
            values[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def _uv_wheel(dest: Path) -> Path:
    """The project venv's uv release as a wheel file again (so `pip install uv==X` runs offline)."""
    site = next((VENV_BIN.parent / "lib").glob("python3*/site-packages"))
    (dist,) = site.glob("uv-*.dist-info")
    version = dist.name[len("uv-") : -len(".dist-info")]
    tags = [line.split(": ", 1)[1] for line in (dist / "WHEEL").read_text().splitlines() if line.startswith("Tag: ")]
    platform = ".".join(dict.fromkeys(t.split("-")[2] for t in tags))
    wheel = dest / f"uv-{version}-py3-none-{platform}.whl"
    data = f"uv-{version}.data/scripts/"
    record: list[str] = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for row in (dist / "RECORD").read_text().splitlines():
            rel = row.split(",")[0]
            if rel.endswith((".pyc", "/RECORD", "/INSTALLER", "/REQUESTED")):
                continue
            source = (site / rel).resolve()
            arcname = data + Path(rel).name if rel.startswith("../") else rel
            blob = source.read_bytes()
            info = zipfile.ZipInfo(arcname)
            info.external_attr = source.stat().st_mode << 16  # S_IFREG and the x bits: pip keeps them
            zf.writestr(info, blob)
            digest = base64.urlsafe_b64encode(hashlib.sha256(blob).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(blob)}")
        record.append(f"uv-{version}.dist-info/RECORD,,")
        zf.writestr(f"uv-{version}.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def _action_checkout(dest: Path) -> Path:
    """A copy of this checkout as the runner would have it (tracked and new files, nothing ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def _git_workspace(path: Path) -> Path:
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def _project_workspace(path: Path) -> Path:
    ws = _git_workspace(path)
    (ws / "infra").mkdir()
    (ws / "infra" / "main.tf").write_text(TERRAFORM)
    (ws / "app").mkdir()
    (ws / "app" / "jobs.py").write_text(PYTHON_APP)
    (ws / "requirements.txt").write_text(REQUIREMENTS)
    return ws


@dataclass
class Harness:
    runner: ActionRunner
    tmp: Path
    first: ActionRun  # default inputs, cache miss: the venv is built here


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    tmp = tmp_path_factory.mktemp("action")
    wheelhouse = tmp / "wheels"
    wheelhouse.mkdir()
    _uv_wheel(wheelhouse)
    vulndb = tmp / "vulndb.sqlite"
    subprocess.run(
        [str(VENV_BIN / "auditor"), "vulndb", "import", str(ROOT / "auditor" / "demo_data" / "osv")],
        env={**os.environ, "AUDITOR_VULNDB": str(vulndb)},
        check=True,
        capture_output=True,
    )
    home = tmp / "home"
    home.mkdir()
    base_env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "UV_CACHE_DIR": UV_CACHE_DIR,
        "AUDITOR_VULNDB": str(vulndb),  # a job-level env: the deps scan reads the local OSV sample
        "AUDITOR_NOW": "2026-11-28T12:00:00+00:00",
    }
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir()
    runner = ActionRunner(_action_checkout(tmp / "action"), runner_temp, wheelhouse, base_env)
    first = runner.run(_project_workspace(tmp / "ws-default"), {}, cache_hit=False)
    yield Harness(runner, tmp, first)


def _sarif(path: str | Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return doc


def _results(doc: dict[str, Any]) -> set[tuple[str, str, int]]:
    found = set()
    for res in doc["runs"][0].get("results", []):
        (loc,) = res["locations"]
        phys = loc["physicalLocation"]
        found.add((res["ruleId"], phys["artifactLocation"]["uri"], phys["region"]["startLine"]))
    return found


def _last_run(run: ActionRun) -> dict[str, Any]:
    out = subprocess.run(
        [run.outputs["auditor"], "runs", "--db", run.outputs["db"], "--format", "json", "--limit", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    latest: dict[str, Any] = json.loads(out.stdout)[0]
    return latest


# -- the steps, run ------------------------------------------------------------------------


def test_default_inputs_install_on_a_miss_and_scan_the_workspace(harness: Harness) -> None:
    run = harness.first
    ws = run.workspace
    assert [(s.name, s.status) for s in run.steps] == [
        ("Set up Python for auditor", "success"),
        ("Prepare auditor's virtualenv", "success"),
        ("Restore auditor's virtualenv", "success"),
        ("Install auditor's pinned dependencies", "success"),
        ("Save auditor's virtualenv", "success"),
        ("Install auditor", "success"),
        ("Scan", "success"),
        ("Upload SARIF to code scanning", "success"),
        ("Gate", "failure"),
    ], run.log
    venv = harness.runner.runner_temp / "auditor-venv"
    key = run.step("Restore auditor's virtualenv").with_["key"]
    assert re.fullmatch(r"auditor-venv-v1-Linux-X64-py3\.11\.\d+-[0-9a-f]{12}-uv[\d.]+-[0-9a-f]{16}", key), key
    assert run.uses("Save").with_ == {"path": str(venv), "key": key}
    assert run.outputs["auditor"] == str(venv / "bin" / "auditor")

    # the workspace was scanned for all three kinds of target, from its root
    scan = run.step("Scan")
    assert "No iac, code or deps input: scanning the workspace" in scan.stdout
    assert "Workspace scan examined 1 IaC files, 1 source files, 1 dependency files." in scan.stdout
    latest = _last_run(run)
    assert sorted(latest["targets"]) == [f"code:{ws}", f"deps:{ws}", f"iac:{ws}"]

    # exit code recorded, gate exits with it (a high finding breaches fail-on: high)
    assert run.outputs["exit-code"] == "1"
    assert run.step("Gate").rc == 1

    # the SARIF is in the workspace, uploaded from there, and every location resolves in it
    sarif = ws / "auditor.sarif"
    assert run.outputs["sarif-file"] == str(sarif)
    assert run.uses("Upload SARIF").with_ == {"sarif_file": str(sarif), "category": "auditor"}
    doc = _sarif(sarif)
    assert ingestion_problems(doc, checkout=ws) == []
    assert _results(doc) == IAC_RESULTS | CODE_RESULTS | DEPS_RESULTS


def test_cache_hit_explicit_subfolder_input_and_an_absolute_sarif_file_outside_the_workspace(harness: Harness) -> None:
    ws = _project_workspace(harness.tmp / "ws-explicit")
    outside = harness.tmp / "elsewhere" / "reports" / "scan.sarif"
    run = harness.runner.run(ws, {"iac": "infra", "sarif-file": str(outside), "category": "iac"}, cache_hit=True)
    # a hit: nothing installed but auditor itself
    assert run.step("Install auditor's pinned dependencies").status == "skipped"
    assert run.uses("Save").status == "skipped"
    assert run.step("Install auditor").status == "success", run.log
    # only what the input names is scanned
    assert "scanning the workspace" not in run.step("Scan").stdout
    assert _last_run(run)["targets"] == [f"iac:{ws / 'infra'}"]
    # written where asked (its folder created), uploaded from there, paths relative to the workspace
    assert run.outputs["sarif-file"] == str(outside)
    assert run.uses("Upload SARIF").with_ == {"sarif_file": str(outside), "category": "iac"}
    doc = _sarif(outside)
    assert ingestion_problems(doc, checkout=ws) == []
    assert _results(doc) == IAC_RESULTS
    assert run.outputs["exit-code"] == "1" and run.step("Gate").rc == 1


def test_an_empty_workspace_is_not_an_error(harness: Harness) -> None:
    ws = _git_workspace(harness.tmp / "ws-empty")
    run = harness.runner.run(ws, {}, cache_hit=True)
    scan = run.step("Scan")
    assert "::notice title=auditor::nothing to scan" in scan.stdout
    assert run.outputs["exit-code"] == "0" and run.step("Gate").rc == 0
    assert _results(_sarif(ws / "auditor.sarif")) == set()


def test_a_bad_input_fails_the_scan_step_and_nothing_is_uploaded(harness: Harness) -> None:
    ws = _git_workspace(harness.tmp / "ws-bad")
    run = harness.runner.run(ws, {"allow-errors": "yes"}, cache_hit=True)
    scan = run.step("Scan")
    assert scan.status == "failure" and scan.rc == 2
    assert "::error title=auditor::input allow-errors must be true or false" in scan.stdout
    two = harness.runner.run(ws, {"sarif-file": "a.sarif\nexit-code=0"}, cache_hit=True)
    assert two.step("Scan").rc == 2 and two.outputs["exit-code"] == ""
    assert "::error title=auditor::input sarif-file must be one path" in two.step("Scan").stdout
    assert run.uses("Upload SARIF").status == "skipped"
    assert run.step("Gate").status == "skipped"


def test_usage_error_exit_2_is_the_gate_result_and_no_sarif_is_uploaded(harness: Harness) -> None:
    ws = _git_workspace(harness.tmp / "ws-usage")
    run = harness.runner.run(ws, {"iac": "missing-folder"}, cache_hit=True)
    assert run.outputs["exit-code"] == "2"
    assert "no SARIF report was written" in run.step("Scan").stdout
    assert run.uses("Upload SARIF").status == "skipped"
    assert run.step("Gate").rc == 2


def test_a_dependency_the_lock_does_not_pin_fails_the_install(harness: Harness) -> None:
    """The lock is a constraint file: a package it does not name would install unpinned, so the step refuses."""
    action = harness.tmp / "action-unpinned"
    shutil.copytree(harness.runner.action_path, action)
    lock = action / "requirements.lock"
    lock.write_text("".join(line for line in lock.read_text().splitlines(True) if not line.startswith("six==")))
    runner_temp = harness.tmp / "runner-temp-unpinned"
    runner_temp.mkdir()
    runner = ActionRunner(action, runner_temp, harness.runner.wheelhouse, harness.runner.base_env)
    run = runner.run(_git_workspace(harness.tmp / "ws-unpinned"), {}, cache_hit=False)
    install = run.step("Install auditor's pinned dependencies")
    assert install.status == "failure", run.log
    assert "::error title=auditor::installed packages not pinned by requirements.lock: six==" in install.stdout
    assert [s.name for s in run.steps if s.status != "skipped"] == [
        "Set up Python for auditor",
        "Prepare auditor's virtualenv",
        "Restore auditor's virtualenv",
        "Install auditor's pinned dependencies",
    ]
