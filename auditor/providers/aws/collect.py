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

import base64
import binascii
import csv
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from auditor.providers.aws.model import DATASET_SCOPES, AccountSnapshot, CollectError, NotRead, Scope
from auditor.providers.aws.session import ClientFactory, error_code_of, error_message_of
from auditor.redact import detect_secrets

log = logging.getLogger("auditor.aws")

T = TypeVar("T")
R = TypeVar("R")

DETAIL_WORKERS = 8
NOT_READ = NotRead()
CREDENTIAL_REPORT_WAIT_S = 30.0


class Fetch:
    """What a collector gets: the account's clients and the region it reads."""

    def __init__(
        self,
        clients: ClientFactory,
        region: str,
        account: str,
        detail_pool: ThreadPoolExecutor,
        parts: frozenset[str] | None = None,
        dataset: Callable[[str, str | None], Any] | None = None,
        regions: tuple[str, ...] = (),
    ) -> None:
        self.clients = clients
        self.region = region
        self.regions = regions or (region,)  # every region of the scan (an account-wide dataset reads one)
        self.account = account
        self._pool = detail_pool
        self.parts = parts  # the parts of a `DATASET_PARTS` dataset to read (None: all)
        self._dataset = dataset

    def wants(self, part: str) -> bool:
        return self.parts is None or part in self.parts

    def dataset(self, name: str) -> Any:
        """Another dataset's result (this region's, or the account's), read before this collector
        started (`Dataset.after`): a collector reuses a list another one made instead of asking again.
        Raises DatasetFailure when that dataset could not be read."""
        if self._dataset is None:
            raise DatasetFailure(CollectError("NotCollected", f"{name} was not collected"))
        region = None if DATASET_SCOPES[name] is Scope.ACCOUNT else self.region
        got = self._dataset(name, region)
        if isinstance(got, CollectError):
            raise DatasetFailure(got)
        return got

    def part_of(self, name: str, key: str) -> Any:
        """One part of another dataset (`ec2.instances`); DatasetFailure when it could not be read."""
        got = self.dataset(name)[key]
        if isinstance(got, CollectError):
            raise DatasetFailure(got)
        return got

    def client(self, service: str, region: str | None = None) -> Any:
        return self.clients.client(service, region or self.region)

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Any]:
        paginator = self.client(service).get_paginator(operation)
        out: list[Any] = []
        for page in paginator.paginate(**kwargs):
            out.extend(page.get(key) or [])
        return out

    def each(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fn over items on the detail pool, results in order.

        At most `DETAIL_WORKERS` items of one call wait in the pool or run at once: a dataset with
        thousands of resources (every bucket) never queues them all ahead of the other datasets'
        few, so those finish beside it instead of after it."""
        todo = list(items)
        results: dict[int, R] = {}
        pending: dict[Future[R], int] = {}
        try:
            for i, item in enumerate(todo):
                if len(pending) >= DETAIL_WORKERS:
                    self._settle(pending, results)
                pending[self._pool.submit(fn, item)] = i
            while pending:
                self._settle(pending, results)
        finally:
            for fut in pending:
                fut.cancel()
        return [results[i] for i in range(len(todo))]

    @staticmethod
    def _settle(pending: dict[Future[R], int], results: dict[int, R]) -> None:
        """Wait for at least one pending item; move what finished into `results` (raising its error)."""
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            results[pending.pop(fut)] = fut.result()


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
    """Each bucket's location (always) and the settings the selected checks read (`f.wants`):
    one call per bucket and setting; a setting no selected check reads holds `NotRead`."""
    s3 = f.client("s3")
    buckets = list_all_buckets(s3)
    listed = listed_bucket_regions(f, buckets)

    def read(part: str, fn: Callable[[], Any], absent: tuple[str, ...] = ()) -> Any:
        return attempt(fn, absent) if f.wants(part) else NOT_READ

    def detail(b: dict[str, Any]) -> dict[str, Any]:
        name = b["Name"]
        region: str | CollectError | None = listed.get(name)
        if region is None:
            loc = attempt(lambda: s3.get_bucket_location(Bucket=name).get("LocationConstraint"))
            region = loc if isinstance(loc, CollectError) else (loc or "us-east-1")
            if region == "EU":
                region = "eu-west-1"
        policy_text = read(
            "policy", lambda: s3.get_bucket_policy(Bucket=name)["Policy"], absent=("NoSuchBucketPolicy",)
        )
        policy: Any = policy_text
        if isinstance(policy_text, str):
            try:
                policy = json.loads(policy_text)
            except ValueError:
                policy = CollectError("MalformedPolicy", "bucket policy is not JSON")
        versioning = (
            attempt(lambda: s3.get_bucket_versioning(Bucket=name))
            if f.wants("versioning") or f.wants("mfa_delete")
            else NOT_READ
        )
        return {
            "name": name,
            "arn": f"arn:aws:s3:::{name}",
            "created": aware(b.get("CreationDate")),
            "region": region,
            "encryption": read(
                "encryption",
                lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"],
                absent=("ServerSideEncryptionConfigurationNotFoundError",),
            ),
            "public_access_block": read(
                "public_access_block",
                lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
                absent=("NoSuchPublicAccessBlockConfiguration",),
            ),
            "policy": policy,
            "acl": read("acl", lambda: s3.get_bucket_acl(Bucket=name).get("Grants") or []),
            "versioning": (
                versioning if isinstance(versioning, CollectError) else (versioning or {}).get("Status") or "Disabled"
            ),
            "logging": read("logging", lambda: s3.get_bucket_logging(Bucket=name).get("LoggingEnabled")),
            "tags": read(
                "tags",
                lambda: {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name).get("TagSet") or []},
                absent=("NoSuchTagSet",),
            ),
            **s3_config_details(s3, name, versioning, read),
        }

    return {"buckets": f.each(detail, buckets)}


LIST_BUCKETS_PAGE = 1000


def list_all_buckets(s3: Any) -> list[dict[str, Any]]:
    """Every bucket, paginated: AWS refuses an unpaginated ListBuckets from an account whose bucket
    quota is above the default, and names each entry's region (`BucketRegion`) only in an answer
    to a request with a parameter. A full last page without a continuation token comes from an
    endpoint that caps pages but does not paginate (moto): the unpaginated list is asked too, and
    the longer one is kept, so no bucket is silently left out. An endpoint that refuses the page
    size is asked the unpaginated list."""
    try:
        pages = list(s3.get_paginator("list_buckets").paginate(PaginationConfig={"PageSize": LIST_BUCKETS_PAGE}))
    except ClientError:
        # An S3-compatible endpoint that rejects the page size: its plain listing is the whole one
        # (and if that fails too, the dataset is the error, as before).
        return list(s3.list_buckets().get("Buckets") or [])
    buckets = [b for page in pages for b in page.get("Buckets") or []]
    last = pages[-1] if pages else {}
    if len(last.get("Buckets") or []) >= LIST_BUCKETS_PAGE and not last.get("ContinuationToken"):
        whole = s3.list_buckets().get("Buckets") or []
        if len(whole) > len(buckets):
            return list(whole)
    return buckets


# A second region asked for its buckets when the scan has one region: an endpoint that ignores the
# `BucketRegion` filter answers both with the same buckets, which is how it is caught.
CONTROL_REGIONS = ("us-east-1", "eu-west-1")


def listed_bucket_regions(f: Fetch, buckets: list[dict[str, Any]]) -> dict[str, str]:
    """Bucket name -> region, from ListBuckets instead of one GetBucketLocation per bucket.

    An entry that names its `BucketRegion` (AWS does in a paginated answer) is taken as it is.
    For the others, each region of the scan is asked for its buckets (the `BucketRegion` filter,
    on that region's endpoint as AWS requires; one call each, plus a control region when the
    scan has only one). The answers are believed only if every call succeeded, no bucket is in two of
    them and no entry names another region: an endpoint that ignores the filter (an S3-compatible
    store) is caught that way, and then nothing is taken from them. A bucket missing from the map is
    asked its location, one call, as before; so is every bucket when the per-region calls would
    outnumber the buckets."""
    named = {b["Name"]: b["BucketRegion"] for b in buckets if b.get("Name") and b.get("BucketRegion")}
    unnamed = [b["Name"] for b in buckets if b.get("Name") and b["Name"] not in named]
    regions = list(dict.fromkeys(f.regions))
    if len(regions) == 1:
        regions.append(next(r for r in CONTROL_REGIONS if r != regions[0]))
    if not unnamed or len(regions) >= len(unnamed):
        return named
    seen: dict[str, str] = {}
    for region in regions:
        try:
            pages = f.client("s3", region).get_paginator("list_buckets").paginate(BucketRegion=region)
            answer = [b for page in pages for b in page.get("Buckets") or []]
        except (ClientError, BotoCoreError):
            return named
        for b in answer:
            name = b.get("Name")
            if not name or name in seen or b.get("BucketRegion", region) != region:
                return named  # the filter was not applied: believe none of it
            seen[name] = region
    return {**{n: seen[n] for n in unnamed if n in seen}, **named}


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
    instances = f.pages("rds", "describe_db_instances", "DBInstances")
    return {"instances": instances, **rds_config_parts(f, instances)}


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
        return {
            "name": name,
            "arn": arn or f"arn:aws:dynamodb:{f.region}:{f.account}:table/{name}",
            "pitr": pitr,
            "description": desc,
        }

    return {"tables": f.each(detail, names)}


def collect_backup(f: Fetch) -> dict[str, Any]:
    plans = f.pages("backup", "list_backup_plans", "BackupPlansList")
    return {"plans": plans, **backup_config_parts(f, plans)}


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
    secrets = f.pages("secretsmanager", "list_secrets", "SecretList")
    return {"secrets": secrets, "policies": secret_policies(f, secrets)}


def collect_acm(f: Fetch) -> dict[str, Any]:
    acm = f.client("acm")
    summaries = f.pages("acm", "list_certificates", "CertificateSummaryList")

    def detail(c: dict[str, Any]) -> Any:
        arn = c["CertificateArn"]
        d = attempt(lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"])
        return d if isinstance(d, dict) else {"CertificateArn": arn, "DomainName": c.get("DomainName"), "error": d}

    return {"certificates": f.each(detail, summaries)}


# --- data stores, messaging and secrets collectors (issue 15) ---


def not_implemented(fn: Callable[[], T]) -> Callable[[], T]:
    """moto's in-process mock raises NotImplementedError for an API it lacks; make it an API error."""

    def call() -> T:
        try:
            return fn()
        except NotImplementedError as exc:
            raise DatasetFailure(CollectError("NotImplemented", str(exc)[:300])) from exc

    return call


def parse_policy(text: Any) -> Any:
    """A resource policy as a dict; None when there is none; CollectError when it is not JSON."""
    if text is None or isinstance(text, CollectError | dict):
        return text
    if not str(text).strip():
        return None
    try:
        return json.loads(str(text))
    except ValueError:
        return CollectError("MalformedPolicy", "resource policy is not JSON")


def s3_config_details(
    s3: Any,
    name: str,
    versioning: dict[str, Any] | CollectError | None,
    read: Callable[..., Any],
) -> dict[str, Any]:
    """The bucket settings the issue-15 S3 checks read: one call each, absent means not configured;
    `read(part, fn, absent)` makes the call only when a selected check reads that part."""
    return {
        "mfa_delete": (
            versioning if isinstance(versioning, CollectError) else (versioning or {}).get("MFADelete") or "Disabled"
        ),
        "ownership": read(
            "ownership",
            lambda: [
                r.get("ObjectOwnership")
                for r in s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"].get("Rules") or []
            ],
            absent=("OwnershipControlsNotFoundError",),
        ),
        "replication": read(
            "replication",
            lambda: s3.get_bucket_replication(Bucket=name)["ReplicationConfiguration"].get("Rules") or [],
            absent=("ReplicationConfigurationNotFoundError",),
        ),
        "notifications": read(
            "notifications",
            lambda: {
                # EventBridgeConfiguration is an empty object when events go to EventBridge.
                k: len(v)
                for k, v in s3.get_bucket_notification_configuration(Bucket=name).items()
                if k != "ResponseMetadata" and isinstance(v, list | dict) and (v or k == "EventBridgeConfiguration")
            }
        ),
        "lifecycle": read(
            "lifecycle",
            lambda: s3.get_bucket_lifecycle_configuration(Bucket=name).get("Rules") or [],
            absent=("NoSuchLifecycleConfiguration",),
        ),
        "object_lock": read(
            "object_lock",
            lambda: s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"],
            absent=("ObjectLockConfigurationNotFoundError",),
        ),
    }


RDS_TLS_PARAMETERS = ("rds.force_ssl", "require_secure_transport")


def rds_config_parts(f: Fetch, instances: list[dict[str, Any]]) -> dict[str, Any]:
    """Snapshots (and who may restore them), event subscriptions, and the TLS parameters of each
    parameter group the instances use (one paginated read per distinct group)."""
    rds = f.client("rds")

    def snapshot_detail(s: dict[str, Any]) -> dict[str, Any]:
        attrs = attempt(
            lambda: rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=s["DBSnapshotIdentifier"])[
                "DBSnapshotAttributesResult"
            ].get("DBSnapshotAttributes")
            or []
        )
        restore: Any = attrs
        if not isinstance(attrs, CollectError):
            restore = [
                v for a in attrs or [] if a.get("AttributeName") == "restore" for v in a.get("AttributeValues") or []
            ]
        return {**s, "restore": restore}

    def snapshots() -> list[dict[str, Any]]:
        return f.each(snapshot_detail, f.pages("rds", "describe_db_snapshots", "DBSnapshots", SnapshotType="manual"))

    groups = sorted(
        {
            g["DBParameterGroupName"]
            for db in instances
            for g in db.get("DBParameterGroups") or []
            if g.get("DBParameterGroupName")
        }
    )

    def tls_parameters(group: str) -> Any:
        def read() -> dict[str, Any]:
            found: dict[str, Any] = {}
            for p in f.pages("rds", "describe_db_parameters", "Parameters", DBParameterGroupName=group):
                if p.get("ParameterName") in RDS_TLS_PARAMETERS:
                    found[p["ParameterName"]] = p.get("ParameterValue")
            return found

        return attempt(read)

    parameters = read_part(
        lambda: [{"name": g, "parameters": p} for g, p in zip(groups, f.each(tls_parameters, groups), strict=True)]
    )
    return {
        "snapshots": read_part(snapshots),
        "event_subscriptions": read_part(
            lambda: f.pages("rds", "describe_event_subscriptions", "EventSubscriptionsList")
        ),
        "parameter_groups": parameters,
    }


