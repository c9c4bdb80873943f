"""Each bucket's region comes from ListBuckets (the entry's `BucketRegion`, or ListBuckets filtered by
region) instead of one GetBucketLocation per bucket; an endpoint that ignores the filter or refuses it
is caught, and every bucket is then asked its location as before. Never a guessed region."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from auditor.providers.aws import collect
from auditor.providers.aws.collect import collect_account
from auditor.providers.aws.session import ClientFactory

MOTO_ENV_OVERRIDES = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "false"}
ACCOUNT = "123456789012"
SCANNED = ("eu-west-1", "us-east-1")
# name -> region the bucket is created in (ap-southeast-2 is never scanned)
BUCKETS = {
    "eu-one": "eu-west-1",
    "eu-two": "eu-west-1",
    "eu-three": "eu-west-1",
    "us-one": "us-east-1",
    "us-two": "us-east-1",
    "ap-one": "ap-southeast-2",
}


@pytest.fixture(scope="module")
def estate(mocked: Any) -> Iterator[None]:
    for name, region in BUCKETS.items():
        s3 = boto3.client("s3", region_name=region)
        if region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    yield


def scan_regions(session: boto3.Session, regions: tuple[str, ...] = SCANNED) -> tuple[dict[str, Any], Counter[str]]:
    """The snapshot's region per bucket, and the S3 calls made (ListBuckets split by filter)."""
    calls: Counter[str] = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.service_model.service_name == "s3":
            filtered = model.name == "ListBuckets" and "bucket-region" in (params.get("query_string") or {})
            calls[f"{model.name}(filtered)" if filtered else model.name] += 1

    session.events.register("before-call", count)
    # Only the location (always read) matters here: no other bucket part is selected.
    snap = collect_account(ClientFactory(session), ACCOUNT, regions, regions[0], ["s3"], parts={"s3": frozenset()})
    return {b["name"]: b["region"] for b in snap.get("s3")["buckets"]}, calls


def test_the_filtered_lists_place_the_scanned_regions_buckets_and_only_the_others_are_asked(
    estate: None,
) -> None:
    regions, calls = scan_regions(boto3.Session())
    assert regions == BUCKETS
    assert calls == {"ListBuckets": 1, "ListBuckets(filtered)": 2, "GetBucketLocation": 1}  # ap-one only


def test_one_scanned_region_adds_a_control_region(estate: None) -> None:
    regions, calls = scan_regions(boto3.Session(), ("eu-west-1",))
    assert regions == BUCKETS
    # eu-west-1 and the control region us-east-1 are listed; only ap-one is asked.
    assert calls == {"ListBuckets": 1, "ListBuckets(filtered)": 2, "GetBucketLocation": 1}


@pytest.mark.parametrize("scanned", [SCANNED, ("eu-west-1",)])
def test_an_endpoint_that_ignores_the_filter_is_caught_and_every_bucket_is_asked(
    estate: None, scanned: tuple[str, ...]
) -> None:
    session = boto3.Session()

    def drop_filter(params: dict[str, Any], **_: Any) -> None:
        params.pop("BucketRegion", None)  # as an S3-compatible store that does not know the parameter

    session.events.register("before-parameter-build.s3.ListBuckets", drop_filter)
    regions, calls = scan_regions(session, scanned)
    assert regions == BUCKETS
    assert calls["GetBucketLocation"] == len(BUCKETS)


def test_a_refused_filtered_list_falls_back_to_asking_every_bucket(estate: None) -> None:
    session = boto3.Session()

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if "BucketRegion" in params:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ListBuckets")

    session.events.register("before-parameter-build.s3.ListBuckets", refuse)
    regions, calls = scan_regions(session)
    assert regions == BUCKETS
    assert calls["GetBucketLocation"] == len(BUCKETS)


def test_entries_that_name_their_region_need_no_other_call(estate: None) -> None:
    session = boto3.Session()

    def name_regions(parsed: dict[str, Any], **_: Any) -> None:
        # AWS names each entry's region when the request has a parameter; moto does not, so add it.
        for b in parsed.get("Buckets") or []:
            b["BucketRegion"] = BUCKETS[b["Name"]]

    session.events.register("after-call.s3.ListBuckets", name_regions)
    regions, calls = scan_regions(session)
    assert regions == BUCKETS
    assert calls == {"ListBuckets": 1}


def test_when_the_regions_outnumber_the_buckets_each_bucket_is_asked(estate: None) -> None:
    regions = ("eu-west-1", "us-east-1", "eu-central-1", "eu-west-2", "eu-west-3", "eu-north-1", "us-west-2")
    assert len(regions) > len(BUCKETS)
    got, calls = scan_regions(boto3.Session(), regions)
    assert got == BUCKETS
    assert calls == {"ListBuckets": 1, "GetBucketLocation": len(BUCKETS)}


def test_an_endpoint_that_caps_pages_without_a_token_loses_no_bucket(
    estate: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto answers MaxBuckets with the first N buckets and no continuation token.
    monkeypatch.setattr(collect, "LIST_BUCKETS_PAGE", 2)
    regions, calls = scan_regions(boto3.Session())
    assert regions == BUCKETS
    assert calls["ListBuckets"] == 2  # the capped page, then the whole list


def test_every_page_of_a_paginated_listing_is_read(estate: None) -> None:
    session = boto3.Session()
    names = sorted(BUCKETS)
    served: list[int] = []

    # ListBuckets answered as AWS does above its page size: two buckets a page, a token to the next.
    def answer(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        query = params.get("query_string") or {}
        if "bucket-region" in query:
            return None
        start = int(query.get("continuation-token") or 0)
        served.append(start)
        page: dict[str, Any] = {"Buckets": [{"Name": n, "BucketRegion": BUCKETS[n]} for n in names[start : start + 2]]}
        if start + 2 < len(names):
            page["ContinuationToken"] = str(start + 2)
        page["ResponseMetadata"] = {"HTTPStatusCode": 200}
        return AWSResponse("https://stub.invalid/", 200, {}, None), page

    session.events.register("before-call.s3.ListBuckets", answer)
    regions, calls = scan_regions(session)
    assert regions == BUCKETS
    assert served == [0, 2, 4]  # three pages of two, each asked once
    assert calls == {}  # every entry names its region: no filtered list, no location call


def test_an_endpoint_that_refuses_the_page_size_is_asked_the_plain_list(estate: None) -> None:
    session = boto3.Session()

    def refuse_page_size(params: dict[str, Any], **_: Any) -> None:
        if "MaxBuckets" in params:
            raise ClientError({"Error": {"Code": "InvalidArgument", "Message": "max-buckets"}}, "ListBuckets")

    session.events.register("before-parameter-build.s3.ListBuckets", refuse_page_size)
    regions, calls = scan_regions(session)
    assert regions == BUCKETS
    # the plain list, then the region filter as usual (it has no page size)
    assert calls == {"ListBuckets": 1, "ListBuckets(filtered)": 2, "GetBucketLocation": 1}
