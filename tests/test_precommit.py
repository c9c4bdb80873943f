"""The pre-commit hook: its command line, its file classes, and real `pre-commit` runs.

The real runs use `.pre-commit-hooks.yaml` as shipped (language: python): pre-commit clones
a committed copy of this checkout, creates the hook's virtualenv and `pip install`s the
copy into it. Only the dependencies are not downloaded: PYTHONPATH points at this venv's
site-packages (where the pinned requirements are installed) and PIP_NO_INDEX forbids the
registry, so pip finds them already satisfied and builds just our package without build
isolation (~6 s).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.config import Setting
from auditor.errors import InputError, UsageError
from auditor.models import CheckInfo, Finding
from auditor.precommit import classify, main, repository_scanners, repository_waivers, scan_parser, split_argv
from auditor.providers import Registry
from auditor.providers.base import FileClaim, Provider, ScanContext, StagedFile

CHECKOUT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
FAKE_AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"  # built here, so our own secrets scan of this file stays clean

MAIN_TF = """\
resource "aws_s3_bucket" "logs" {
  bucket = "my-logs"
  acl    = "public-read"
}
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:latest
          securityContext:
            privileged: true
"""
BAD_PY = "import requests\n\n\ndef get(u):\n    return requests.get(u, verify=False)\n"
CLEAN_PY = "def add(a: int, b: int) -> int:\n    return a + b\n"
WAIVERS = """\
waivers:
  - check: iac.CKV_AWS_20
    resource: aws_s3_bucket.logs
    reason: the public website bucket
    approver: alice@example.com
    created: 2026-11-01
    expires: 2027-06-30
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def project_files() -> dict[str, str]:
    return {
        "infra/main.tf": MAIN_TF,
        "k8s/deployment.yaml": DEPLOYMENT,
        "app/x.py": BAD_PY,
        "app/ok.py": CLEAN_PY,
        ".env": f"AWS_ACCESS_KEY_ID={FAKE_AWS_KEY}\nDEBUG=1\n",
        "package.json": '{"name": "web", "version": "1.0.0", "kind": "app", "dependencies": {}}\n',
        "tsconfig.json": '{"compilerOptions": {"strict": true}}\n',
        "security/waivers.yaml": WAIVERS,
        "docs/notes.yaml": "title: notes\nResources: none\n",
    }


# The command line ---------------------------------------------------------------------


def test_option_values_are_never_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"w.yaml": WAIVERS, "base.json": "{}", "audit.yaml": "", "inv.yaml": ""})
    parser = scan_parser()
    argv = [
        "--waivers", "w.yaml", "--baseline", "base.json", "--config", "audit.yaml",
        "--secrets-inventory", "inv.yaml", "--fail-on=critical", "--allow-errors", "--list-files",
        "infra/main.tf", "w.yaml", "--not-an-option-but-a-file-name",
    ]  # fmt: skip
    got = split_argv(argv, parser)
    assert got.options == [
        "--waivers", "w.yaml", "--baseline", "base.json", "--config", "audit.yaml",
        "--secrets-inventory", "inv.yaml", "--fail-on=critical", "--allow-errors",
    ]  # fmt: skip
    assert got.given == {"waivers", "baseline", "config", "provider__secrets__inventory", "fail_on", "allow_errors"}
    assert got.hook == {"--list-files"}
    assert got.files == ["infra/main.tf", "w.yaml", "--not-an-option-but-a-file-name"]


def test_unknown_option_and_missing_value_exit_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"main.tf": MAIN_TF})
    assert main(["--bogus", "main.tf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("auditor: error: unknown option '--bogus'")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert main(["--waivers"]) == 2
    assert capsys.readouterr().err == "auditor: error: option --waivers needs a value\n"
    with pytest.raises(SystemExit) as exc:  # the scan parser's own check of a value
        main(["--fail-on", "severe", "main.tf"])
    assert exc.value.code == 2
    assert "argument --fail-on: invalid choice: 'severe'" in capsys.readouterr().err


def test_no_scannable_file_is_a_clean_exit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"package.json": "{}", "README.md": "# x\n"})
    assert main(["--fail-on", "low", "package.json", "README.md"]) == 0
    assert not (tmp_path / "default.db").exists()