def backup_config_parts(f: Fetch, plans: list[dict[str, Any]]) -> dict[str, Any]:
    """Vaults (with their access policies), each plan's rules, and each plan's resource selections."""
    backup = f.client("backup")

    def vault_detail(v: dict[str, Any]) -> dict[str, Any]:
        policy = attempt(
            lambda: backup.get_backup_vault_access_policy(BackupVaultName=v["BackupVaultName"]).get("Policy"),
            absent=("ResourceNotFoundException",),
        )
        return {**v, "policy": parse_policy(policy)}

    def plan_detail(p: dict[str, Any]) -> dict[str, Any]:
        pid = p["BackupPlanId"]
        rules = attempt(lambda: backup.get_backup_plan(BackupPlanId=pid)["BackupPlan"].get("Rules") or [])

        def selections() -> list[dict[str, Any]]:
            out = []
            for sel in f.pages("backup", "list_backup_selections", "BackupSelectionsList", BackupPlanId=pid):
                got = backup.get_backup_selection(BackupPlanId=pid, SelectionId=sel["SelectionId"])
                out.append(got.get("BackupSelection") or {})
            return out

        return {
            "id": pid,
            "name": p.get("BackupPlanName"),
            "arn": p.get("BackupPlanArn"),
            "rules": rules,
            "selections": attempt(not_implemented(selections)),
        }

    return {
        "vaults": read_part(lambda: f.each(vault_detail, f.pages("backup", "list_backup_vaults", "BackupVaultList"))),
        "plan_details": read_part(lambda: f.each(plan_detail, plans)),
    }


