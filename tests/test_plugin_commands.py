"""Commands that providers bring (`auditor.commands` entry points): `auditor sbom` is the image
provider's; a plugin command is imported only when it runs (or for `auditor --help`), and one
that cannot be loaded breaks no other command."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

from tests.conftest import VENV_BIN

HELLO = """
def register(sub):
    p = sub.add_parser("hello", help="say hello from a plugin")
    p.add_argument("--name", default="world")
    p.set_defaults(func=run)


def run(args):
    print(f"hello {args.name}")
    return 0


def register_nothing(sub):
    pass


def register_and_fail(sub):
    sub.add_parser("halfmade", help="never finished")
    raise RuntimeError("register() crashed")
"""


WARNING = (
    "auditor: WARNING auditor.cli: plugin command 'runs' (hello_cmd:register) ignored: "
    "auditor has a command of that name"
)


def install_commands(site: Path) -> None:
    """A plain dist-info (what `pip install` leaves) declaring plugin commands, good and broken."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "hello_cmd.py").write_text(HELLO)
    dist = site / "auditor_cmds-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: auditor-cmds\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[auditor.commands]\n"
        "hello = hello_cmd:register\n"
        "broken = missing_module_for_auditor_test:register\n"
        "empty = hello_cmd:register_nothing\n"
        "halfmade = hello_cmd:register_and_fail\n"
        "runs = hello_cmd:register\n"  # a core command's name: ignored
    )


def auditor(*args: str, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run([str(VENV_BIN / "auditor"), *args], capture_output=True, text=True, env=env, timeout=120)


def test_sbom_is_the_image_providers_command_through_an_entry_point() -> None:
    (ep,) = [ep for ep in entry_points(group="auditor.commands") if ep.name == "sbom"]
    assert ep.value == "auditor.providers.image.command:register"
    done = auditor("--help")
    assert done.returncode == 0, done.stderr
    assert "sbom" in done.stdout and "write a container image's inventory as a CycloneDX JSON SBOM" in done.stdout


def test_a_plugin_command_is_imported_only_when_it_runs() -> None:
    code = (
        "import sys\n"
        "from auditor.cli import parse_args\n"
        "parse_args(['runs', '--db', 'x.db'])\n"
        "parse_args(['scan', '--iac', '.'])\n"
        "print('auditor.providers.image.command' in sys.modules)\n"
        "args = parse_args(['sbom', 'image.tar'])\n"
        "print('auditor.providers.image.command' in sys.modules, args.func.__module__, args.image)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["False", "True auditor.providers.image.command image.tar"]


def test_broken_plugin_commands_break_no_other_command(tmp_path: Path) -> None:
    site = tmp_path / "site"
    install_commands(site)

    listing = auditor("--help", site=site)
    assert listing.returncode == 0, listing.stderr
    rows = {line.split()[0]: line for line in listing.stdout.splitlines() if line.startswith("    ")}
    assert "say hello from a plugin" in rows["hello"]
    assert "sbom" in rows and "scan" in rows
    for name in ("broken", "empty", "halfmade"):
        assert "(unavailable:" in rows[name], rows[name]
    assert "Traceback" not in listing.stderr

    hello = auditor("hello", "--name", "auditor", site=site)
    assert (hello.returncode, hello.stdout) == (0, "hello auditor\n"), hello.stderr

    # Running a broken one, with any arguments (even --help): one line naming the plugin, exit 3.
    for args in (["broken"], ["broken", "--help"], ["-v", "broken", "x", "--whatever"]):
        done = auditor(*args, site=site)
        assert done.returncode == 3, done.stderr
        assert done.stdout == ""
        assert done.stderr.splitlines()[-1] == (
            "auditor: error: command 'broken' is unavailable: plugin missing_module_for_auditor_test:register "
            "from auditor-cmds 1.0: ModuleNotFoundError: No module named 'missing_module_for_auditor_test'"
        )
        assert "Traceback" not in done.stderr
        if "-v" not in args:  # one line, and the warning about the plugin claiming `runs`
            assert done.stderr.splitlines()[:-1] == [WARNING], done.stderr
    empty = auditor("empty", site=site)
    assert empty.returncode == 3
    assert empty.stderr.strip().endswith("hello_cmd:register_nothing registered no command called 'empty'")
    half = auditor("halfmade", "--help", site=site)
    assert half.returncode == 3
    assert half.stderr.strip().endswith("RuntimeError: register() crashed")

    # The other commands: the image provider's own, and a core command whose name a plugin claims.
    assert auditor("sbom", "--help", site=site).returncode == 0
    runs = auditor("runs", "--db", str(tmp_path / "none.db"), site=site)
    assert "hello" not in runs.stdout
    assert runs.stderr.splitlines()[0] == WARNING
