"""`AwsProvider`: accounts -> snapshot per account -> pure checks -> findings.

Fault semantics: a dataset that could not be read (AccessDenied, throttling beyond the
retries, an endpoint that does not answer) yields ERROR findings, naming the AWS error
code and what could not be read, for exactly the checks that need it in exactly the
affected region; a part of a dataset (`CheckInput.part`) the same for the checks that
read that part; every other check still runs. An account that cannot be reached at all
yields ERROR for every check.

Targets and coverage (`aws.coverage`): findings of account-scope checks belong to
`aws:<account>`, those of region-scope checks to `aws:<account>/<region>`; one Coverage
is recorded per account and per account and region, and one (incomplete) for an account
that could not be reached.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from auditor.aws_names import REGION_RE, ROLE_ARN_RE, ROLE_NAME_RE
from auditor.config import AuditConfig, ProviderSettings, Setting, Thresholds, TransferMechanism, in_shard
from auditor.errors import InputError
from auditor.models import CheckInfo, Finding, Resource, Status
from auditor.providers.aws.checks import ALL_CHECKS
from auditor.providers.aws.collect import DATASETS, collect_account
from auditor.providers.aws.coverage import (
    account_target,
    region_target,
    snapshot_coverage,
    unreachable_coverage,
)
from auditor.providers.aws.model import (
    AccountSnapshot,
    AwsCheck,
    CheckInput,
    CollectError,
    DataUnavailable,
    Outcome,
    Scope,
    parts_needed,
)
from auditor.providers.aws.session import (
    AccountTarget,
    base_session,
    enabled_regions,
    error_code_of,
    error_message_of,
    home_region,
    resolve_targets,
)
from auditor.providers.base import DemoContext, DemoEstate, Provider, ScanContext


@dataclass(frozen=True)
class AwsTargets:
    """The AWS provider's settings (scan flags `--aws*`, audit.yaml `targets.aws`), typed."""

    enabled: bool = False
    profile: str | None = None
    regions: tuple[str, ...] = ()
    role_arns: tuple[str, ...] = ()
    organization_role: str | None = None
    allowed_regions: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, s: ProviderSettings) -> AwsTargets:
        return cls(
            enabled=s.explicit("enabled") is not False,
            profile=s["profile"],
            regions=tuple(s["regions"]),
            role_arns=tuple(s["role_arns"]),
            organization_role=s["organization_role"],
            allowed_regions=tuple(s["allowed_regions"]),
        )


_REGION = "a region name such as eu-west-1"