def secret_policies(f: Fetch, secrets: list[dict[str, Any]]) -> Any:
    """Each secret's resource policy ({arn, name, policy: dict | None | CollectError}), on the detail pool."""
    sm = f.client("secretsmanager")

    def one(s: dict[str, Any]) -> dict[str, Any]:
        got = attempt(lambda: sm.get_resource_policy(SecretId=s["ARN"]).get("ResourcePolicy"))
        return {"arn": s["ARN"], "name": s.get("Name"), "policy": parse_policy(got)}

    return read_part(lambda: f.each(one, secrets))


def collect_efs(f: Fetch) -> dict[str, Any]:
    efs = f.client("efs")
    systems = f.pages("efs", "describe_file_systems", "FileSystems")

    def detail(fs: dict[str, Any]) -> dict[str, Any]:
        fid = fs["FileSystemId"]
        backup = attempt(
            lambda: efs.describe_backup_policy(FileSystemId=fid)["BackupPolicy"].get("Status"),
            absent=("PolicyNotFound",),
        )
        policy = attempt(
            lambda: efs.describe_file_system_policy(FileSystemId=fid).get("Policy"), absent=("PolicyNotFound",)
        )
        return {**fs, "backup_policy": backup, "policy": parse_policy(policy)}

    return {"file_systems": f.each(detail, systems)}


