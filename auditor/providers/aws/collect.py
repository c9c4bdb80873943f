"""Collectors: each AWS dataset is read once per account (and region) into the snapshot.

Every collector returns plain data (dicts and lists, dates as aware datetimes). A
collector that fails as a whole leaves a `CollectError` (the AWS error code) in place
of its data; a part that is read by its own call (`iam.credential_report`,
`ec2.flow_logs`) leaves a `CollectError` in that part; a detail that fails for one
resource (one bucket's policy) leaves a `CollectError` in that resource's field. Checks
turn all three into ERROR findings for exactly what they affect. When a call fails
because the endpoint cannot be reached, the remaining parts of that dataset are not
asked for (each would wait for the same timeout): the dataset as a whole is an error.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from auditor.providers.aws.model import DATASET_SCOPES, AccountSnapshot, CollectError, Scope
from auditor.providers.aws.session import ClientFactory, error_code_of, error_message_of

log = logging.getLogger("auditor.aws")

T = TypeVar("T")
R = TypeVar("R")

DETAIL_WORKERS = 8
CREDENTIAL_REPORT_WAIT_S = 30.0


class Fetch:
    """What a collector gets: the account's clients and the region it reads."""

    def __init__(self, clients: ClientFactory, region: str, account: str, detail_pool: ThreadPoolExecutor) -> None:
        self.clients = clients
        self.region = region
        self.account = account
        self._pool = detail_pool

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients.client(service, region or self.region)

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
        paginator = self.client(service).get_paginator(operation)
        out: list[Any] = []
        for page in paginator.paginate(**kwargs):
            out.extend(page.get(key) or [])
        return out

    def each(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fn over items on the detail pool (bounded), results in order."""
        return list(self._pool.map(fn, items))


class DatasetFailure(Exception):
    """A dataset (or a part) that cannot be read: carries the CollectError to store in its place."""

    def __init__(self, error: CollectError) -> None:
        super().__init__(error.message)
        self.error = error


def attempt(fn: Callable[[], T], absent: tuple[str, ...] = ()) -> T | CollectError | None:
    """Run one API read: its result; None when the error code means "not configured"; else CollectError."""
    try:
        return fn()
    except DatasetFailure as exc:
        return exc.error
    except (ClientError, BotoCoreError) as exc:
        code = error_code_of(exc)
        if code in absent:
            return None
        return CollectError(code, error_message_of(exc))


# Failures that mean the endpoint is not there: asking again for another part would only wait again.
UNREACHABLE = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
        "ProxyConnectionError",
        "SSLError",
        "HTTPClientError",
        "NoCredentialsError",
    }
)


def read_part(fn: Callable[[], T], absent: tuple[str, ...] = ()) -> T | CollectError | None:
    """One part of a dataset: like `attempt`, but an unreachable endpoint fails the whole dataset."""
    got = attempt(fn, absent)
    if isinstance(got, CollectError) and got.code in UNREACHABLE:
        raise DatasetFailure(got)
    return got


def aware(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


# --- global datasets -----------------------------------------------------------------


def collect_iam(f: Fetch) -> dict[str, Any]:
    """Four independent reads: account summary (root checks), password policy, credential
    report (console users, access keys), authorization details (users, groups, roles,
    policies). Each can fail alone and errors only the checks that read it."""
    iam = f.client("iam")
    summary = read_part(lambda: iam.get_account_summary()["SummaryMap"])
    policy = read_part(lambda: iam.get_account_password_policy()["PasswordPolicy"], absent=("NoSuchEntity",))

    def authorization_details() -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
        paginator = iam.get_paginator("get_account_authorization_details")
        for page in paginator.paginate(Filter=["User", "Role", "Group", "LocalManagedPolicy"]):
            for key in out:
                out[key].extend(page.get(key) or [])
        return out

    details = read_part(authorization_details)
    report = read_part(lambda: credential_report(iam))

    def detail(key: str) -> Any:
        return details[key] if isinstance(details, dict) else details

    return {
        "summary": summary,
        "password_policy": policy,
        "credential_report": report,
        "users": detail("UserDetailList"),
        "groups": detail("GroupDetailList"),
        "roles": detail("RoleDetailList"),
        "policies": detail("Policies"),
    }


def raise_collect(error: CollectError) -> None:
    raise DatasetFailure(error)


def credential_report(iam: Any) -> list[dict[str, str]]:
    deadline = time.monotonic() + CREDENTIAL_REPORT_WAIT_S
    while iam.generate_credential_report().get("State") != "COMPLETE":
        if time.monotonic() > deadline:
            raise DatasetFailure(CollectError("ReportNotReady", "credential report was not ready in time"))
        time.sleep(1.0)
    content = iam.get_credential_report()["Content"]
    text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text)))


def collect_s3(f: Fetch) -> dict[str, Any]:
    s3 = f.client("s3")
    buckets = s3.list_buckets().get("Buckets") or []

    def detail(b: dict[str, Any]) -> dict[str, Any]:
        name = b["Name"]
        loc = attempt(lambda: s3.get_bucket_location(Bucket=name).get("LocationConstraint"))
        region = loc if isinstance(loc, CollectError) else (loc or "us-east-1")
        if region == "EU":
            region = "eu-west-1"
        policy_text = attempt(lambda: s3.get_bucket_policy(Bucket=name)["Policy"], absent=("NoSuchBucketPolicy",))
        policy: Any = policy_text
        if isinstance(policy_text, str):
            try:
                policy = json.loads(policy_text)
            except ValueError:
                policy = CollectError("MalformedPolicy", "bucket policy is not JSON")
        return {
            "name": name,
            "arn": f"arn:aws:s3:::{name}",
            "created": aware(b.get("CreationDate")),
            "region": region,
            "encryption": attempt(
                lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"],
                absent=("ServerSideEncryptionConfigurationNotFoundError",),
            ),
            "public_access_block": attempt(
                lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
                absent=("NoSuchPublicAccessBlockConfiguration",),
            ),
            "policy": policy,
            "acl": attempt(lambda: s3.get_bucket_acl(Bucket=name).get("Grants") or []),
            "versioning": attempt(lambda: s3.get_bucket_versioning(Bucket=name).get("Status") or "Disabled"),
            "logging": attempt(lambda: s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")),
            "tags": attempt(
                lambda: {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name).get("TagSet") or []},
                absent=("NoSuchTagSet",),
            ),
        }

    return {"buckets": f.each(detail, buckets)}


def collect_s3_account(f: Fetch) -> dict[str, Any]:
    s3control = f.client("s3control")
    pab = attempt(
        lambda: s3control.get_public_access_block(AccountId=f.account)["PublicAccessBlockConfiguration"],
        absent=("NoSuchPublicAccessBlockConfiguration",),
    )
    if isinstance(pab, CollectError):
        raise_collect(pab)
    return {"public_access_block": pab}


# --- regional datasets ---------------------------------------------------------------


def collect_ec2(f: Fetch) -> dict[str, Any]:
    """One part per API read (security groups, instances, ...): each can fail alone."""
    ec2 = f.client("ec2")

    def snapshot_detail(s: dict[str, Any]) -> dict[str, Any]:
        perms = attempt(
            lambda: ec2.describe_snapshot_attribute(SnapshotId=s["SnapshotId"], Attribute="createVolumePermission")[
                "CreateVolumePermissions"
            ]
        )
        return {**s, "create_volume_permissions": perms}

    def snapshots() -> list[dict[str, Any]]:
        return f.each(snapshot_detail, f.pages("ec2", "describe_snapshots", "Snapshots", OwnerIds=["self"]))

    def instances() -> list[dict[str, Any]]:
        return [i for r in f.pages("ec2", "describe_instances", "Reservations") for i in r.get("Instances") or []]

    return {
        "security_groups": read_part(lambda: f.pages("ec2", "describe_security_groups", "SecurityGroups")),
        "instances": read_part(instances),
        "volumes": read_part(lambda: f.pages("ec2", "describe_volumes", "Volumes")),
        "snapshots": read_part(snapshots),
        "images": read_part(lambda: ec2.describe_images(Owners=["self"]).get("Images") or []),
        "ebs_encryption_by_default": read_part(lambda: ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"]),
        "vpcs": read_part(lambda: f.pages("ec2", "describe_vpcs", "Vpcs")),
        "flow_logs": read_part(lambda: f.pages("ec2", "describe_flow_logs", "FlowLogs")),
    }


def collect_cloudtrail(f: Fetch) -> dict[str, Any]:
    ct = f.client("cloudtrail")
    trails = ct.describe_trails(includeShadowTrails=True).get("trailList") or []

    def status(t: dict[str, Any]) -> dict[str, Any]:
        arn = t.get("TrailARN") or t["Name"]
        home = t.get("HomeRegion") or f.region
        st = attempt(lambda: f.client("cloudtrail", home).get_trail_status(Name=arn))
        return {**t, "status": st}

    return {"trails": f.each(status, trails)}


def collect_logs(f: Fetch) -> dict[str, Any]:
    return {"metric_filters": f.pages("logs", "describe_metric_filters", "metricFilters")}


def collect_cloudwatch(f: Fetch) -> dict[str, Any]:
    return {"alarms": f.pages("cloudwatch", "describe_alarms", "MetricAlarms")}


def collect_config(f: Fetch) -> dict[str, Any]:
    cfg = f.client("config")
    recorders = cfg.describe_configuration_recorders().get("ConfigurationRecorders") or []
    statuses = cfg.describe_configuration_recorder_status().get("ConfigurationRecordersStatus") or []
    return {"recorders": recorders, "statuses": statuses}


def collect_guardduty(f: Fetch) -> dict[str, Any]:
    gd = f.client("guardduty")
    ids = f.pages("guardduty", "list_detectors", "DetectorIds")
    return {"detectors": [{"id": d, **gd.get_detector(DetectorId=d)} for d in ids]}


def collect_securityhub(f: Fetch) -> dict[str, Any]:
    hub = attempt(
        lambda: f.client("securityhub").describe_hub(),
        absent=("InvalidAccessException", "ResourceNotFoundException"),
    )
    if isinstance(hub, CollectError):
        raise_collect(hub)
    if isinstance(hub, dict):
        hub = {k: v for k, v in hub.items() if k != "ResponseMetadata"}
    return {"hub": hub}


def collect_rds(f: Fetch) -> dict[str, Any]:
    return {"instances": f.pages("rds", "describe_db_instances", "DBInstances")}


def collect_dynamodb(f: Fetch) -> dict[str, Any]:
    ddb = f.client("dynamodb")
    names = f.pages("dynamodb", "list_tables", "TableNames")

    def detail(name: str) -> dict[str, Any]:
        desc = attempt(lambda: ddb.describe_table(TableName=name)["Table"])
        pitr = attempt(
            lambda: ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"].get(
                "PointInTimeRecoveryDescription", {}
            )
        )
        arn = desc.get("TableArn") if isinstance(desc, dict) else None
        return {"name": name, "arn": arn or f"arn:aws:dynamodb:{f.region}:{f.account}:table/{name}", "pitr": pitr}

    return {"tables": f.each(detail, names)}


def collect_backup(f: Fetch) -> dict[str, Any]:
    return {"plans": f.pages("backup", "list_backup_plans", "BackupPlansList")}


def collect_elbv2(f: Fetch) -> dict[str, Any]:
    elb = f.client("elbv2")
    lbs = f.pages("elbv2", "describe_load_balancers", "LoadBalancers")

    def detail(lb: dict[str, Any]) -> dict[str, Any]:
        arn = lb["LoadBalancerArn"]
        listeners = attempt(lambda: elb.describe_listeners(LoadBalancerArn=arn).get("Listeners") or [])
        attrs = attempt(
            lambda: {
                a["Key"]: a["Value"]
                for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn).get("Attributes") or []
            }
        )
        return {**lb, "listeners": listeners, "attributes": attrs}

    return {"load_balancers": f.each(detail, lbs)}


def collect_lambda(f: Fetch) -> dict[str, Any]:
    return {"functions": f.pages("lambda", "list_functions", "Functions")}


def collect_kms(f: Fetch) -> dict[str, Any]:
    kms = f.client("kms")
    keys = f.pages("kms", "list_keys", "Keys")

    def detail(k: dict[str, Any]) -> dict[str, Any]:
        meta = attempt(lambda: kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"])
        rotation: Any = None
        if (
            isinstance(meta, dict)
            and meta.get("KeyManager") == "CUSTOMER"
            and meta.get("KeySpec", "SYMMETRIC_DEFAULT") == ("SYMMETRIC_DEFAULT")
        ):
            rotation = attempt(lambda: kms.get_key_rotation_status(KeyId=k["KeyId"])["KeyRotationEnabled"])
        return {"id": k["KeyId"], "arn": k.get("KeyArn"), "metadata": meta, "rotation_enabled": rotation}

    return {"keys": f.each(detail, keys)}


def collect_secretsmanager(f: Fetch) -> dict[str, Any]:
    return {"secrets": f.pages("secretsmanager", "list_secrets", "SecretList")}


def collect_acm(f: Fetch) -> dict[str, Any]:
    acm = f.client("acm")
    summaries = f.pages("acm", "list_certificates", "CertificateSummaryList")

    def detail(c: dict[str, Any]) -> Any:
        arn = c["CertificateArn"]
        d = attempt(lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"])
        return d if isinstance(d, dict) else {"CertificateArn": arn, "DomainName": c.get("DomainName"), "error": d}

    return {"certificates": f.each(detail, summaries)}


# --- governance collectors (IAM extras, account contacts, Organizations, Access Analyzer, trail selectors) ---


def collect_iam_extra(f: Fetch) -> dict[str, Any]:
    """IAM lists the `iam` dataset does not read: virtual MFA devices (root hardware MFA), server
    certificates, SAML and OIDC identity providers. Each is a part that can fail alone."""
    iam = f.client("iam")
    return {
        "virtual_mfa_devices": read_part(lambda: f.pages("iam", "list_virtual_mfa_devices", "VirtualMFADevices")),
        "server_certificates": read_part(
            lambda: f.pages("iam", "list_server_certificates", "ServerCertificateMetadataList")
        ),
        "saml_providers": read_part(lambda: iam.list_saml_providers().get("SAMLProviderList") or []),
        "oidc_providers": read_part(
            lambda: iam.list_open_id_connect_providers().get("OpenIDConnectProviderList") or []
        ),
    }


ALTERNATE_CONTACT_TYPES = ("SECURITY", "OPERATIONS", "BILLING")


def collect_account_contacts(f: Fetch) -> dict[str, Any]:
    """The account's alternate contacts (None where a type is not set). Only the contact's
    presence and title are kept: names, e-mail addresses and phone numbers never enter the snapshot."""
    acct = f.client("account")

    def contact(kind: str) -> Any:
        got = read_part(
            lambda: acct.get_alternate_contact(AlternateContactType=kind)["AlternateContact"],
            absent=("ResourceNotFoundException",),
        )
        if isinstance(got, dict):
            return {"type": kind, "has_email": bool(got.get("EmailAddress")), "has_phone": bool(got.get("PhoneNumber"))}
        return got

    return {"alternate_contacts": {kind: contact(kind) for kind in ALTERNATE_CONTACT_TYPES}}


def collect_organizations(f: Fetch) -> dict[str, Any]:
    """The organization the account belongs to (None: not in one) and, where it may be read, its SCPs."""
    org = f.client("organizations")
    got = attempt(lambda: org.describe_organization()["Organization"], absent=("AWSOrganizationsNotInUseException",))
    if isinstance(got, CollectError):
        raise_collect(got)
    if got is None:
        return {"organization": None, "scps": None}
    scps = read_part(lambda: f.pages("organizations", "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY"))
    return {"organization": got, "scps": scps}


def collect_accessanalyzer(f: Fetch) -> dict[str, Any]:
    return {"analyzers": f.pages("accessanalyzer", "list_analyzers", "analyzers")}


def collect_cloudtrail_selectors(f: Fetch) -> dict[str, Any]:
    """The trails whose home is this region, each with its event selectors (basic or advanced) and
    its CloudTrail Insights selectors (two bounded calls per trail on the detail pool)."""
    ct = f.client("cloudtrail")
    trails = [
        t
        for t in ct.describe_trails(includeShadowTrails=False).get("trailList") or []
        if (t.get("HomeRegion") or f.region) == f.region
    ]

    def selectors(t: dict[str, Any]) -> dict[str, Any]:
        got = attempt(lambda: ct.get_event_selectors(TrailName=t.get("TrailARN") or t["Name"]))
        if isinstance(got, dict):
            got = {
                "EventSelectors": got.get("EventSelectors") or [],
                "AdvancedEventSelectors": got.get("AdvancedEventSelectors") or [],
            }
        insights = attempt(
            lambda: ct.get_insight_selectors(TrailName=t.get("TrailARN") or t["Name"]).get("InsightSelectors") or [],
            absent=("InsightNotEnabledException",),
        )
        return {
            "Name": t["Name"],
            "TrailARN": t.get("TrailARN") or t["Name"],
            "IsMultiRegionTrail": bool(t.get("IsMultiRegionTrail")),
            "selectors": got,
            "insights": [] if insights is None else insights,
        }

    return {"trails": f.each(selectors, trails)}


def collect_config_delivery(f: Fetch) -> dict[str, Any]:
    cfg = f.client("config")
    return {"channels": cfg.describe_delivery_channels().get("DeliveryChannels") or []}


@dataclass(frozen=True)
class Dataset:
    name: str
    scope: Scope
    collect: Callable[[Fetch], Any]
    service: str  # the boto3 service it reads first (for messages and docs)


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("iam", DATASET_SCOPES["iam"], collect_iam, "iam"),
        Dataset("s3", DATASET_SCOPES["s3"], collect_s3, "s3"),
        Dataset("s3_account", DATASET_SCOPES["s3_account"], collect_s3_account, "s3control"),
        Dataset("ec2", DATASET_SCOPES["ec2"], collect_ec2, "ec2"),
        Dataset("cloudtrail", DATASET_SCOPES["cloudtrail"], collect_cloudtrail, "cloudtrail"),
        Dataset("logs", DATASET_SCOPES["logs"], collect_logs, "logs"),
        Dataset("cloudwatch", DATASET_SCOPES["cloudwatch"], collect_cloudwatch, "cloudwatch"),
        Dataset("config", DATASET_SCOPES["config"], collect_config, "config"),
        Dataset("guardduty", DATASET_SCOPES["guardduty"], collect_guardduty, "guardduty"),
        Dataset("securityhub", DATASET_SCOPES["securityhub"], collect_securityhub, "securityhub"),
        Dataset("rds", DATASET_SCOPES["rds"], collect_rds, "rds"),
        Dataset("dynamodb", DATASET_SCOPES["dynamodb"], collect_dynamodb, "dynamodb"),
        Dataset("backup", DATASET_SCOPES["backup"], collect_backup, "backup"),
        Dataset("elbv2", DATASET_SCOPES["elbv2"], collect_elbv2, "elbv2"),
        Dataset("lambda", DATASET_SCOPES["lambda"], collect_lambda, "lambda"),
        Dataset("kms", DATASET_SCOPES["kms"], collect_kms, "kms"),
        Dataset("secretsmanager", DATASET_SCOPES["secretsmanager"], collect_secretsmanager, "secretsmanager"),
        Dataset("acm", DATASET_SCOPES["acm"], collect_acm, "acm"),
        # governance
        Dataset("iam_extra", DATASET_SCOPES["iam_extra"], collect_iam_extra, "iam"),
        Dataset("account_contacts", DATASET_SCOPES["account_contacts"], collect_account_contacts, "account"),
        Dataset("organizations", DATASET_SCOPES["organizations"], collect_organizations, "organizations"),
        Dataset("accessanalyzer", DATASET_SCOPES["accessanalyzer"], collect_accessanalyzer, "accessanalyzer"),
        Dataset(
            "cloudtrail_selectors", DATASET_SCOPES["cloudtrail_selectors"], collect_cloudtrail_selectors, "cloudtrail"
        ),
        Dataset("config_delivery", DATASET_SCOPES["config_delivery"], collect_config_delivery, "config"),
    )
}


def run_collector(dataset: Dataset, fetch: Fetch) -> Any:
    try:
        return dataset.collect(fetch)
    except DatasetFailure as exc:
        return exc.error
    except (ClientError, BotoCoreError) as exc:
        log.warning("aws %s in %s: %s", dataset.name, fetch.region, error_message_of(exc))
        return CollectError(error_code_of(exc), error_message_of(exc))
    except Exception as exc:  # noqa: BLE001 - a malformed answer must not stop the other datasets
        log.warning("aws %s in %s failed: %s: %s", dataset.name, fetch.region, type(exc).__name__, exc)
        return CollectError(type(exc).__name__, str(exc)[:300])


def collect_account(
    clients: ClientFactory,
    account: str,
    regions: tuple[str, ...],
    home_region: str,
    datasets: Iterable[str],
    workers: int = 8,
    progress: Callable[[str], None] | None = None,
    regions_enabled: tuple[str, ...] | None = None,
) -> AccountSnapshot:
    """Read every needed dataset once: global ones in the home region, regional ones per region."""
    snap = AccountSnapshot(account=account, regions=regions, home_region=home_region, regions_enabled=regions_enabled)
    snap.regional = {r: {} for r in regions}
    wanted = [DATASETS[n] for n in sorted(set(datasets))]
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aws-collect") as pool,
        ThreadPoolExecutor(max_workers=DETAIL_WORKERS, thread_name_prefix="aws-detail") as detail_pool,
    ):
        futures: list[tuple[Dataset, str | None, Future[Any]]] = []
        for ds in wanted:
            if ds.scope is Scope.ACCOUNT:
                fetch = Fetch(clients, home_region, account, detail_pool)
                futures.append((ds, None, pool.submit(run_collector, ds, fetch)))
            else:
                for r in regions:
                    fetch = Fetch(clients, r, account, detail_pool)
                    futures.append((ds, r, pool.submit(run_collector, ds, fetch)))
        for ds, where, fut in futures:
            result = fut.result()
            if progress:
                progress(f"{account} {where or 'global'} {ds.name}")
            if where is None:
                snap.global_data[ds.name] = result
            else:
                snap.regional[where][ds.name] = result
    return snap


def decode_policy_document(doc: Any) -> Any:
    """IAM returns policy documents URL-encoded from some calls and parsed from others."""
    if isinstance(doc, str):
        try:
            return json.loads(unquote(doc))
        except ValueError:
            return {}
    return doc
