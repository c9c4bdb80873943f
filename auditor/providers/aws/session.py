"""boto3 sessions and clients for one scan: retries, endpoints, accounts, regions.

- Throttling is retried with botocore's adaptive mode (client-side rate limiting plus
  exponential backoff, up to `THROTTLE_MAX_ATTEMPTS` attempts).
- Server errors (5xx) and connection errors are retried at most once
  (`SERVER_ERROR_MAX_ATTEMPTS`): an emulator answers unimplemented operations with 500,
  and an endpoint that went away will not come back within a scan; either way the
  affected checks end in ERROR quickly instead of after half a minute of backoff.
- `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>` variables) keep
  working: boto3 reads them itself. With an endpoint URL set, S3 uses path-style
  addressing and S3 Control does not prefix the account id to the host name
  (`inject_host_prefix=False` alone does not stop it in botocore 1.35: the endpoint
  rules add the prefix, so the host is also rewritten before signing).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries import standard

THROTTLE_MAX_ATTEMPTS = 6
SERVER_ERROR_MAX_ATTEMPTS = 2
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
DEFAULT_REGION = "us-east-1"


class BoundedServerErrorRetries(standard.BaseRetryableChecker):  # type: ignore[misc]
    """Standard retry conditions, except that 5xx and connection errors get few attempts."""

    def __init__(self, max_attempts: int, server_error_attempts: int) -> None:
        self._inner = standard.StandardRetryConditions(max_attempts=max_attempts)
        self._throttled = standard.ThrottledRetryableChecker()
        self._server_error_attempts = server_error_attempts

    def is_retryable(self, context: Any) -> bool:
        if not self._inner.is_retryable(context):
            return False
        if self._throttled.is_retryable(context):
            return True
        response = context.http_response
        status = response.status_code if response is not None else 0
        transient = status >= 500 or context.caught_exception is not None
        return not (transient and context.attempt_number >= self._server_error_attempts)


def bound_server_error_retries(client: Any) -> Any:
    """Replace the client's standard retry handler by one with bounded 5xx retries."""
    service_event_name = client.meta.service_model.service_id.hyphenize()
    unique_id = f"retry-config-{service_event_name}"
    client.meta.events.unregister(f"needs-retry.{service_event_name}", unique_id=unique_id)
    quota = standard.RetryQuotaChecker(standard.quota.RetryQuota())
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=BoundedServerErrorRetries(THROTTLE_MAX_ATTEMPTS, SERVER_ERROR_MAX_ATTEMPTS),
            retry_backoff=standard.ExponentialBackoff(),
        ),
        retry_event_adapter=standard.RetryEventAdapter(),
        retry_quota=quota,
    )
    client.meta.events.register(f"needs-retry.{service_event_name}", handler.needs_retry, unique_id=unique_id)
    return client


def strip_account_host_prefix(request: Any, **kwargs: Any) -> None:
    """S3 Control puts `<account id>.` in front of the endpoint host; a custom endpoint has no such name."""
    parts = urlsplit(request.url)
    host = parts.hostname or ""
    first, _dot, rest = host.partition(".")
    if first.isdigit() and len(first) == 12 and rest:
        netloc = parts.netloc.replace(host, rest, 1)
        request.url = urlunsplit(parts._replace(netloc=netloc))


def for_custom_endpoint(service: str, client: Any) -> Any:
    """With AWS_ENDPOINT_URL set, S3 Control must not prefix the account id to the host."""
    if service == "s3control" and endpoint_url_set():
        client.meta.events.register("before-sign.s3-control", strip_account_host_prefix)
    return client


def endpoint_url_set() -> bool:
    return any(k == "AWS_ENDPOINT_URL" or k.startswith("AWS_ENDPOINT_URL_") for k in os.environ)


def client_config(service: str) -> Config:
    kwargs: dict[str, Any] = {
        "retries": {"mode": "adaptive", "max_attempts": THROTTLE_MAX_ATTEMPTS},
        "connect_timeout": CONNECT_TIMEOUT,
        "read_timeout": READ_TIMEOUT,
        "max_pool_connections": 20,
        "user_agent_extra": "auditor",
    }
    if endpoint_url_set():
        if service == "s3":
            kwargs["s3"] = {"addressing_style": "path"}
        if service == "s3control":
            kwargs["inject_host_prefix"] = False
    return Config(**kwargs)