# The file classes -----------------------------------------------------------------------


def test_classify_by_name_and_content(tmp_path: Path) -> None:
    files = {
        **project_files(),
        "infra/vars.tfvars": 'region = "eu-west-1"\n',
        "infra/modules/net/variables.tf": 'variable "cidr" {}\n',
        "docker/api.Dockerfile": "FROM python:3.11\n",
        "Dockerfile": "FROM alpine:3.20\n",
        "cfn/stack.json": '{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}\n',
        "cfn/stack.yaml": "Resources:\n  B:\n    Type: AWS::S3::Bucket\n",
        ".github/workflows/ci.yml": "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps: []\n",
        ".github/dependabot.yml": "version: 2\nupdates: []\n",
        ".pre-commit-config.yaml": "repos: []\n",
        ".auditor-waivers.yaml": "waivers: []\n",
        "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "charts/web/templates/deploy.yaml": "kind: Deployment\nname: {{ .Values.name }}\n",
        ".env.production": "X=1\n",
        "config/prod.env": "X=1\n",
        "web/src/main.ts": "export const x = 1;\n",
        "web/src/App.jsx": "export default () => null;\n",
        "requirements.txt": "requests==2.31.0\n",
        "requirements-dev.txt": "pytest==8.0.0\n",
        "pyproject.toml": "[project]\nname = 'x'\n",
        "README.md": "# x\n",
    }
    write(tmp_path, files)
    plan = classify(sorted(files), tmp_path)
    assert set(plan.files["iac"]) == {
        ".env", ".env.production", "config/prod.env",
        "infra/main.tf", "infra/vars.tfvars", "infra/modules/net/variables.tf",
        "Dockerfile", "docker/api.Dockerfile",
        "k8s/deployment.yaml", "cfn/stack.json", "cfn/stack.yaml",
        ".github/workflows/ci.yml", "charts/web",
    }  # fmt: skip
    assert len(plan.files["iac"]) == len(set(plan.files["iac"]))  # the chart once, for its two files
    assert set(plan.files["code"]) == {"app/x.py", "app/ok.py", "web/src/main.ts", "web/src/App.jsx"}
    assert plan.files["deps"] == []
    assert dict(plan.skipped) == {
        "package.json": "not infrastructure as code",
        "tsconfig.json": "not infrastructure as code",
        "security/waivers.yaml": "not infrastructure as code",
        "docs/notes.yaml": "not infrastructure as code",
        ".github/dependabot.yml": "not infrastructure as code",
        ".pre-commit-config.yaml": "not infrastructure as code",
        ".auditor-waivers.yaml": "not infrastructure as code",
        "requirements.txt": "dependency file (scanned with --with-deps)",
        "requirements-dev.txt": "dependency file (scanned with --with-deps)",
        "pyproject.toml": "dependency file (scanned with --with-deps)",
        "README.md": "no scanner for this kind of file",
    }
    with_deps = classify(["requirements.txt", "requirements-dev.txt", "pyproject.toml"], tmp_path, opted_in={"deps"})
    assert with_deps.files["deps"] == ["requirements.txt", "requirements-dev.txt", "pyproject.toml"]


class AcmeProvider(Provider):
    """A third-party provider that scans `.acme` files of the repository, and opt-in `.lock` files."""

    name = "acme"
    settings = (Setting("paths", "paths", flag="--acme", metavar="PATH", repository=True),)

    @classmethod
    def accepts_file(cls, file: StagedFile) -> FileClaim | None:
        if file.name.endswith(".acme"):
            return FileClaim(file.rel) if "acme" in file.head else FileClaim(None, "not an acme file")
        if file.name == "acme.lock":
            return FileClaim(file.rel, "acme lock file", opt_in=True)
        return None

    def checks(self) -> list[CheckInfo]:
        return []

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        yield from ()


class CrashingProvider(AcmeProvider):
    name = "crashing"
    settings = (Setting("paths", "paths", flag="--crashing", repository=True),)

    @classmethod
    def accepts_file(cls, file: StagedFile) -> FileClaim | None:
        raise RuntimeError("a bug in a plugin")


