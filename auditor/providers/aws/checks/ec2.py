"""EC2 and VPC: open security groups, default SG, EBS encryption, IMDSv2, public snapshots/AMIs, flow logs.

Each check reads the part of the `ec2` dataset it needs (`CheckInput.part`): a denied
DescribeFlowLogs errors the flow-log check only, not the security-group checks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import PUBLIC_CIDRS
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import AwsCheck, CheckInput, Outcome, Scope, info, verdict

SG = "AWS::EC2::SecurityGroup"


def arn(inp: CheckInput, kind: str, rid: str, with_account: bool = True) -> str:
    return f"arn:aws:ec2:{inp.region}:{inp.account if with_account else ''}:{kind}/{rid}"


def world_sources(perm: dict[str, Any]) -> list[str]:
    v4 = [r.get("CidrIp") for r in perm.get("IpRanges") or []]
    v6 = [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges") or []]
    return sorted({c for c in v4 + v6 if c in PUBLIC_CIDRS})


def covers(perm: dict[str, Any], port: int | None) -> bool:
    """Whether a rule opens `port` (None: every port) for TCP."""
    proto = str(perm.get("IpProtocol"))
    if proto in ("-1", "all"):
        return True
    if proto not in ("tcp", "6"):
        return False
    lo, hi = perm.get("FromPort"), perm.get("ToPort")
    if lo is None or hi is None:
        return True
    if port is None:
        return int(lo) <= 0 and int(hi) >= 65535
    return int(lo) <= port <= int(hi)


def open_sg_check(port: int | None, label: str) -> Callable[[CheckInput], Iterator[Outcome]]:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        for sg in inp.part("ec2", "security_groups"):
            hits = sorted({src for p in sg.get("IpPermissions") or [] if covers(p, port) for src in world_sources(p)})
            ev = {"group_id": sg["GroupId"], "group_name": sg.get("GroupName"), "open_to": hits, "port": label}
            msg = (
                f"security group {sg['GroupId']} does not open {label} to the internet"
                if not hits
                else f"security group {sg['GroupId']} opens {label} to {', '.join(hits)} "
                "(expected: no internet ingress)"
            )
            yield verdict(not hits, arn(inp, "security-group", sg["GroupId"]), SG, msg, ev, inp.region)

    return check


def check_default_sg(inp: CheckInput) -> Iterator[Outcome]:
    for sg in inp.part("ec2", "security_groups"):
        if sg.get("GroupName") != "default":
            continue
        ingress = len(sg.get("IpPermissions") or [])
        egress = len(sg.get("IpPermissionsEgress") or [])
        ok = ingress == 0 and egress == 0
        msg = (
            f"default security group {sg['GroupId']} of {sg.get('VpcId')} has no rules"
            if ok
            else f"default security group {sg['GroupId']} of {sg.get('VpcId')} has {ingress} ingress and {egress} "
            "egress rules (expected: none)"
        )
        ev = {"vpc_id": sg.get("VpcId"), "ingress_rules": ingress, "egress_rules": egress}
        yield verdict(ok, arn(inp, "security-group", sg["GroupId"]), SG, msg, ev, inp.region)


def check_ebs_default(inp: CheckInput) -> Iterator[Outcome]:
    on = bool(inp.part("ec2", "ebs_encryption_by_default"))
    msg = f"EBS encryption by default is {'on' if on else 'off'} in {inp.region}" + ("" if on else " (expected: on)")
    yield verdict(
        on,
        f"arn:aws:ec2:{inp.region}:{inp.account}:ebs-default-encryption",
        "AWS::EC2::EBSDefaults",
        msg,
        {"EbsEncryptionByDefault": on},
        inp.region,
    )


def check_volume_encrypted(inp: CheckInput) -> Iterator[Outcome]:
    for v in inp.part("ec2", "volumes"):
        ok = bool(v.get("Encrypted"))
        msg = f"volume {v['VolumeId']} is {'encrypted' if ok else 'not encrypted (expected: encrypted)'}"
        yield verdict(
            ok,
            arn(inp, "volume", v["VolumeId"]),
            "AWS::EC2::Volume",
            msg,
            {"encrypted": ok, "kms_key_id": v.get("KmsKeyId")},
            inp.region,
        )


def check_imdsv2(inp: CheckInput) -> Iterator[Outcome]:
    for i in inp.part("ec2", "instances"):
        if (i.get("State") or {}).get("Name") in ("terminated", "shutting-down"):
            continue
        tokens = (i.get("MetadataOptions") or {}).get("HttpTokens")
        endpoint = (i.get("MetadataOptions") or {}).get("HttpEndpoint", "enabled")
        ok = tokens == "required" or endpoint == "disabled"
        msg = f"instance {i['InstanceId']} metadata HttpTokens is {tokens}" + ("" if ok else " (expected: required)")
        yield verdict(
            ok,
            arn(inp, "instance", i["InstanceId"]),
            "AWS::EC2::Instance",
            msg,
            {"http_tokens": tokens, "http_endpoint": endpoint},
            inp.region,
        )


def snapshots(inp: CheckInput) -> list[dict[str, Any]]:
    """Every snapshot the account owns, each with its ARN."""
    return [
        {**s, "arn": arn(inp, "snapshot", s["SnapshotId"], with_account=False)} for s in inp.part("ec2", "snapshots")
    ]


def judge_public_snapshot(inp: CheckInput, s: dict[str, Any]) -> Outcome:
    public = any(p.get("Group") == "all" for p in s["create_volume_permissions"])
    msg = f"snapshot {s['SnapshotId']} is {'public (expected: private)' if public else 'private'}"
    ev = {"public": public, "encrypted": s.get("Encrypted")}
    return verdict(not public, s["arn"], "AWS::EC2::Snapshot", msg, ev, inp.region)


# DescribeSnapshotAttribute always answers a list of permissions: a snapshot whose answer could not be
# read, is missing or is not a list is ERROR naming the field and code, never "private".
check_public_snapshots = per_resource(
    snapshots, lambda s: str(s["arn"]), "AWS::EC2::Snapshot", lambda s: f"snapshot {s['SnapshotId']}",
    ("create_volume_permissions",), judge_public_snapshot, {"create_volume_permissions": list},
    required=("create_volume_permissions",),
)  # fmt: skip


def check_public_amis(inp: CheckInput) -> Iterator[Outcome]:
    for img in inp.part("ec2", "images"):
        public = bool(img.get("Public"))
        msg = f"AMI {img['ImageId']} is {'public (expected: private)' if public else 'private'}"
        yield verdict(
            not public,
            arn(inp, "image", img["ImageId"], with_account=False),
            "AWS::EC2::Image",
            msg,
            {"public": public, "name": img.get("Name")},
            inp.region,
        )


def check_flow_logs(inp: CheckInput) -> Iterator[Outcome]:
    logged: dict[str, list[str]] = {}
    for fl in inp.part("ec2", "flow_logs"):
        if fl.get("FlowLogStatus", "ACTIVE") == "ACTIVE":
            logged.setdefault(fl.get("ResourceId", ""), []).append(str(fl.get("FlowLogId")))
    for vpc in inp.part("ec2", "vpcs"):
        ids = logged.get(vpc["VpcId"], [])
        msg = f"VPC {vpc['VpcId']} " + ("has flow logs" if ids else "has no active flow log (expected: one)")
        yield verdict(
            bool(ids),
            arn(inp, "vpc", vpc["VpcId"]),
            "AWS::EC2::VPC",
            msg,
            {"flow_logs": ids, "is_default": vpc.get("IsDefault")},
            inp.region,
        )


def _c(name: str, title: str, sev: Severity, rtype: str, risk: str, fix: str, fn: Any) -> AwsCheck:
    return AwsCheck(info(f"aws.ec2.{name}", title, sev, rtype, risk, fix), ("ec2",), Scope.REGION, fn)


CHECKS: list[AwsCheck] = [
    _c(
        "sg_ssh_open_to_internet",
        "Security groups do not open SSH (22) to the internet",
        Severity.HIGH,
        SG,
        "SSH open to 0.0.0.0/0 or ::/0 invites brute force and exploitation of the SSH daemon.",
        "Restrict port 22 to known addresses or use SSM Session Manager.",
        open_sg_check(22, "port 22"),
    ),
    _c(
        "sg_rdp_open_to_internet",
        "Security groups do not open RDP (3389) to the internet",
        Severity.HIGH,
        SG,
        "RDP exposed to the internet is a leading ransomware entry point.",
        "Restrict port 3389 to known addresses or a bastion/VPN.",
        open_sg_check(3389, "port 3389"),
    ),
    _c(
        "sg_all_ports_open_to_internet",
        "Security groups do not open all ports to the internet",
        Severity.CRITICAL,
        SG,
        "Every listening service becomes reachable from anywhere.",
        "Replace all-traffic rules from 0.0.0.0/0 or ::/0 with the specific ports needed.",
        open_sg_check(None, "all ports"),
    ),
    _c(
        "default_sg_closed",
        "Default security groups allow no traffic",
        Severity.MEDIUM,
        SG,
        "Resources launched without an explicit group land in the default group and inherit its rules.",
        "Remove every ingress and egress rule from each VPC's default security group.",
        check_default_sg,
    ),
    _c(
        "ebs_default_encryption",
        "EBS encryption by default is on",
        Severity.MEDIUM,
        "AWS::EC2::EBSDefaults",
        "New volumes and snapshots are created unencrypted unless every launch remembers to ask.",
        "Enable EBS encryption by default in every region (EC2 > Settings > Data protection).",
        check_ebs_default,
    ),
    _c(
        "volume_encrypted",
        "EBS volumes are encrypted",
        Severity.MEDIUM,
        "AWS::EC2::Volume",
        "Unencrypted volumes and their snapshots expose data at rest.",
        "Snapshot the volume, copy the snapshot with encryption, and replace the volume.",
        check_volume_encrypted,
    ),
    _c(
        "instance_imdsv2_required",
        "Instances require IMDSv2",
        Severity.HIGH,
        "AWS::EC2::Instance",
        "IMDSv1 lets SSRF bugs steal the instance role's credentials.",
        "Set HttpTokens=required on every instance (modify-instance-metadata-options) and in launch templates.",
        check_imdsv2,
    ),
    _c(
        "snapshot_not_public",
        "EBS snapshots are not public",
        Severity.CRITICAL,
        "AWS::EC2::Snapshot",
        "A public snapshot lets anyone restore the disk and read its data.",
        "Remove the 'all' group from the snapshot's createVolumePermission.",
        check_public_snapshots,
    ),
    _c(
        "ami_not_public",
        "AMIs are not public",
        Severity.HIGH,
        "AWS::EC2::Image",
        "A public AMI can leak embedded credentials, keys and data.",
        "Make the AMI private (remove launch permission for 'all').",
        check_public_amis,
    ),
    _c(
        "vpc_flow_logs_enabled",
        "VPCs have flow logs",
        Severity.MEDIUM,
        "AWS::EC2::VPC",
        "Without flow logs there is no record of network traffic for investigations.",
        "Create a flow log for each VPC to CloudWatch Logs or S3.",
        check_flow_logs,
    ),
]
