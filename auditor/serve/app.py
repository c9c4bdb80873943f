"""The dashboard as a WSGI application (werkzeug routing, jinja2 templates with autoescape).

Safety model (docs/serve.md):
- read-only: the database is opened read-only (one connection per server thread); only GET
  and HEAD are answered, every other method gets 405;
- a token, when set, is required on every request: `Authorization: Bearer TOKEN`, or the
  `auditor_token` cookie that a `?token=TOKEN` link sets (HttpOnly, SameSite=Strict) before
  redirecting to the same page without the token in its address; compared in constant time;
- without a token (loopback only) the Host header must name the loopback, so a web page
  elsewhere cannot reach the dashboard through DNS rebinding;
- a request another site's page makes (`Sec-Fetch-Site: cross-site` or `same-site`) is refused unless it is
  the reader following a link to a page (never a download or a report generated);
- every response carries a strict Content-Security-Policy (no inline script or style),
  X-Content-Type-Options, frame-ancestors 'none', Referrer-Policy: no-referrer, no-store;
- downloads are by id (manual evidence row, report kind), never by path; static files are
  a fixed list shipped in the package.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response
from werkzeug.wsgi import wrap_file

from auditor.errors import AuditorError
from auditor.models import Severity, Status, iso_z
from auditor.serve import views
from auditor.store import STORE_ERRORS, FindingFilter, Store, StoreError

log = logging.getLogger("auditor.serve")
PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_FILES = {"style.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
TOKEN_COOKIE = "auditor_token"
GENERATED = ("/reports/download", "/evidence/")  # what another site must never trigger
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1", "[::1]"}
REPORT_KINDS = {
    "html": ("report.html", "text/html; charset=utf-8"),
    "pdf": ("report.pdf", "application/pdf"),
    "pack": ("evidence-pack.zip", "application/zip"),
}

# What a page shows as a one-line error page (404 for what is not there, 400 for bad input).
USER_ERRORS: tuple[type[Exception], ...] = (AuditorError, *STORE_ERRORS)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header.split("]")[0] + "]"
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class Dashboard:
    """`Dashboard(db_path, token=...)` is a WSGI callable."""

    def __init__(self, db_path: Path, *, token: str | None = None, sign_key: Path | None = None) -> None:
        self.db_path = Path(db_path)
        self.token = token or None
        self.sign_key = sign_key
        self._local = threading.local()
        Store.open(self.db_path, create=False, readonly=True).close()  # fail now, not on the first request
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(PACKAGE_DIR / "templates")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["iso"] = lambda v: (iso_z(v) if not isinstance(v, str) else v) if v else "–"
        self.env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.0f} %"
        self.env.globals["url"] = self._url
        self.urls = Map(
            [
                Rule("/", endpoint="overview"),
                Rule("/controls", endpoint="controls"),
                Rule("/controls/<framework>/<path:control_id>", endpoint="control"),
                Rule("/findings", endpoint="findings"),
                Rule("/findings/<fingerprint>", endpoint="finding"),
                Rule("/runs", endpoint="runs"),
                Rule("/diff", endpoint="diff"),
                Rule("/reports", endpoint="reports"),
                Rule("/reports/download", endpoint="report_download"),
                Rule("/evidence/<int:evidence_id>", endpoint="evidence"),
                Rule("/static/<name>", endpoint="static"),
            ],
            strict_slashes=False,
        )

    # Plumbing ------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = Store.open(self.db_path, create=False, readonly=True)
            self._local.store = store
        return store

    @staticmethod
    def _url(path: str, **params: Any) -> str:
        clean = {k: v for k, v in params.items() if v not in (None, "")}
        return path + ("?" + urlencode(clean) if clean else "")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        response = self.respond(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers[key] = value
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return self._plain(405, "405 method not allowed: the dashboard is read-only", Allow="GET, HEAD")
        if self.token is None:
            if _host_name(request.host.lower()) not in LOOPBACK_NAMES:
                return self._plain(403, "403 forbidden: the dashboard answers on the loopback only")
        else:
            denied = self._check_token(request)
            if denied is not None:
                return denied
        # same-site: another port of this host is another origin (another local web app) too.
        if request.headers.get("Sec-Fetch-Site", "same-origin") in ("cross-site", "same-site") and (
            request.headers.get("Sec-Fetch-Mode") != "navigate" or request.path.startswith(GENERATED)
        ):
            # Another site's page may link here (the reader's own click), nothing more: no embedding,
            # no background fetch, no report generated or file downloaded on its behalf.
            return self._plain(403, "403 forbidden: cross-site request")
        try:
            endpoint, values = self.urls.bind_to_environ(request.environ).match()
            handler: Callable[..., Response] = getattr(self, f"page_{endpoint}")
            return handler(request, **values)
        except MethodNotAllowed:
            return self._plain(405, "405 method not allowed", Allow="GET, HEAD")
        except NotFound:
            return self._page(request, "error.html.j2", status=404, heading="Not found", message="No such page.")
        except HTTPException as exc:
            return self._plain(exc.code or 400, f"{exc.code} {exc.name}")
        except StoreError as exc:  # a run or finding that is not there
            return self._page(request, "error.html.j2", status=404, heading="Not found", message=str(exc))
        except USER_ERRORS as exc:  # a bad period, an unknown framework: the CLI's own one-line message
            return self._page(request, "error.html.j2", status=400, heading="Cannot show this", message=str(exc))
        except Exception:  # a bug of ours: logged here, never shown to the browser
            log.exception("internal error on %s", request.path)
            return self._plain(500, "500 internal error (details in the server's log)")

    def _check_token(self, request: Request) -> Response | None:
        assert self.token is not None
        expected = self.token.encode("utf-8")

        def ok(value: str | None) -> bool:
            return value is not None and hmac.compare_digest(value.encode("utf-8"), expected)

        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and ok(auth[7:].strip()):
            return None
        if ok(request.cookies.get(TOKEN_COOKIE)):
            return None
        given = request.args.get("token")
        if ok(given):
            # Keep the token out of the address bar and history: a cookie, then the same page.
            rest = [(k, v) for k, v in request.args.items(multi=True) if k != "token"]
            target = request.path + ("?" + urlencode(rest) if rest else "")
            response = Response("", status=303, headers={"Location": target})
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict", path="/")
            return response
        return self._plain(
            401,
            "401 unauthorized: this dashboard needs its token (Authorization: Bearer TOKEN, or open it once with "
            "?token=TOKEN)",
            **{"WWW-Authenticate": "Bearer"},
        )

    @staticmethod
    def _plain(status: int, text: str, **headers: str) -> Response:
        return Response(text + "\n", status=status, mimetype="text/plain", headers=headers)

    def _page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        html = self.env.get_template(template).render(path=request.path, **context)
        return Response(html, status=status, mimetype="text/html")

    # Pages ---------------------------------------------------------------------------------

    def page_static(self, request: Request, name: str) -> Response:
        if name not in STATIC_FILES:
            raise NotFound()
        data = (PACKAGE_DIR / "static" / name).read_bytes()
        return Response(data, content_type=STATIC_FILES[name])

    def page_overview(self, request: Request) -> Response:
        return self._page(request, "overview.html.j2", o=views.overview(self.store))

    def page_controls(self, request: Request) -> Response:
        run = views.latest_run(self.store)
        frameworks = views.frameworks_in_force(self.store, run)
        fid = request.args.get("framework") or next(iter(frameworks), "")
        fw = frameworks.get(fid)
        if fw is None:
            raise NotFound()
        trend = views.control_trend(self.store, fid)
        return self._page(request, "controls.html.j2", frameworks=frameworks, fw=fw, trend=trend)

    def page_control(self, request: Request, framework: str, control_id: str) -> Response:
        detail = views.control_detail(self.store, framework, control_id)
        if detail is None:
            raise NotFound()
        return self._page(request, "control.html.j2", d=detail)

    def page_findings(self, request: Request) -> Response:
        store = self.store
        args = request.args
        run = store.get_run(args["run"]) if args.get("run") else views.latest_run(store)
        flt = FindingFilter(
            provider=args.get("provider", ""),
            severity=args.get("severity", ""),
            status=args.get("status", ""),
            control=args.get("control", ""),
            resource=args.get("resource", ""),
            text=args.get("q", ""),
        )
        page = max(args.get("page", 1, type=int) or 1, 1)
        total, rows = 0, list[dict[str, Any]]()
        if run is not None:
            seq = store.run_sequences().get(run.id)
            if seq is not None:
                total, rows = store.search_findings(seq, flt, views.PAGE_SIZE, (page - 1) * views.PAGE_SIZE)
        pages = max(math.ceil(total / views.PAGE_SIZE), 1)
        params = {k: v for k, v in vars(flt).items() if k != "text"} | {"q": flt.text}
        params["run"] = args.get("run", "")
        return self._page(
            request,
            "findings.html.j2",
            run=run,
            flt=flt,
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            params=params,
            providers=store.finding_providers(),
            severities=[s.value for s in Severity],
            statuses=[s.value for s in Status],
            runs=[r for r, _ in store.list_runs(None) if r.id in store.run_sequences()],
        )

    def page_finding(self, request: Request, fingerprint: str) -> Response:
        record = self.store.finding_record(fingerprint)
        if record is None:
            raise NotFound()
        life, intervals = self.store.history(fingerprint)
        return self._page(
            request,
            "finding.html.j2",
            f=record,
            life=life,
            intervals=intervals,
            evidence=views.evidence_json(record["evidence"]),
            waiver=views.evidence_json(record["waiver"]) if record["waiver"] else "",
        )

    def page_runs(self, request: Request) -> Response:
        return self._page(request, "runs.html.j2", runs=self.store.list_runs(None))

    def page_diff(self, request: Request) -> Response:
        store = self.store
        stored = store.stored_runs(10_000)
        a_ref, b_ref = request.args.get("a", ""), request.args.get("b", "")
        if a_ref and b_ref:
            a, b = store.get_run(a_ref), store.get_run(b_ref)
        elif len(stored) >= 2:
            a, b = stored[-2], stored[-1]
        else:
            return self._page(request, "diff.html.j2", diff=None, runs=stored, summaries={})
        summaries = {r.id: s for r, s in store.list_runs(None) if r.id in (a.id, b.id)}
        return self._page(request, "diff.html.j2", diff=store.diff(a, b), runs=stored, summaries=summaries)

    def page_reports(self, request: Request) -> Response:
        run = views.latest_run(self.store)
        frameworks = views.frameworks_in_force(self.store, run)
        return self._page(request, "reports.html.j2", frameworks=frameworks, run=run, signed=self.sign_key is not None)

    def page_report_download(self, request: Request) -> Response:
        from auditor.report import parse_period, write_report

        if request.method == "HEAD":
            # A HEAD would cost the whole render (a PDF, a signed pack) to send no body: only GET makes one.
            return self._plain(405, "405 method not allowed: a report is generated only by GET", Allow="GET")
        args = request.args
        kind = args.get("kind", "html")
        if kind not in REPORT_KINDS:
            raise NotFound()
        framework = args.get("framework", "")
        period = parse_period(args["period"]) if args.get("period") else None
        name, mimetype = REPORT_KINDS[kind]
        work = Path(tempfile.mkdtemp(prefix="auditor-serve-"))
        try:
            target = work / name
            write_report(
                self.store,
                framework,
                run_ref=args.get("run") or None,
                period=period,
                html_path=target if kind == "html" else None,
                pdf_path=target if kind == "pdf" else None,
                pack_path=target if kind == "pack" else None,
                sign_key_path=self.sign_key if kind == "pack" else None,
            )
            fh = target.open("rb")
        finally:
            # The open file outlives its name: nothing stays on disk once the response is sent.
            shutil.rmtree(work, ignore_errors=True)
        filename = f"{framework}-{name}"
        response = Response(wrap_file(request.environ, fh), mimetype=mimetype, direct_passthrough=True)
        response.headers["Content-Disposition"] = _attachment(filename)
        return response

    def page_evidence(self, request: Request, evidence_id: int) -> Response:
        rows = self.store.list_manual_evidence(evidence_id=evidence_id)
        if not rows:
            raise NotFound()
        data = self.store.manual_evidence_content(evidence_id)
        response = Response(data, mimetype="application/octet-stream")
        response.headers["Content-Disposition"] = _attachment(str(rows[0]["filename"]) or "evidence")
        return response


def _attachment(filename: str) -> str:
    """A Content-Disposition that downloads (never displays) the file, its name made header-safe."""
    from urllib.parse import quote

    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in filename)[:120] or "download"
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(filename[:120], safe='')}"