def collect_elasticache(f: Fetch) -> dict[str, Any]:
    return {"replication_groups": f.pages("elasticache", "describe_replication_groups", "ReplicationGroups")}


def collect_redshift(f: Fetch) -> dict[str, Any]:
    rs = f.client("redshift")
    clusters = f.pages("redshift", "describe_clusters", "Clusters")
    groups = sorted(
        {
            g["ParameterGroupName"]
            for c in clusters
            for g in c.get("ClusterParameterGroups") or []
            if g.get("ParameterGroupName")
        }
    )

    def logging(c: dict[str, Any]) -> dict[str, Any]:
        status = attempt(lambda: rs.describe_logging_status(ClusterIdentifier=c["ClusterIdentifier"]))
        if isinstance(status, dict):
            status = {k: v for k, v in status.items() if k != "ResponseMetadata"}
        return {**c, "logging": status}

    def require_ssl(group: str) -> Any:
        def read() -> Any:
            for p in f.pages("redshift", "describe_cluster_parameters", "Parameters", ParameterGroupName=group):
                if p.get("ParameterName") == "require_ssl":
                    return p.get("ParameterValue")
            return None

        return attempt(read)

    return {
        "clusters": f.each(logging, clusters),
        "parameter_groups": read_part(
            lambda: [{"name": g, "require_ssl": v} for g, v in zip(groups, f.each(require_ssl, groups), strict=True)]
        ),
    }


def collect_opensearch(f: Fetch) -> dict[str, Any]:
    client = f.client("opensearch")
    names = [d["DomainName"] for d in client.list_domain_names().get("DomainNames") or []]
    domains: list[dict[str, Any]] = []
    for i in range(0, len(names), 5):  # DescribeDomains takes at most 5 names
        domains.extend(client.describe_domains(DomainNames=names[i : i + 5]).get("DomainStatusList") or [])
    return {"domains": [{**d, "policy": parse_policy(d.get("AccessPolicies"))} for d in domains]}


