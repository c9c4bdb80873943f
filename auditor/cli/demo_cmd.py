"""`auditor demo`: the whole pipeline on an embedded sample estate."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run the whole pipeline on an embedded sample estate")
    p.add_argument("--dir", default="auditor-demo", help="where to write the demo's database and outputs")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from auditor.demo import run_demo

    return run_demo(Path(args.dir))
