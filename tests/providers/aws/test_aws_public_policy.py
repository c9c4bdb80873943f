"""One rule for "a resource policy is public" across services (checks/common.py `public_statements`).

An Allow to any principal is public unless a condition names the callers (account, organisation,
source ARN, VPC endpoint, network); a condition that does not (aws:SecureTransport) leaves it
public. The same policies on an S3 bucket, an ECR repository and a Lambda function get the same
verdict, read from moto through the real collectors.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from auditor.config import Thresholds
from auditor.providers.aws import AwsProvider
from auditor.providers.aws.collect import collect_account
from auditor.providers.aws.session import ClientFactory

ACCOUNT = "123456789012"
REGION = "eu-west-1"
MOTO_ENV_OVERRIDES = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}
CHECK_IDS = ("aws.s3.bucket_no_public_policy", "aws.ecr.repository_not_public", "aws.lambda.policy_not_public")

# name -> (condition of the Allow-to-everyone statement, public?)
CASES: dict[str, tuple[dict[str, Any] | None, bool]] = {
    "open": (None, True),
    "tls-only": ({"Bool": {"aws:SecureTransport": "true"}}, True),
    "org": ({"StringEquals": {"aws:PrincipalOrgID": "o-abc123def45"}}, False),
    "vpce": ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c"}}, False),
    "not-account": ({"StringNotEquals": {"aws:SourceAccount": ACCOUNT}}, True),
}


def statement(action: str, resource: str, condition: dict[str, Any] | None) -> dict[str, Any]:
    st: dict[str, Any] = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": action}
    if resource:
        st["Resource"] = resource
    if condition:
        st["Condition"] = condition
    return st


def seed() -> dict[str, str]:
    """Resource id -> case name, for each service."""
    s3 = boto3.client("s3", region_name=REGION)
    ecr = boto3.client("ecr", region_name=REGION)
    lam = boto3.client("lambda", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="fn-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ]
            }
        ),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    ids: dict[str, str] = {}
    for name, (condition, _) in CASES.items():
        bucket = f"acme-policy-{name}"
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_policy(
            Bucket=bucket,
            Policy=json.dumps({"Statement": [statement("s3:GetObject", f"arn:aws:s3:::{bucket}/*", condition)]}),
        )
        ids[f"arn:aws:s3:::{bucket}"] = name
        repo = ecr.create_repository(repositoryName=f"policy-{name}")["repository"]
        ecr.set_repository_policy(
            repositoryName=f"policy-{name}",
            policyText=json.dumps(
                {"Version": "2012-10-17", "Statement": [statement("ecr:BatchGetImage", "", condition)]}
            ),
        )
        ids[repo["repositoryArn"]] = name
        fn = lam.create_function(
            FunctionName=f"policy-{name}",
            Runtime="python3.12",
            Role=role,
            Handler="index.handler",
            Code={"ZipFile": code.getvalue()},
        )
        perm: dict[str, Any] = {
            "FunctionName": f"policy-{name}",
            "StatementId": "Everyone",
            "Action": "lambda:InvokeFunction",
            "Principal": "*",
        }
        if name == "org":
            perm["PrincipalOrgID"] = "o-abc123def45"
        elif condition is not None:
            continue  # add_permission cannot express the other conditions: those functions keep no policy
        lam.add_permission(**perm)
        ids[fn["FunctionArn"]] = name
    return ids


@pytest.fixture(scope="module")
def verdicts(mocked: Any) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    ids = seed()
    provider = AwsProvider(checks=[c for c in AwsProvider().aws_checks() if c.info.id in CHECK_IDS])
    needed = {n for c in provider.aws_checks() for n in c.needs}
    snap = collect_account(ClientFactory(boto3.Session()), ACCOUNT, (REGION,), REGION, needed)
    findings = provider.evaluate(snap, datetime.now(UTC), Thresholds(), (REGION,))
    return ids, {(f.check_id, f.resource.id, str(f.status)) for f in findings if f.resource.id in ids}


def test_the_same_policy_gets_the_same_verdict_on_every_service(
    verdicts: tuple[dict[str, str], set[tuple[str, str, str]]],
) -> None:
    ids, got = verdicts
    service_of = {"s3": CHECK_IDS[0], "ecr": CHECK_IDS[1], "lambda": CHECK_IDS[2]}
    expected = {
        (service_of[rid.split(":")[2]], rid, "FAIL" if CASES[name][1] else "PASS") for rid, name in ids.items()
    }
    assert got == expected
    # every case on S3 and ECR, the open and organisation-bound ones on Lambda
    assert len(expected) == 2 * len(CASES) + 2