class AwsProvider(Provider):
    name = "aws"
    title = "AWS accounts (one, several roles, or a whole organization) through boto3"
    settings = (
        Setting(
            "enabled",
            "flag",
            help="scan the AWS account(s) of the default credential chain",
            flag="--aws",
            file_default=True,
        ),
        Setting(
            "profile",
            "text",
            help="AWS profile (selects AWS)",
            flag="--aws-profile",
            metavar="P",
            what="an AWS profile name",
        ),
        Setting(
            "regions",
            "texts",
            help="repeatable; default: all enabled",
            flag="--aws-region",
            metavar="R",
            pattern=REGION_RE.pattern,
            what=_REGION,
            selects=False,
        ),
        Setting(
            "role_arns",
            "texts",
            help="repeatable: assume this role (selects AWS)",
            flag="--aws-role-arn",
            metavar="ARN",
            pattern=ROLE_ARN_RE.pattern,
            what="an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
        ),
        Setting(
            "organization_role",
            "text",
            help="AWS Organizations: assume NAME in every member account (selects AWS)",
            flag="--aws-org-role",
            metavar="NAME",
            pattern=ROLE_NAME_RE.pattern,
            what="an IAM role name",
        ),
        Setting(
            "allowed_regions",
            "texts",
            help="GDPR Art. 44: regions allowed for personal data; repeatable",
            flag="--aws-allowed-region",
            aliases=("--allowed-region",),
            metavar="R",
            pattern=REGION_RE.pattern,
            what=_REGION,
            selects=False,
        ),
    )
    shardable = True  # --shard I/N: this process scans the accounts in_shard() assigns to it

    @classmethod
    @contextlib.contextmanager
    def demo_estate(cls, demo: DemoContext) -> Iterator[DemoEstate | None]:
        """`auditor demo`: a moto_server on a loopback port seeded with the sample estate
        (`demo_estate.py`), scanned in both regions with eu-west-1 the only allowed one; before
        the last scan the platform team turns on versioning for the public site bucket."""
        from auditor.providers.aws import demo_estate as estate

        with estate.start_moto_server() as endpoint:
            demo.step(f"moto_server on {endpoint}: seeding the sample AWS estate")
            estate.seed_estate(endpoint, now=demo.now)

            def fix() -> None:
                s3 = estate.Seeder(endpoint).client("s3")
                s3.put_bucket_versioning(Bucket="acme-public-site-us", VersioningConfiguration={"Status": "Enabled"})

            yield DemoEstate(
                settings={"enabled": True, "regions": estate.REGIONS, "allowed_regions": (estate.GOOD_REGION,)},
                env=estate.scan_env(endpoint),
                fix=fix,
            )

    def __init__(self, checks: list[AwsCheck] | None = None, workers: int = 8) -> None:
        self._checks = list(checks if checks is not None else ALL_CHECKS)
        self.workers = workers

    def checks(self) -> list[CheckInfo]:
        return [c.info for c in self._checks]

    def aws_checks(self) -> list[AwsCheck]:
        return list(self._checks)

    def aws(self, config: AuditConfig) -> AwsTargets:
        return AwsTargets.from_settings(self.settings_of(config))

    def targets(self, config: AuditConfig) -> list[str]:
        aws = self.aws(config)
        where = ",".join(aws.regions) if aws.regions else "all-enabled-regions"
        if aws.role_arns:
            return [f"aws:{arn}@{where}" for arn in shard_role_arns(aws.role_arns, config.shard)]
        if aws.organization_role:
            return [f"aws:organization/{aws.organization_role}@{where}"]
        return [f"aws:{aws.profile or 'default'}@{where}"]

    def prepare(self, ctx: ScanContext) -> None:
        validate_targets(self.aws(ctx.config))

    def run(self, ctx: ScanContext) -> Iterator[Finding]:
        aws = self.aws(ctx.config)
        ctx.progress(self.name, "resolving accounts")
        shard = ctx.config.shard
        role_arns = shard_role_arns(aws.role_arns, shard)
        if shard is not None and aws.role_arns and not role_arns:
            return  # no account of this shard
        targets = resolve_targets(aws.profile, aws.regions, role_arns, aws.organization_role)
        for target in targets:
            if ctx.cancelled.is_set():
                return
            if not in_shard(target.account_id or target.label, shard):
                continue
            yield from self.scan_account(target, ctx)

    def scan_account(self, target: AccountTarget, ctx: ScanContext) -> Iterator[Finding]:
        aws = self.aws(ctx.config)
        if target.clients is None or target.account_id is None:
            code, message = target.error_code or "Unknown", target.error_message or ""
            where = account_target(account_of_label(target.label))
            ctx.record_coverage(unreachable_coverage(where, f"account {target.label}", code, message))
            yield from self.account_errors(target.label, code, message)
            return
        session_region = home_region(target.clients.session, aws.regions)
        regions = aws.regions
        enabled: tuple[str, ...] | None = None
        if not regions:
            try:
                regions = enabled = enabled_regions(target.clients, session_region)
            except (ClientError, BotoCoreError) as exc:
                code, message = error_code_of(exc), error_message_of(exc)
                where = account_target(target.account_id)
                ctx.record_coverage(unreachable_coverage(where, "enabled regions (ec2:DescribeRegions)", code, message))
                yield from self.account_errors(target.account_id, code, message)
                return
        needed = sorted({n for c in self._checks for n in c.needs})
        ctx.progress(self.name, f"collecting {target.account_id} in {len(regions)} region(s)")
        snap = collect_account(
            target.clients,
            target.account_id,
            tuple(regions),
            regions[0] if aws.regions else session_region,
            needed,
            workers=self.workers,
            progress=lambda msg: ctx.progress(self.name, msg),
            regions_enabled=enabled,
            parts=parts_needed(self._checks),
        )
        for coverage in snapshot_coverage(snap, needed):
            ctx.record_coverage(coverage)
        yield from self.evaluate(
            snap, ctx.now, ctx.config.thresholds, aws.allowed_regions, transfers=ctx.config.gdpr.transfers
        )

    def account_errors(self, label: str, code: str, message: str) -> Iterator[Finding]:
        account = account_of_label(label)
        resource = Resource(
            id=f"aws-account:{label}", type="AWS::Account", account=account if account.isdigit() else None
        )
        for c in self._checks:
            yield self.finding(
                c.info,
                Status.ERROR,
                resource,
                f"could not be evaluated: {code}: {message}".strip(),
                evidence={"error_code": code},
                target=account_target(account),
            )

    def evaluate(
        self,
        snap: AccountSnapshot,
        now: datetime,
        thresholds: Thresholds,
        allowed_regions: Iterable[str] = (),
        *,
        transfers: Iterable[TransferMechanism] = (),
    ) -> Iterator[Finding]:
        """Every check over one account's snapshot: pure, no AWS calls."""
        allowed = tuple(allowed_regions)
        declared = tuple(transfers)
        for check in self._checks:
            if check.scope is Scope.ACCOUNT:
                errors = {}
                for n in check.needs:
                    if DATASETS[n].scope is Scope.ACCOUNT:
                        got = snap.get(n)
                        if isinstance(got, CollectError):
                            errors[n] = got
                    else:
                        for r in snap.regions:
                            got = snap.get(n, r)
                            if isinstance(got, CollectError):
                                errors[f"{n}@{r}"] = got
                inp = CheckInput(snap, None, now, thresholds, allowed, declared)
                yield from self._run_check(check, inp, errors, None)
            else:
                for region in snap.regions:
                    errors = {}
                    for n in check.needs:
                        got = snap.get(n) if DATASETS[n].scope is Scope.ACCOUNT else snap.get(n, region)
                        if isinstance(got, CollectError):
                            errors[n] = got
                    inp = CheckInput(snap, region, now, thresholds, allowed, declared)
                    yield from self._run_check(check, inp, errors, region)

    def _run_check(
        self, check: AwsCheck, inp: CheckInput, errors: dict[str, CollectError], region: str | None
    ) -> Iterator[Finding]:
        account = inp.account
        scope_resource = Resource(
            id=f"arn:aws:::{account}:{region}" if region else f"arn:aws:::{account}",
            type="AWS::Region" if region else "AWS::Account",
            account=account,
            region=region,
        )
        target = region_target(account, region) if region else account_target(account)
        if not errors:
            try:
                outcomes = list(check.evaluate(inp))
            except DataUnavailable as exc:
                errors = {exc.what: exc.error}
            except Exception as exc:  # noqa: BLE001 - a check bug or odd answer: ERROR for that check only
                yield self.finding(
                    check.info,
                    Status.ERROR,
                    scope_resource,
                    f"could not be evaluated: {type(exc).__name__}: {exc}",
                    evidence={"error_code": type(exc).__name__},
                    target=target,
                )
                return
        if errors:
            codes = ", ".join(f"{n}: {e.code}" for n, e in sorted(errors.items()))
            unread = [f"could not read {n} ({e.message or e.code})" for n, e in sorted(errors.items())]
            read = "; ".join(unread[:3]) + (f"; and {len(unread) - 3} more" if len(unread) > 3 else "")
            yield self.finding(
                check.info,
                Status.ERROR,
                scope_resource,
                f"could not be evaluated ({codes}): {read}",
                evidence={
                    "error_codes": {n: e.code for n, e in errors.items()},
                    "errors": {n: e.message for n, e in errors.items()},
                },
                target=target,
            )
            return
        for o in outcomes:
            yield self.to_finding(check, o, account, target)

    def to_finding(self, check: AwsCheck, o: Outcome, account: str, target: str = "") -> Finding:
        kwargs: dict[str, Any] = {"discriminator": o.discriminator, "target": target}
        if o.severity is not None:
            kwargs["severity"] = o.severity
        resource = Resource(id=o.resource_id, type=o.resource_type, account=account, region=o.region)
        return self.finding(check.info, o.status, resource, o.message, evidence=o.evidence, **kwargs)