def test_files_go_to_the_providers_that_claim_them_through_the_registry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from auditor.providers.iac import IacProvider
    from auditor.providers.image import ImageProvider

    # The built-ins: the providers with a repository path setting, each with its flag.
    builtins = [(s.name, s.flag) for s in repository_scanners()]
    assert builtins == [("code", "--code"), ("deps", "--deps"), ("iac", "--iac")]
    reg = Registry.of_classes(
        {"acme": AcmeProvider, "crashing": CrashingProvider, "iac": IacProvider, "image": ImageProvider}
    )
    scanners = repository_scanners(reg)
    assert [s.name for s in scanners] == ["acme", "crashing", "iac"]  # image scans no repository paths
    write(tmp_path, {"a.acme": "acme v1\n", "b.acme": "other\n", "acme.lock": "x\n", "main.tf": MAIN_TF, "c.txt": ""})
    files = ["a.acme", "b.acme", "acme.lock", "main.tf", "c.txt", "gone.acme"]
    plan = classify(files, tmp_path, scanners=scanners)
    assert plan.files == {"acme": ["a.acme"], "crashing": [], "iac": ["main.tf"]}
    assert plan.targets() == ["--acme", "a.acme", "--iac", "main.tf"]
    assert dict(plan.skipped) == {
        "b.acme": "not an acme file",
        "acme.lock": "acme lock file (scanned with --with-acme)",
        "c.txt": "no scanner for this kind of file",
        "gone.acme": "not a regular file",
    }
    # A provider whose hook fails takes no file (a warning says so); the others still do.
    assert "provider crashing could not classify a.acme: RuntimeError: a bug in a plugin" in caplog.messages
    opted = classify(files, tmp_path, scanners=scanners, opted_in={"acme"})
    assert opted.files["acme"] == ["a.acme", "acme.lock"]


def test_with_provider_is_a_hook_flag_for_installed_providers_only() -> None:
    parser = scan_parser()
    assert split_argv(["--with-deps", "--with-code", "x.py"], parser).hook == {"--with-deps", "--with-code"}
    with pytest.raises(UsageError, match=r"unknown option '--with-nothing'"):
        split_argv(["--with-nothing", "x.py"], parser)


def test_hook_files_pattern_sends_what_classify_handles() -> None:
    """`files:` in .pre-commit-hooks.yaml lets through .env files and every class above."""
    import re

    import yaml

    (hook,) = yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["entry"] == "python -m auditor.precommit" and hook["language"] == "python"
    pattern = re.compile(hook["files"])
    for path in (
        ".env", "app/.env", ".env.local", "config/prod.env", "infra/main.tf", "infra/x.tfvars", "a.hcl",
        "Dockerfile", "docker/api.Dockerfile", "Dockerfile.prod", "k8s/d.yaml", "c/s.json", "c/s.template",
        "charts/web/templates/_helpers.tpl", "app/x.py", "web/a.ts", "web/a.tsx", "web/a.mjs",
        "requirements.txt", "requirements-dev.txt", "pyproject.toml",
    ):  # fmt: skip
        assert pattern.search(path), path
    for path in ("README.md", "app/envoy.cfg", "image.png", ".envrc", "Makefile", "go.mod"):
        assert not pattern.search(path), path


# Repository waivers -----------------------------------------------------------------------


def test_repository_waiver_file_needs_the_opt_in_and_no_wildcards(tmp_path: Path) -> None:
    parser = scan_parser()
    write(tmp_path, {".auditor-waivers.yaml": WAIVERS})
    assert repository_waivers(tmp_path, parser.parse_args([])) == []  # ignored (a warning says so)
    opted = parser.parse_args(["--allow-repo-waivers"])
    assert repository_waivers(tmp_path, opted) == ["--waivers", ".auditor-waivers.yaml"]
    write(tmp_path, {".auditor-waivers.yaml": WAIVERS.replace("iac.CKV_AWS_20", "'iac.*'")})
    with pytest.raises(InputError, match=r"\.auditor-waivers\.yaml:2: .* may not use a wildcard check"):
        repository_waivers(tmp_path, opted)