class ClientFactory:
    """One boto3 session's clients, created once per (service, region), thread-safe."""

    def __init__(self, session: boto3.Session) -> None:
        self.session = session
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:  # boto3 sessions are not thread-safe while creating clients
            found = self._clients.get(key)
            if found is None:
                found = self.session.client(service, region_name=region, config=client_config(service))
                bound_server_error_retries(found)
                for_custom_endpoint(service, found)
                self._clients[key] = found
            return found


@dataclass(frozen=True)
class AccountTarget:
    """One account to scan: how to get there, or why we could not."""

    label: str  # what the user named: "default", a role ARN, an org account id
    clients: ClientFactory | None
    account_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


def error_code_of(exc: BaseException) -> str:
    """The AWS error code of a failed call (AccessDenied, Throttling, ...), or the failure's class."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__
    return type(exc).__name__


def error_message_of(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        op = getattr(exc, "operation_name", "")
        return f"{op}: {err.get('Code')}: {err.get('Message') or ''}".strip().rstrip(":")
    return str(exc).replace("\n", " ")[:300]


def base_session(profile: str | None) -> boto3.Session:
    return boto3.Session(profile_name=profile) if profile else boto3.Session()


def home_region(session: boto3.Session, regions: tuple[str, ...]) -> str:
    return regions[0] if regions else (session.region_name or DEFAULT_REGION)


def caller_account(clients: ClientFactory, region: str) -> str:
    return str(clients.client("sts", region).get_caller_identity()["Account"])


def assumed_session(clients: ClientFactory, region: str, role_arn: str) -> boto3.Session:
    creds = clients.client("sts", region).assume_role(RoleArn=role_arn, RoleSessionName="auditor-scan")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def resolve_targets(
    profile: str | None,
    regions: tuple[str, ...],
    role_arns: tuple[str, ...],
    organization_role: str | None,
) -> list[AccountTarget]:
    """The accounts a scan covers: the caller's, each assumed role, or every org member."""
    session = base_session(profile)
    base = ClientFactory(session)
    region = home_region(session, regions)
    targets: list[AccountTarget] = []

    def attempt(label: str, make: Any) -> None:
        try:
            factory = make()
            targets.append(AccountTarget(label=label, clients=factory, account_id=caller_account(factory, region)))
        except (ClientError, BotoCoreError) as exc:
            targets.append(
                AccountTarget(
                    label=label, clients=None, error_code=error_code_of(exc), error_message=error_message_of(exc)
                )
            )

    if role_arns:
        for arn in role_arns:
            attempt(arn, lambda arn=arn: ClientFactory(assumed_session(base, region, arn)))
        return targets
    if organization_role:
        try:
            me = caller_account(base, region)
            pages = base.client("organizations", region).get_paginator("list_accounts").paginate()
            members = [a["Id"] for page in pages for a in page["Accounts"] if a.get("Status", "ACTIVE") == "ACTIVE"]
        except (ClientError, BotoCoreError) as exc:
            return [
                AccountTarget(
                    label="organization",
                    clients=None,
                    error_code=error_code_of(exc),
                    error_message=error_message_of(exc),
                )
            ]
        for acct in sorted(members):
            if acct == me:
                attempt(acct, lambda: base)
            else:
                arn = f"arn:aws:iam::{acct}:role/{organization_role}"
                attempt(acct, lambda arn=arn: ClientFactory(assumed_session(base, region, arn)))
        return targets
    attempt("default", lambda: base)
    return targets


def enabled_regions(clients: ClientFactory, region: str) -> tuple[str, ...]:
    """Every region enabled for the account (opted-in or not requiring opt-in)."""
    resp = clients.client("ec2", region).describe_regions(AllRegions=False)
    return tuple(sorted(r["RegionName"] for r in resp["Regions"]))