def account_of_label(label: str) -> str:
    """The account an unreachable target names: a role ARN's account, else the label itself."""
    parts = label.split(":")
    if label.startswith("arn:") and len(parts) > 4 and parts[4].isdigit():
        return parts[4]
    return label


def shard_role_arns(role_arns: Iterable[str], shard: tuple[int, int] | None) -> tuple[str, ...]:
    """The role ARNs whose account (the ARN's 5th field) belongs to this shard."""
    return tuple(arn for arn in role_arns if in_shard(arn.split(":")[4] if arn.count(":") >= 5 else arn, shard))


def validate_targets(aws: AwsTargets) -> None:
    for r in (*aws.regions, *aws.allowed_regions):
        if not REGION_RE.match(r):
            raise InputError(f"not an AWS region name: {r!r} (for example eu-west-1)")
    for arn in aws.role_arns:
        if not ROLE_ARN_RE.match(arn):
            raise InputError(f"not an IAM role ARN: {arn!r} (arn:aws:iam::<12-digit account>:role/<name>)")
    if aws.organization_role and not ROLE_NAME_RE.match(aws.organization_role):
        raise InputError(f"not an IAM role name: {aws.organization_role!r}")
    if aws.profile:
        try:
            base_session(aws.profile)
        except ProfileNotFound:
            raise InputError(f"AWS profile {aws.profile!r} is not configured") from None