def collect_sns(f: Fetch) -> dict[str, Any]:
    sns = f.client("sns")
    topics = f.pages("sns", "list_topics", "Topics")

    def detail(t: dict[str, Any]) -> dict[str, Any]:
        arn = t["TopicArn"]
        attrs = attempt(lambda: sns.get_topic_attributes(TopicArn=arn).get("Attributes") or {})
        policy = parse_policy(attrs.get("Policy")) if isinstance(attrs, dict) else attrs
        return {"arn": arn, "name": arn.rsplit(":", 1)[-1], "attributes": attrs, "policy": policy}

    def subscriptions() -> list[dict[str, Any]]:
        # Endpoints are not kept: a webhook URL often carries a token.
        return [
            {k: sub.get(k) for k in ("SubscriptionArn", "TopicArn", "Protocol")}
            for sub in f.pages("sns", "list_subscriptions", "Subscriptions")
        ]

    return {"topics": f.each(detail, topics), "subscriptions": read_part(subscriptions)}


def collect_sqs(f: Fetch) -> dict[str, Any]:
    sqs = f.client("sqs")
    urls = f.pages("sqs", "list_queues", "QueueUrls")

    def detail(url: str) -> dict[str, Any]:
        attrs = attempt(lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes") or {})
        policy = parse_policy(attrs.get("Policy")) if isinstance(attrs, dict) else attrs
        name = url.rstrip("/").rsplit("/", 1)[-1]
        arn = attrs.get("QueueArn") if isinstance(attrs, dict) else None
        return {
            "url": url,
            "name": name,
            "arn": arn or f"arn:aws:sqs:{f.region}:{f.account}:{name}",
            "attributes": attrs,
            "policy": policy,
        }

    return {"queues": f.each(detail, urls)}
# --- network, compute and edge collectors (issue 15) ---


def collect_vpc(f: Fetch) -> dict[str, Any]:
    """Network ACLs, route tables, peering connections, network interfaces, subnets: one part each."""
    return {
        "network_acls": read_part(lambda: f.pages("ec2", "describe_network_acls", "NetworkAcls")),
        "route_tables": read_part(lambda: f.pages("ec2", "describe_route_tables", "RouteTables")),
        "peering_connections": read_part(
            lambda: f.pages("ec2", "describe_vpc_peering_connections", "VpcPeeringConnections")
        ),
        "network_interfaces": read_part(lambda: f.pages("ec2", "describe_network_interfaces", "NetworkInterfaces")),
        "subnets": read_part(lambda: f.pages("ec2", "describe_subnets", "Subnets")),
    }


def parse_json_policy(text: Any, what: str) -> Any:
    """A policy document read as text: the parsed JSON, None when absent, CollectError when malformed."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return CollectError("MalformedPolicy", f"{what} is not JSON")


def collect_ecr(f: Fetch) -> dict[str, Any]:
    ecr = f.client("ecr")
    repos = f.pages("ecr", "describe_repositories", "repositories")

    def detail(r: dict[str, Any]) -> dict[str, Any]:
        name = r["repositoryName"]
        policy = attempt(
            lambda: ecr.get_repository_policy(repositoryName=name)["policyText"],
            absent=("RepositoryPolicyNotFoundException",),
        )
        lifecycle = attempt(
            lambda: ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"],
            absent=("LifecyclePolicyNotFoundException",),
        )
        return {**r, "policy": parse_json_policy(policy, "repository policy"), "lifecycle_policy": lifecycle}

    return {"repositories": f.each(detail, repos)}


def collect_eks(f: Fetch) -> dict[str, Any]:
    eks = f.client("eks")
    names = f.pages("eks", "list_clusters", "clusters")

    def detail(name: str) -> dict[str, Any]:
        got = attempt(lambda: eks.describe_cluster(name=name)["cluster"])
        if isinstance(got, dict):
            return got
        return {"name": name, "arn": f"arn:aws:eks:{f.region}:{f.account}:cluster/{name}", "error": got}

    return {"clusters": f.each(detail, names)}


def collect_elb(f: Fetch) -> dict[str, Any]:
    elb = f.client("elb")
    lbs = f.pages("elb", "describe_load_balancers", "LoadBalancerDescriptions")

    def detail(lb: dict[str, Any]) -> dict[str, Any]:
        name = lb["LoadBalancerName"]
        attrs = attempt(lambda: elb.describe_load_balancer_attributes(LoadBalancerName=name)["LoadBalancerAttributes"])
        return {**lb, "attributes": attrs}

    return {"load_balancers": f.each(detail, lbs)}


def collect_cloudfront(f: Fetch) -> dict[str, Any]:
    cf = f.client("cloudfront")
    items: list[dict[str, Any]] = []
    for page in cf.get_paginator("list_distributions").paginate():  # one DistributionList per page
        items.extend((page.get("DistributionList") or {}).get("Items") or [])

    def detail(d: dict[str, Any]) -> dict[str, Any]:
        config = attempt(lambda: cf.get_distribution_config(Id=d["Id"])["DistributionConfig"])
        return {"Id": d["Id"], "ARN": d.get("ARN"), "DomainName": d.get("DomainName"), "config": config}

    return {"distributions": f.each(detail, items)}


def collect_apigateway(f: Fetch) -> dict[str, Any]:
    """REST APIs with their stages and methods; custom domain names."""
    apigw = f.client("apigateway")
    apis = f.pages("apigateway", "get_rest_apis", "items")

    def detail(api: dict[str, Any]) -> dict[str, Any]:
        api_id = api["id"]
        stages = attempt(lambda: apigw.get_stages(restApiId=api_id).get("item") or [])
        resources = attempt(
            lambda: f.pages("apigateway", "get_resources", "items", restApiId=api_id, embed=["methods"])
        )
        return {"id": api_id, "name": api.get("name"), "stages": stages, "resources": resources}

    def http_apis() -> list[dict[str, Any]]:
        def v2_detail(api: dict[str, Any]) -> dict[str, Any]:
            api_id = api["ApiId"]
            stages = attempt(lambda: f.pages("apigatewayv2", "get_stages", "Items", ApiId=api_id))
            routes = attempt(lambda: f.pages("apigatewayv2", "get_routes", "Items", ApiId=api_id))
            return {
                "id": api_id,
                "name": api.get("Name"),
                "protocol": api.get("ProtocolType"),
                "stages": stages,
                "routes": routes,
            }

        return f.each(v2_detail, f.pages("apigatewayv2", "get_apis", "Items"))

    return {
        "rest_apis": f.each(detail, apis),
        "domain_names": read_part(lambda: f.pages("apigateway", "get_domain_names", "items")),
        "http_apis": read_part(http_apis),
    }


def collect_lambda_access(f: Fetch) -> dict[str, Any]:
    """Per function (listed by the `lambda` dataset): its function URL configuration and resource
    policy (not its environment)."""
    lam = f.client("lambda")
    functions = f.dataset("lambda")["functions"]

    def detail(fn: dict[str, Any]) -> dict[str, Any]:
        name = fn["FunctionName"]
        url = attempt(lambda: lam.get_function_url_config(FunctionName=name), absent=("ResourceNotFoundException",))
        if isinstance(url, dict):
            url = {
                "AuthType": url.get("AuthType"),
                "FunctionUrl": url.get("FunctionUrl"),
                "AllowOrigins": list((url.get("Cors") or {}).get("AllowOrigins") or []),
            }
        policy = attempt(lambda: lam.get_policy(FunctionName=name)["Policy"], absent=("ResourceNotFoundException",))
        return {
            "name": name,
            "arn": fn["FunctionArn"],
            "url": url,
            "policy": parse_json_policy(policy, "function policy"),
        }

    return {"functions": f.each(detail, functions)}


def collect_ssm(f: Fetch) -> dict[str, Any]:
    ssm = f.client("ssm")
    docs = f.pages("ssm", "list_documents", "DocumentIdentifiers", Filters=[{"Key": "Owner", "Values": ["Self"]}])

    def detail(d: dict[str, Any]) -> dict[str, Any]:
        perm = attempt(
            lambda: ssm.describe_document_permission(Name=d["Name"], PermissionType="Share").get("AccountIds") or []
        )
        content = attempt(lambda: secrets_in_text(ssm.get_document(Name=d["Name"]).get("Content") or ""))
        return {"name": d["Name"], "document_type": d.get("DocumentType"), "shared_with": perm, "content": content}

    return {"documents": f.each(detail, docs)}


def collect_route53(f: Fetch) -> dict[str, Any]:
    r53 = f.client("route53")
    zones = f.pages("route53", "list_hosted_zones", "HostedZones")

    def detail(z: dict[str, Any]) -> dict[str, Any]:
        private = bool((z.get("Config") or {}).get("PrivateZone"))
        zone_id = z["Id"].rsplit("/", 1)[-1]
        dnssec: Any = None
        if not private:
            dnssec = attempt(lambda: (r53.get_dnssec(HostedZoneId=zone_id).get("Status") or {}).get("ServeSignature"))
        return {"id": zone_id, "name": z.get("Name"), "private": private, "dnssec": dnssec}

    def domains() -> list[dict[str, Any]]:
        """Registered domains (the Route 53 Domains API exists in us-east-1 only)."""
        r53d = f.client("route53domains", "us-east-1")
        out: list[dict[str, Any]] = []
        for page in r53d.get_paginator("list_domains").paginate():
            out.extend(page.get("Domains") or [])
        return out

    return {
        "zones": f.each(detail, zones),
        "query_logging": read_part(lambda: f.pages("route53", "list_query_logging_configs", "QueryLoggingConfigs")),
        "domains": read_part(domains),
    }


def collect_wafv2(f: Fetch) -> dict[str, Any]:
    """Regional web ACLs (in us-east-1 also the CLOUDFRONT ones) with their rules and logging."""
    waf = f.client("wafv2")
    scopes = ["REGIONAL", "CLOUDFRONT"] if f.region == "us-east-1" else ["REGIONAL"]
    acls: list[tuple[str, dict[str, Any]]] = []
    for scope in scopes:
        marker: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Scope": scope, "Limit": 100}
            if marker:
                kwargs["NextMarker"] = marker
            page = waf.list_web_acls(**kwargs)
            acls.extend((scope, a) for a in page.get("WebACLs") or [])
            marker = page.get("NextMarker")
            if not marker or not page.get("WebACLs"):
                break

    def detail(item: tuple[str, dict[str, Any]]) -> dict[str, Any]:
        scope, a = item
        acl = attempt(lambda: waf.get_web_acl(Name=a["Name"], Scope=scope, Id=a["Id"])["WebACL"])
        logging_cfg = attempt(
            lambda: waf.get_logging_configuration(ResourceArn=a["ARN"])["LoggingConfiguration"],
            absent=("WAFNonexistentItemException",),
        )
        rules: Any = acl if isinstance(acl, CollectError) else len((acl or {}).get("Rules") or [])
        return {"name": a["Name"], "arn": a["ARN"], "scope": scope, "rules": rules, "logging": logging_cfg}

    def albs() -> list[dict[str, Any]]:
        """Each application load balancer (listed by the `elbv2` dataset) and the web ACL associated
        with it (None: none)."""
        found = [
            lb
            for lb in f.dataset("elbv2")["load_balancers"]
            if lb.get("Type", "application") == "application"
        ]

        def acl_of(lb: dict[str, Any]) -> dict[str, Any]:
            arn = lb["LoadBalancerArn"]
            got = attempt(
                lambda: (waf.get_web_acl_for_resource(ResourceArn=arn).get("WebACL") or {}).get("ARN"),
                absent=("WAFNonexistentItemException",),
            )
            return {"name": lb["LoadBalancerName"], "arn": lb["LoadBalancerArn"], "web_acl": got}

        return f.each(acl_of, found)

    return {"web_acls": f.each(detail, acls), "load_balancers": read_part(albs)}


def secrets_in_text(text: str) -> dict[str, Any]:
    """Detector and key names the secret detector finds in a text; never the text itself."""
    hits = detect_secrets(text)
    return {"detectors": sorted({h.detector for h in hits}), "keys": sorted({h.key for h in hits if h.key})}


def user_data_findings(encoded: Any) -> dict[str, Any]:
    """What the secret detector finds in base64 user data: detector and variable names only.

    The user data itself is never kept in the snapshot (it may hold the secret)."""
    if not encoded:
        return {"present": False, "detectors": [], "keys": []}
    try:
        text = base64.b64decode(str(encoded), validate=False).decode("utf-8", errors="replace")
    except (ValueError, binascii.Error):
        return {"present": True, "detectors": [], "keys": [], "undecodable": True}
    return {"present": True, **secrets_in_text(text)}


def collect_ec2_config(f: Fetch) -> dict[str, Any]:
    """Instance user data (of the instances the `ec2` dataset listed; scanned for secrets here, only
    the detector names are kept) and the latest version of each launch template (metadata options,
    user data scanned the same way)."""
    ec2 = f.client("ec2")

    def instance_user_data(i: dict[str, Any]) -> dict[str, Any]:
        iid = i["InstanceId"]
        got = attempt(
            lambda: user_data_findings(
                (ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData").get("UserData") or {}).get(
                    "Value"
                )
            )
        )
        return {"id": iid, "user_data": got}

    def user_data() -> list[dict[str, Any]]:
        live = [
            i
            for i in f.part_of("ec2", "instances")
            if (i.get("State") or {}).get("Name") not in ("terminated", "shutting-down")
        ]
        return f.each(instance_user_data, live)

    def latest(t: dict[str, Any]) -> dict[str, Any]:
        tid = t["LaunchTemplateId"]
        got = attempt(
            lambda: (
                ec2.describe_launch_template_versions(LaunchTemplateId=tid, Versions=["$Latest"]).get(
                    "LaunchTemplateVersions"
                )
                or [{}]
            )[0]
        )
        if isinstance(got, CollectError):
            return {"id": tid, "name": t.get("LaunchTemplateName"), "latest": got}
        got = got or {}
        data = got.get("LaunchTemplateData") or {}
        return {
            "id": tid,
            "name": t.get("LaunchTemplateName"),
            "version": got.get("VersionNumber"),
            "latest": {
                "metadata_options": data.get("MetadataOptions") or {},
                "user_data": user_data_findings(data.get("UserData")),
            },
        }

    def templates() -> list[dict[str, Any]]:
        return f.each(latest, f.pages("ec2", "describe_launch_templates", "LaunchTemplates"))

    return {"user_data": read_part(user_data), "launch_templates": read_part(templates)}


def collect_ssm_patch(f: Fetch) -> dict[str, Any]:
    """Patch compliance of managed instances (its own dataset: not every endpoint serves it)."""
    items = f.pages(
        "ssm",
        "list_resource_compliance_summaries",
        "ResourceComplianceSummaryItems",
        Filters=[{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}],
    )
    return {"summaries": items}


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
    """The trails whose home is this region (of those the `cloudtrail` dataset listed), each with its
    event selectors (basic or advanced) and its CloudTrail Insights selectors (two bounded calls per
    trail on the detail pool)."""
    ct = f.client("cloudtrail")
    trails = [t for t in f.dataset("cloudtrail")["trails"] if (t.get("HomeRegion") or f.region) == f.region]

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
    after: tuple[str, ...] = ()  # datasets whose result it reuses (`Fetch.dataset`): collected first
    # Reads one or more calls per resource of an unbounded set (every bucket, every user): submitted
    # before the others, so the API is kept busy from the first second while the small ones start.
    fans_out: bool = False


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("iam", DATASET_SCOPES["iam"], collect_iam, "iam", fans_out=True),
        Dataset("s3", DATASET_SCOPES["s3"], collect_s3, "s3", fans_out=True),
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
            "cloudtrail_selectors",
            DATASET_SCOPES["cloudtrail_selectors"],
            collect_cloudtrail_selectors,
            "cloudtrail",
            after=("cloudtrail",),
        ),
        Dataset("config_delivery", DATASET_SCOPES["config_delivery"], collect_config_delivery, "config"),
        # data stores, messaging and secrets (issue 15)
        Dataset("efs", DATASET_SCOPES["efs"], collect_efs, "efs"),
        Dataset("elasticache", DATASET_SCOPES["elasticache"], collect_elasticache, "elasticache"),
        Dataset("redshift", DATASET_SCOPES["redshift"], collect_redshift, "redshift"),
        Dataset("opensearch", DATASET_SCOPES["opensearch"], collect_opensearch, "opensearch"),
        Dataset("sns", DATASET_SCOPES["sns"], collect_sns, "sns"),
        Dataset("sqs", DATASET_SCOPES["sqs"], collect_sqs, "sqs"),
        # --- network, compute and edge datasets (issue 15) ---
        Dataset("vpc", DATASET_SCOPES["vpc"], collect_vpc, "ec2"),
        Dataset("ecr", DATASET_SCOPES["ecr"], collect_ecr, "ecr"),
        Dataset("eks", DATASET_SCOPES["eks"], collect_eks, "eks"),
        Dataset("elb", DATASET_SCOPES["elb"], collect_elb, "elb"),
        Dataset("cloudfront", DATASET_SCOPES["cloudfront"], collect_cloudfront, "cloudfront"),
        Dataset("apigateway", DATASET_SCOPES["apigateway"], collect_apigateway, "apigateway"),
        Dataset("lambda_access", DATASET_SCOPES["lambda_access"], collect_lambda_access, "lambda", after=("lambda",)),
        Dataset("ssm", DATASET_SCOPES["ssm"], collect_ssm, "ssm"),
        Dataset("route53", DATASET_SCOPES["route53"], collect_route53, "route53"),
        Dataset("wafv2", DATASET_SCOPES["wafv2"], collect_wafv2, "wafv2", after=("elbv2",)),
        Dataset("ssm_patch", DATASET_SCOPES["ssm_patch"], collect_ssm_patch, "ssm"),
        Dataset("ec2_config", DATASET_SCOPES["ec2_config"], collect_ec2_config, "ec2", after=("ec2",)),
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


def with_dependencies(names: Iterable[str]) -> list[Dataset]:
    """The datasets to collect, each after the ones it reuses (`Dataset.after`); the ones that fan
    out first (`Dataset.fans_out`), otherwise by name."""
    ordered: list[Dataset] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in DATASETS[name].after:
            add(dep)
        ordered.append(DATASETS[name])

    for name in sorted(set(names), key=lambda n: (not DATASETS[n].fans_out, n)):
        add(name)
    return ordered


def collect_account(
    clients: ClientFactory,
    account: str,
    regions: tuple[str, ...],
    home_region: str,
    datasets: Iterable[str],
    workers: int = 8,
    progress: Callable[[str], None] | None = None,
    regions_enabled: tuple[str, ...] | None = None,
    parts: Mapping[str, frozenset[str] | None] | None = None,
) -> AccountSnapshot:
    """Read every needed dataset once: global ones in the home region, regional ones per region.

    `parts`: per dataset of `DATASET_PARTS`, the parts to read (missing or None: all). A dataset
    another one reuses (`Dataset.after`) is collected too, and submitted first: the pool starts
    tasks in submission order, so a collector waiting for an earlier one never waits for a task
    that has not started (no deadlock however few workers)."""
    snap = AccountSnapshot(account=account, regions=regions, home_region=home_region, regions_enabled=regions_enabled)
    snap.regional = {r: {} for r in regions}
    wanted = with_dependencies(datasets)
    chosen = dict(parts or {})
    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aws-collect") as pool,
        ThreadPoolExecutor(max_workers=DETAIL_WORKERS, thread_name_prefix="aws-detail") as detail_pool,
    ):
        submitted: dict[tuple[str, str | None], Future[Any]] = {}

        def result_of(name: str, region: str | None) -> Any:
            return submitted[(name, region)].result()

        futures: list[tuple[Dataset, str | None, Future[Any]]] = []
        for ds in wanted:
            for where in [None] if ds.scope is Scope.ACCOUNT else list(regions):
                fetch = Fetch(
                    clients, where or home_region, account, detail_pool, chosen.get(ds.name), result_of, regions
                )
                fut = pool.submit(run_collector, ds, fetch)
                submitted[(ds.name, where)] = fut
                futures.append((ds, where, fut))
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
