"""Notifications after a stored run: only when something got worse, never with secrets.

A notification is due when the run has FAIL findings at or above
`notifications.min_severity` that are *new* (absent from the previous comparable run)
or *regressed* (present there with another status: PASS, ERROR, WAIVED, SKIPPED), or
when the scan was incomplete: checks ended in ERROR (a tool missing, data denied), so
the controls they map to are ERROR and nothing there can be called passing or resolved.
The previous comparable run is the newest earlier stored run with the same targets; on
the first run of a set of targets every such FAIL is new. Nothing new and nothing
incomplete: nothing is sent.

What is sent: counts, check ids, resource ids, severities and the run id. Never a
message, evidence, or any value from the environment. A webhook gets a generic JSON
document or a Slack-compatible `{"text", "blocks"}`; e-mail goes over SMTP with
STARTTLS and AUTH. Each attempt is recorded on the run (`notifications` table); one
that cannot be delivered is logged as a warning and never fails the scan or changes
its exit code.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from auditor import __version__
from auditor.clock import utcnow
from auditor.config import AuditConfig, EmailTarget, Notifications, WebhookTarget
from auditor.models import ControlResult, ControlStatus, Finding, Run, Severity, Status, iso_z
from auditor.redact import redact_text
from auditor.store import STORE_ERRORS, Store

log = logging.getLogger("auditor.notify")

SCHEMA = "auditor.notification/1"
MAX_LISTED = 50  # findings named in one notification; the counts always cover all


class NotificationError(Exception):
    """A notification could not be delivered (the message is safe to log and store)."""


@dataclass(frozen=True, slots=True)
class NotifiedFinding:
    fingerprint: str
    check_id: str
    resource_id: str
    severity: Severity
    change: str  # "new" | "regressed"
    previous_status: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "check_id": self.check_id,
            "resource_id": self.resource_id,
            "severity": str(self.severity),
            "change": self.change,
            "previous_status": self.previous_status,
        }


@dataclass(frozen=True)
class IncompleteScan:
    """What this run could not look at: ERROR findings, their checks, the controls left ERROR,
    and failing findings of the previous run that this run did not re-check."""

    errors: int
    checks: tuple[str, ...]
    controls: tuple[str, ...]
    not_rechecked: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "error_findings": self.errors,
            "checks": list(self.checks[:MAX_LISTED]),
            "controls_in_error": list(self.controls),
            "not_rechecked": self.not_rechecked,
        }

    def line(self) -> str:
        return (
            f"scan incomplete: {self.errors} check result(s) ended in ERROR ({len(self.checks)} check(s)); "
            f"{len(self.controls)} control(s) could not be evaluated"
            + (f"; {self.not_rechecked} earlier failure(s) not re-checked" if self.not_rechecked else "")
        )


@dataclass(frozen=True)
class NotificationSummary:
    organisation: str
    run: Run
    previous_run_id: str | None
    min_severity: Severity
    findings: list[NotifiedFinding]
    incomplete: IncompleteScan | None = None

    @property
    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {s.value: counts.get(s, 0) for s in Severity if s.at_least(self.min_severity)}

    @property
    def new(self) -> int:
        return sum(1 for f in self.findings if f.change == "new")

    @property
    def regressed(self) -> int:
        return len(self.findings) - self.new

    def headline(self) -> str:
        sev = ", ".join(f"{n} {s}" for s, n in self.by_severity.items() if n)
        text = (
            f"{self.organisation}: {len(self.findings)} new or regressed FAIL finding"
            f"{'s' if len(self.findings) != 1 else ''} at or above {self.min_severity}"
            + (f" ({sev})" if sev else "")
            + f" in run {self.run.id}"
        )
        if self.incomplete is not None:
            text += f"; {self.incomplete.line()}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The generic webhook document (`auditor.notification/1`)."""
        listed = self.findings[:MAX_LISTED]
        return {
            "schema": SCHEMA,
            "organisation": self.organisation,
            "run": {
                "id": self.run.id,
                "started_at": iso_z(self.run.started_at),
                "finished_at": iso_z(self.run.finished_at) if self.run.finished_at else None,
                "status": str(self.run.status),
                "targets": list(self.run.targets),
            },
            "previous_run_id": self.previous_run_id,
            "min_severity": str(self.min_severity),
            "incomplete": self.incomplete.to_dict() if self.incomplete is not None else None,
            "counts": {
                "total": len(self.findings),
                "new": self.new,
                "regressed": self.regressed,
                "by_severity": self.by_severity,
            },
            "findings": [f.to_dict() for f in listed],
            "truncated": len(listed) < len(self.findings),
            "scanner_version": __version__,
        }


