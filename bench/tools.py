"""Benchmark: auditor's IaC and code scans against raw checkov and raw semgrep on the same input.

Generates a corpus (default 500 Terraform files, 300 Python files) in a temp dir, then times

- raw `checkov -f FILES...` with exactly the flags auditor passes,
- raw `semgrep scan FILES...` with exactly the flags auditor passes,
- `auditor scan --iac CORPUS/tf`, `auditor scan --code CORPUS/py` (each alone, so each
  overhead is measured against its own tool) and both together,

and prints the overhead of auditor (parsing, findings, SQLite, JSON output) over the raw
tool, in percent. Target: <= 10 %. Usage: `python bench/tools.py [--tf 500] [--py 300] [--repeat 1]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from auditor.providers.code.semgrep import DEFAULT_RULE_TIMEOUT_S, semgrep_args
from auditor.providers.iac.checkov import checkov_args
from auditor.resources import resource_dir
from auditor.scope import DEFAULT_MAX_FILE_BYTES
from auditor.tools import tool_env

BIN = Path(sys.executable).parent

TF_TEMPLATE = """\
resource "aws_s3_bucket" "data_{i}" {{
  bucket = "corpus-data-{i}"
  tags = {{
    data_classification = "{cls}"
  }}
}}

resource "aws_security_group" "sg_{i}" {{
  name        = "sg-{i}"
  description = "generated"
  ingress {{
    description = "https"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["{cidr}"]
  }}
}}

resource "aws_cloudwatch_log_group" "logs_{i}" {{
  name              = "/corpus/{i}"
  retention_in_days = {retention}
}}
"""

PY_TEMPLATE = '''\
"""Generated module {i}."""

import hashlib
import logging
import subprocess

import requests

log = logging.getLogger(__name__)


def fetch_{i}(user_id):
    return requests.get("https://api.example.com/users/%s" % user_id, verify={verify})


def run_{i}(path):
    return subprocess.run("ls " + path, shell={shell})


def digest_{i}(data):
    return hashlib.sha256(data).hexdigest()


def notify_{i}(user):
    log.info("user %s", user.{field})
'''


def make_corpus(root: Path, n_tf: int, n_py: int) -> tuple[Path, Path]:
    tf, py = root / "tf", root / "py"
    tf.mkdir(parents=True)
    py.mkdir(parents=True)
    for i in range(n_tf):
        (tf / f"stack_{i:04d}.tf").write_text(
            TF_TEMPLATE.format(
                i=i,
                cls="personal" if i % 3 == 0 else "internal",
                cidr="0.0.0.0/0" if i % 5 == 0 else "10.0.0.0/8",
                retention=0 if i % 4 == 0 else 90,
            )
        )
    for i in range(n_py):
        (py / f"module_{i:04d}.py").write_text(
            PY_TEMPLATE.format(
                i=i,
                verify="False" if i % 2 == 0 else "True",
                shell="True" if i % 3 == 0 else "False",
                field="email" if i % 4 == 0 else "id",
            )
        )
    return tf, py


def timed(
    cmd: Sequence[str], env: dict[str, str], cwd: Path | None = None, ok: Sequence[int] = (0, 1)
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd[0]} exited {proc.returncode}: {proc.stderr[-800:]} {proc.stdout[-800:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def best(cmd: Sequence[str], env: dict[str, str], repeat: int, cwd: Path | None = None) -> tuple[float, float]:
    runs = [timed(cmd, env, cwd) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tf", type=int, default=500)
    ap.add_argument("--py", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest counts")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="auditor-bench-") as tmp:
        root = Path(tmp)
        tf, py = make_corpus(root / "corpus", args.tf, args.py)
        home = root / "home"
        home.mkdir()
        env = tool_env(
            {
                "HOME": str(home),
                "XDG_CACHE_HOME": str(home),
                "XDG_CONFIG_HOME": str(home),
                "SEMGREP_SETTINGS_FILE": str(home / "settings.yml"),
                "SEMGREP_LOG_FILE": str(home / "semgrep.log"),
                "CHECKOV_HELM_ALLOWED_REMOTE_REPOS": "none",
                "LOG_LEVEL": "WARNING",
            }
        )
        policies = resource_dir("policies")
        tf_files = sorted(str(p) for p in tf.rglob("*") if p.is_file())
        py_files = sorted(p.relative_to(py).as_posix() for p in py.rglob("*.py"))
        raw_checkov = [str(BIN / "checkov"), *checkov_args(tf_files, policies / "checkov")]
        raw_semgrep = [
            str(BIN / "semgrep"),
            *semgrep_args(policies / "semgrep", py_files, DEFAULT_MAX_FILE_BYTES + 1, DEFAULT_RULE_TIMEOUT_S),
        ]
        auditor = [str(BIN / "auditor"), "scan", "--format", "json", "--output", os.devnull, "--allow-errors"]

        def db(name: str) -> list[str]:
            return ["--db", str(root / f"{name}.db")]

        print(f"corpus: {args.tf} Terraform files, {args.py} Python files; best of {args.repeat}")
        t_checkov = best(raw_checkov, env, args.repeat)
        t_ours_iac = best([*auditor, *db("iac"), "--iac", str(tf)], env, args.repeat)
        t_semgrep = best(raw_semgrep, env, args.repeat, cwd=py)
        t_ours_code = best([*auditor, *db("code"), "--code", str(py)], env, args.repeat)
        t_both = best([*auditor, *db("both"), "--iac", str(tf), "--code", str(py)], env, args.repeat)

        def pct(ours: float, raw: float) -> str:
            return f"{(ours - raw) / raw * 100:+.1f} %"

        raw_both = (t_checkov[0] + t_semgrep[0], t_checkov[1] + t_semgrep[1])
        rows = [
            ("raw checkov -d tf", t_checkov, None),
            ("auditor scan --iac tf", t_ours_iac, t_checkov),
            ("raw semgrep scan py", t_semgrep, None),
            ("auditor scan --code py", t_ours_code, t_semgrep),
            ("raw checkov + raw semgrep (sequential)", raw_both, None),
            ("auditor scan --iac tf --code py", t_both, raw_both),
        ]
        print(f"{'measurement':40} {'wall s':>7} {'cpu s':>7}  {'wall overhead':>13} {'cpu overhead':>13}")
        for name, (wall, cpu), raw in rows:
            extra = f"  {pct(wall, raw[0]):>13} {pct(cpu, raw[1]):>13}" if raw else ""
            print(f"{name:40} {wall:7.2f} {cpu:7.2f}{extra}")
        print("wall time depends on machine load; CPU time (process + children) is the steadier measure.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
