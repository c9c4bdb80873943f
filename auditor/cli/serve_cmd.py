"""`auditor serve`: the read-only web dashboard."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from auditor.cli.common import add_db_flag
from auditor.config import resolve_db_path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="read-only web dashboard over the history (loopback by default)")
    add_db_flag(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need a token)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    p.add_argument(
        "--token",
        metavar="TOKEN",
        help="require this token on every request (default: $AUDITOR_SERVE_TOKEN); needed off the loopback",
    )
    p.add_argument("--sign-key", metavar="KEY", help="Ed25519 private key (PEM) to sign evidence packs downloaded")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from auditor.errors import UsageError
    from auditor.serve.server import check_bind, serve

    token = args.token or os.environ.get("AUDITOR_SERVE_TOKEN") or None
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: give a port between 0 and 65535")
    check_bind(args.host, token)  # before the database: the safety rule first
    try:
        serve(resolve_db_path(args.db), args.host, args.port, token, Path(args.sign_key) if args.sign_key else None)
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