# Deciding ---------------------------------------------------------------------------------


def findings_to_notify(
    store: Store, run: Run, findings: Iterable[Finding], min_severity: Severity
) -> tuple[Run | None, list[NotifiedFinding]]:
    """(previous comparable run, new or regressed FAIL findings at or above `min_severity`)."""
    previous = store.previous_comparable_run(run)
    out: list[NotifiedFinding] = []
    if previous is None:
        for f in findings:
            if f.status is Status.FAIL and f.severity.at_least(min_severity):
                out.append(NotifiedFinding(f.fingerprint, f.check_id, f.resource.id, f.severity, "new", None))
    else:
        for change in store.diff(previous, run).new:  # after == FAIL, before anything else
            severity = Severity(change.severity)
            if severity.at_least(min_severity):
                kind = "new" if change.before is None else "regressed"
                out.append(
                    NotifiedFinding(
                        change.fingerprint, change.check_id, change.resource_id, severity, kind, change.before
                    )
                )
    out.sort(key=lambda n: (-n.severity.rank, n.check_id, n.resource_id, n.fingerprint))
    return previous, out


# Rendering --------------------------------------------------------------------------------


def slack_payload(summary: NotificationSummary) -> dict[str, Any]:
    """Slack-compatible incoming-webhook body: `text` (fallback) and `blocks`."""
    lines = [
        f"• *{f.severity}* `{f.check_id}` on `{f.resource_id}`"
        + (f" (was {f.previous_status})" if f.previous_status else "")
        for f in summary.findings[:20]
    ]
    more = len(summary.findings) - len(lines)
    if more > 0:
        lines.append(f"… and {more} more")
    counts = ", ".join(f"{n} {s}" for s, n in summary.by_severity.items() if n)
    text = "\n".join(lines)
    if len(text) > 2900:  # Slack limits a section's text to 3000 characters
        text = text[:2900] + "\n…"
    return {
        "text": f"auditor: {summary.headline()}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"auditor: {summary.organisation}"[:150]}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*{len(summary.findings)}* new or regressed FAIL findings at or above "
                    f"*{summary.min_severity}* ({counts or 'none'}): {summary.new} new, {summary.regressed} regressed."
                    + (f"\n:warning: {summary.incomplete.line()}" if summary.incomplete is not None else ""),
                },
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"run `{summary.run.id}`"
                        + (f", compared with `{summary.previous_run_id}`" if summary.previous_run_id else "")
                        + f" · `auditor diff {summary.previous_run_id or ''} {summary.run.id}`".replace("  ", " "),
                    }
                ],
            },
        ],
    }


def email_message(summary: NotificationSummary, target: EmailTarget) -> EmailMessage:
    msg = EmailMessage()
    prefix = f"{target.subject_prefix} " if target.subject_prefix else ""
    counts = ", ".join(f"{n} {s}" for s, n in summary.by_severity.items() if n)
    msg["Subject"] = f"{prefix}{summary.organisation}: {len(summary.findings)} new or regressed findings ({counts})"
    msg["From"] = target.sender
    msg["To"] = ", ".join(target.recipients)
    lines = [
        summary.headline() + ".",
        "",
        f"Run:          {summary.run.id} ({summary.run.status})",
        f"Compared with: {summary.previous_run_id or 'nothing (first run of these targets)'}",
        f"New:          {summary.new}",
        f"Regressed:    {summary.regressed}",
        "",
    ]
    if summary.incomplete is not None:
        lines += [f"Warning: {summary.incomplete.line()}.", "Checks that could not run:"]
        lines += [f"  {c}" for c in summary.incomplete.checks[:MAX_LISTED]]
        lines += [""]
    for f in summary.findings[:MAX_LISTED]:
        was = f" (was {f.previous_status})" if f.previous_status else ""
        lines.append(f"  {f.severity.value.upper():8} {f.check_id}  {f.resource_id}{was}")
    if len(summary.findings) > MAX_LISTED:
        lines.append(f"  ... and {len(summary.findings) - MAX_LISTED} more")
    lines += ["", f"Details: auditor diff {summary.previous_run_id or ''} {summary.run.id}".replace("  ", " ")]
    lines += [f"-- auditor {__version__}"]
    msg.set_content("\n".join(lines) + "\n")
    return msg