# Real pre-commit runs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A committed copy of this checkout as it is now (tracked and new files, not ignored ones)."""
    repo = tmp_path_factory.mktemp("hook-repo")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=CHECKOUT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = CHECKOUT / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hook")
    return repo, git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PRE_COMMIT", "VIRTUAL_ENV"))}
    env.update(
        PRE_COMMIT_HOME=str(home),
        PYTHONPATH=sysconfig.get_paths()["purelib"],
        PIP_NO_INDEX="1",
        # pip reads this as --no-build-isolation (its "no-" variables are inverted): setuptools
        # and wheel (dev extra) then come from PYTHONPATH instead of the registry.
        PIP_NO_BUILD_ISOLATION="0",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        # checkov and semgrep are console scripts of this venv (the hook's env has none).
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(home),
    )
    return env


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q")
    write(root, project_files())
    git(root, "add", "-A")
    yield root


def pre_commit(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = VENV_BIN / "pre-commit"
    assert exe.is_file(), "pre-commit is not installed: run scripts/setup --dev"
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def finding_lines(output: str) -> set[str]:
    """`path:line: severity check` of the hook's finding lines."""
    out = set()
    for line in output.splitlines():
        head, sep, rest = line.partition(": ")
        parts = rest.split(" ")
        if sep and ":" in head and len(parts) >= 2 and parts[1].startswith(("iac.", "code.", "deps.")):
            out.add(f"{head}: {parts[0]} {parts[1]}")
    return out


@pytest.mark.slow
def test_try_repo_all_files(hook_repo: tuple[Path, str], pre_commit_env: dict[str, str], project: Path) -> None:
    repo, _ = hook_repo
    done = pre_commit(pre_commit_env, project, "try-repo", str(repo), "auditor", "--all-files", "--verbose")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    lines = finding_lines(out)
    # Folders kept, lines as in the files; the default gate is --fail-on high.
    assert {
        ".env:1: critical iac.CKV_SECRET_2",
        "infra/main.tf:1: critical iac.CKV_AWS_20",
        "infra/main.tf:1: high iac.CKV2_AWS_6",
        "k8s/deployment.yaml:1: high iac.CKV_K8S_16",
        "app/x.py:5: high code.python.tls-verify-disabled",
    } <= lines
    assert {line.split(":")[0] for line in lines} == {".env", "infra/main.tf", "k8s/deployment.yaml", "app/x.py"}
    assert FAKE_AWS_KEY not in out
    assert "Traceback" not in out


@pytest.mark.slow
def test_configured_hook_with_args(hook_repo: tuple[Path, str], pre_commit_env: dict[str, str], project: Path) -> None:
    repo, rev = hook_repo
    write(
        project,
        {
            ".pre-commit-config.yaml": (
                f"repos:\n  - repo: {repo}\n    rev: {rev}\n    hooks:\n      - id: auditor\n"
                "        args: [--waivers, security/waivers.yaml, --list-files]\n"
            )
        },
    )
    git(project, "add", "-A")
    done = pre_commit(pre_commit_env, project, "run", "--all-files", "--verbose")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    lines = finding_lines(out)
    assert "infra/main.tf:1: critical iac.CKV_AWS_20" not in lines  # waived by --waivers security/waivers.yaml
    assert {".env:1: critical iac.CKV_SECRET_2", "infra/main.tf:1: high iac.CKV2_AWS_6"} <= lines
    # What went where: the waiver file is an option value, package.json is not IaC.
    for listed in (
        "auditor: iac   infra/main.tf",
        "auditor: iac   k8s/deployment.yaml",
        "auditor: iac   .env",
        "auditor: code  app/x.py",
        "auditor: code  app/ok.py",
        "auditor: skip  package.json (not infrastructure as code)",
        "auditor: skip  tsconfig.json (not infrastructure as code)",
        "auditor: skip  security/waivers.yaml (not infrastructure as code)",
        "auditor: skip  .pre-commit-config.yaml (not infrastructure as code)",
    ):
        assert listed in out, listed
    # The hook's environment holds our package, installed from the committed copy.
    installed = list(Path(pre_commit_env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/lib/python*/site-packages/auditor"))
    assert len(installed) == 1 and (installed[0] / "precommit.py").is_file()

    # Clean files: exit 0 and no finding line.
    clean = pre_commit(pre_commit_env, project, "run", "auditor", "--files", "app/ok.py", "package.json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert finding_lines(clean.stdout + clean.stderr) == set()
