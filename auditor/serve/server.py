"""Starting the dashboard: bind checks, the token rule, then waitress (a pure-Python WSGI server)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from auditor.errors import UsageError
from auditor.serve.app import Dashboard, is_loopback

MIN_TOKEN_LENGTH = 16


def check_bind(host: str, token: str | None) -> None:
    """A non-loopback bind needs a token (anyone on the network could read the history)."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise UsageError(f"the serve token must be at least {MIN_TOKEN_LENGTH} characters long")
    if not is_loopback(host) and not token:
        raise UsageError(
            f"refusing to serve on {host}, which is not a loopback address, without a token: "
            "give --token or $AUDITOR_SERVE_TOKEN (or bind to 127.0.0.1)"
        )


def serve(
    db_path: Path, host: str, port: int, token: str | None, sign_key: Path | None = None, threads: int = 4
) -> None:
    """Serve until interrupted (Ctrl-C)."""
    check_bind(host, token)
    app = Dashboard(db_path, token=token, sign_key=sign_key)
    from waitress import create_server

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = create_server(app, host=host, port=port, threads=threads, ident="auditor")
    bound = getattr(server, "effective_port", port)
    shown = f"[{host}]" if ":" in host else host
    print(f"auditor serve: http://{shown}:{bound}/ (read-only; database {db_path}); Ctrl-C stops", flush=True)
    try:
        run_until_stopped(server)
    finally:
        server.close()
    print("auditor serve: stopped", flush=True)


def run_until_stopped(server: Any) -> None:
    """waitress's event loop until SIGINT or SIGTERM.

    Not `server.run()`, which stops on the KeyboardInterrupt that Ctrl-C raises: waitress runs
    a finished response's callbacks under a bare `except:`, so an interrupt that lands there is
    logged and swallowed and the server never stops. Here the signals only set a flag, and the
    loop polls in short slices and checks it; then it keeps running while the requests in
    flight finish."""
    stop = threading.Event()
    loop_map = getattr(server, "_map", None)
    if loop_map is None:
        loop_map = server.map  # several listening sockets (a name with an IPv4 and an IPv6 address)
    saved: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved[sig] = signal.signal(sig, lambda signum, frame: stop.set())
    def loop(timeout: float) -> None:
        server.asyncore.loop(timeout=timeout, map=loop_map, use_poll=server.adj.asyncore_use_poll, count=1)

    try:
        while not stop.is_set() and loop_map:
            loop(0.2)
        # Drain before closing: the workers finish the requests in flight while the loop still
        # sends their answers and their wake-ups (closing first makes a busy worker fail on a
        # closed descriptor). Bounded by waitress's own shutdown timeout.
        drain = threading.Thread(target=server.task_dispatcher.shutdown, name="auditor-serve-drain", daemon=True)
        drain.start()
        while drain.is_alive() and loop_map:
            loop(0.05)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