# Delivering -------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is misconfigured: never re-send the payload elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _endpoint(url: str) -> str:
    """scheme://host[:port] only: webhook paths (Slack, Teams) are secrets."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"


def send_webhook(target: WebhookTarget, payload: dict[str, Any]) -> None:
    body = json.dumps(payload, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": f"auditor/{__version__}", **dict(target.headers)}
    request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    where = _endpoint(target.url)
    try:
        with opener.open(request, timeout=target.timeout_seconds) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise NotificationError(f"webhook {where} answered HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise NotificationError(f"webhook {where} unreachable: {_reason(exc.reason)}") from None
    except (OSError, ValueError) as exc:
        raise NotificationError(f"webhook {where} failed: {_reason(exc)}") from None
    if not 200 <= status < 300:
        raise NotificationError(f"webhook {where} answered HTTP {status}")


def smtp_tls_context(target: EmailTarget) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(target.ca_file) if target.ca_file else None)
    if not target.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def send_email(target: EmailTarget, message: EmailMessage) -> None:
    where = f"{target.host}:{target.port}"
    try:
        with smtplib.SMTP(target.host, target.port, timeout=target.timeout_seconds) as smtp:
            smtp.ehlo()
            if target.starttls:
                # No STARTTLS offered: smtplib raises, and we never fall back to plain text.
                smtp.starttls(context=smtp_tls_context(target))
                smtp.ehlo()
            if target.username is not None and target.password is not None:
                smtp.login(target.username, target.password)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise NotificationError(f"SMTP {where}: authentication refused ({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        raise NotificationError(f"SMTP {where}: server does not offer STARTTLS") from None
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        raise NotificationError(f"SMTP {where}: {_reason(exc)}") from None


def _reason(exc: object) -> str:
    text = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else str(exc)
    return redact_text(text.replace("\n", " "))[:300]


# After a run --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    channel: str  # webhook | email
    status: str  # sent | failed
    detail: str
    findings: int


def incomplete_scan(
    store: Store, run: Run, previous: Run | None, findings: Sequence[Finding], controls: Sequence[ControlResult]
) -> IncompleteScan | None:
    errors = [f for f in findings if f.status is Status.ERROR]
    if not errors:
        return None
    not_rechecked = len(store.diff(previous, run).not_rechecked) if previous is not None else 0
    return IncompleteScan(
        errors=len(errors),
        checks=tuple(sorted({f.check_id for f in errors})),
        controls=tuple(sorted(c.ref for c in controls if c.status is ControlStatus.ERROR)),
        not_rechecked=not_rechecked,
    )


def notify_after_run(
    config: AuditConfig,
    store: Store,
    run: Run,
    findings: Sequence[Finding],
    now: datetime | None = None,
    controls: Sequence[ControlResult] = (),
) -> list[Outcome]:
    """Send what `config.notifications` asks for, if anything got worse or could not be
    looked at. Never raises."""
    settings: Notifications = config.notifications
    if not settings.enabled:
        return []
    try:
        previous, notified = findings_to_notify(store, run, findings, settings.min_severity)
        incomplete = incomplete_scan(store, run, previous, findings, controls)
    except STORE_ERRORS as exc:  # a broken comparison must not cost the scan
        log.warning("notifications skipped: cannot compare with the previous run: %s", _reason(exc))
        return []
    if not notified and incomplete is None:
        log.info("no new or regressed FAIL findings at or above %s: nothing to notify", settings.min_severity)
        return []
    summary = NotificationSummary(
        redact_text(config.organisation),
        run,
        previous.id if previous else None,
        settings.min_severity,
        notified,
        incomplete,
    )
    attempts: list[tuple[str, Any]] = []
    if settings.webhook is not None:
        payload = slack_payload(summary) if settings.webhook.format == "slack" else summary.to_dict()
        attempts.append(("webhook", lambda w=settings.webhook, p=payload: send_webhook(w, p)))
    if settings.email is not None:
        attempts.append(("email", lambda e=settings.email: send_email(e, email_message(summary, e))))
    outcomes = []
    for channel, send in attempts:
        try:
            send()
            outcome = Outcome(channel, "sent", "", len(notified))
        except NotificationError as exc:
            outcome = Outcome(channel, "failed", str(exc), len(notified))
        except Exception as exc:  # never lose a scan to a notifier bug
            log.error("%s notifier failed: %s", channel, _reason(exc), exc_info=log.isEnabledFor(logging.DEBUG))
            outcome = Outcome(channel, "failed", f"unexpected error: {_reason(exc)}", len(notified))
        if outcome.status == "failed":
            log.warning("%s notification for run %s not delivered: %s", channel, run.id, outcome.detail)
        outcomes.append(outcome)
        try:
            store.record_notification(
                run.id, outcome.channel, outcome.status, outcome.detail, outcome.findings, now or utcnow()
            )
        except STORE_ERRORS as exc:
            log.warning("could not record the %s notification on run %s: %s", channel, run.id, _reason(exc))
    return outcomes
