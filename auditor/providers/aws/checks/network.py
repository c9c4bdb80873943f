"""EC2 and VPC networking: network ACLs, security groups by port family, unused groups,
peering routes, instance exposure, subnets, snapshot encryption.

Network ACL rules are judged the way AWS applies them: ingress entries in rule-number
order, the first entry that matches the traffic decides. A port is "open to the
internet" when, for 0.0.0.0/0 (or ::/0), the first matching entry for that port allows it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.common import PUBLIC_CIDRS
from auditor.providers.aws.checks.ec2 import arn, covers, world_sources
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import AwsCheck, CheckInput, Outcome, Scope, errored, info, verdict

NACL = "AWS::EC2::NetworkAcl"
SG = "AWS::EC2::SecurityGroup"
INSTANCE = "AWS::EC2::Instance"
ROUTE_TABLE = "AWS::EC2::RouteTable"
TEMPLATE = "AWS::EC2::LaunchTemplate"

# Databases, caches and search engines that should never face the internet.
DB_PORTS: dict[int, str] = {
    1433: "SQL Server",
    1521: "Oracle",
    3306: "MySQL",
    5432: "PostgreSQL",
    6379: "Redis",
    7000: "Cassandra",
    9042: "Cassandra",
    9200: "Elasticsearch",
    9300: "Elasticsearch",
    11211: "Memcached",
    27017: "MongoDB",
}
# Remote administration and file sharing besides SSH and RDP.
ADMIN_PORTS: dict[int, str] = {
    20: "FTP data",
    21: "FTP",
    23: "Telnet",
    135: "MS RPC",
    139: "NetBIOS",
    445: "SMB",
    5900: "VNC",
    5985: "WinRM",
    5986: "WinRM",
}
CIS_ADMIN_PORTS: dict[int, str] = {22: "SSH", 3389: "RDP"}


# --- network ACLs ----------------------------------------------------------------------


def nacl_entry_covers(entry: dict[str, Any], port: int | None) -> bool:
    """Whether an entry matches TCP traffic to `port` (None: an entry matching every port)."""
    proto = str(entry.get("Protocol"))
    if proto in ("-1", "all"):
        return True
    if proto not in ("6", "tcp"):
        return False
    rng = entry.get("PortRange")
    if not rng:
        return True
    lo, hi = int(rng.get("From", 0)), int(rng.get("To", 65535))
    if port is None:
        return lo <= 0 and hi >= 65535
    return lo <= port <= hi


def nacl_open_to(acl: dict[str, Any], port: int | None) -> list[str]:
    """The internet CIDRs for which the first matching ingress entry allows `port`."""
    entries = sorted(
        (e for e in acl.get("Entries") or [] if not e.get("Egress")), key=lambda e: int(e.get("RuleNumber", 0))
    )
    out: list[str] = []
    for world in PUBLIC_CIDRS:
        for e in entries:
            if (e.get("CidrBlock") or e.get("Ipv6CidrBlock")) != world:
                continue
            if port is None and str(e.get("Protocol")) not in ("-1", "all") and not nacl_entry_covers(e, None):
                # a narrower entry (deny 22 or allow 443) does not decide whether *every* port is open
                continue
            if nacl_entry_covers(e, port):
                if e.get("RuleAction") == "allow":
                    out.append(world)
                break
    return out


def nacl_check(ports: dict[int, str] | None, label: str) -> Callable[[CheckInput], Iterator[Outcome]]:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        for acl in inp.part("vpc", "network_acls"):
            acl_id = acl["NetworkAclId"]
            hits: dict[str, list[str]] = {}
            wanted: list[int | None] = list(ports) if ports else [None]
            for port in wanted:
                for world in nacl_open_to(acl, port):
                    hits.setdefault("all ports" if port is None else str(port), []).append(world)
            ev = {
                "network_acl_id": acl_id,
                "vpc_id": acl.get("VpcId"),
                "is_default": acl.get("IsDefault"),
                "ports": label,
                "open": hits,
                "subnets": sorted(a.get("SubnetId", "") for a in acl.get("Associations") or []),
            }
            if hits:
                opened = "; ".join(f"{p} from {', '.join(w)}" for p, w in sorted(hits.items()))
                msg = f"network ACL {acl_id} of {acl.get('VpcId')} allows ingress to {opened} (expected: denied)"
            else:
                msg = f"network ACL {acl_id} of {acl.get('VpcId')} does not allow internet ingress to {label}"
            yield verdict(not hits, arn(inp, "network-acl", acl_id), NACL, msg, ev, inp.region)

    return check


def check_nacl_unused(inp: CheckInput) -> Iterator[Outcome]:
    for acl in inp.part("vpc", "network_acls"):
        if acl.get("IsDefault"):
            continue  # a VPC's default ACL cannot be deleted
        subnets = sorted(a.get("SubnetId", "") for a in acl.get("Associations") or [])
        acl_id = acl["NetworkAclId"]
        msg = (
            f"network ACL {acl_id} of {acl.get('VpcId')} is associated with {len(subnets)} subnet(s)"
            if subnets
            else f"network ACL {acl_id} of {acl.get('VpcId')} is associated with no subnet "
            "(expected: in use, or deleted)"
        )
        ev = {"network_acl_id": acl_id, "subnets": subnets}
        yield verdict(bool(subnets), arn(inp, "network-acl", acl_id), NACL, msg, ev, inp.region)


# --- security groups -------------------------------------------------------------------


def sg_ports_check(
    ports: dict[int, str], sources: tuple[str, ...], label: str
) -> Callable[[CheckInput], Iterator[Outcome]]:
    """One outcome per group: which of `ports` it opens to which of `sources` (internet CIDRs)."""

    def check(inp: CheckInput) -> Iterator[Outcome]:
        for sg in inp.part("ec2", "security_groups"):
            hits: dict[int, set[str]] = {}
            for perm in sg.get("IpPermissions") or []:
                worlds = [w for w in world_sources(perm) if w in sources]
                if not worlds:
                    continue
                for port in ports:
                    if covers(perm, port):
                        hits.setdefault(port, set()).update(worlds)
            open_ports = {f"{p} ({ports[p]})": sorted(w) for p, w in sorted(hits.items())}
            ev = {"group_id": sg["GroupId"], "group_name": sg.get("GroupName"), "open": open_ports, "ports": label}
            if hits:
                msg = (
                    f"security group {sg['GroupId']} opens {', '.join(open_ports)} to the internet "
                    f"(expected: no internet ingress to {label})"
                )
            else:
                msg = f"security group {sg['GroupId']} does not open {label} to the internet"
            yield verdict(not hits, arn(inp, "security-group", sg["GroupId"]), SG, msg, ev, inp.region)

    return check


def check_sg_unused(inp: CheckInput) -> Iterator[Outcome]:
    used: dict[str, int] = {}
    for eni in inp.part("vpc", "network_interfaces"):
        for g in eni.get("Groups") or []:
            used[g.get("GroupId", "")] = used.get(g.get("GroupId", ""), 0) + 1
    for sg in inp.part("ec2", "security_groups"):
        if sg.get("GroupName") == "default":
            continue  # a VPC's default group cannot be deleted (aws.ec2.default_sg_closed judges it)
        n = used.get(sg["GroupId"], 0)
        msg = (
            f"security group {sg['GroupId']} ({sg.get('GroupName')}) is attached to {n} network interface(s)"
            if n
            else f"security group {sg['GroupId']} ({sg.get('GroupName')}) is attached to no network interface "
            "(expected: in use, or deleted)"
        )
        ev = {"group_id": sg["GroupId"], "group_name": sg.get("GroupName"), "network_interfaces": n}
        yield verdict(bool(n), arn(inp, "security-group", sg["GroupId"]), SG, msg, ev, inp.region)


# --- peering routes --------------------------------------------------------------------


def peer_cidrs(pcx: dict[str, Any], own_vpc: str | None) -> list[str]:
    """The CIDR blocks of the other side of a peering connection, seen from `own_vpc`."""
    req, acc = pcx.get("RequesterVpcInfo") or {}, pcx.get("AccepterVpcInfo") or {}
    other = acc if req.get("VpcId") == own_vpc else req
    cidrs = {c.get("CidrBlock") for c in other.get("CidrBlockSet") or []} | {other.get("CidrBlock")}
    cidrs |= {c.get("Ipv6CidrBlock") for c in other.get("Ipv6CidrBlockSet") or []}
    return sorted(c for c in cidrs if c)


def too_wide(destination: str, peers: list[str]) -> bool:
    """A destination that is the internet, or the whole of a peer CIDR block (or wider)."""
    dest = ipaddress.ip_network(destination, strict=False)
    if dest.prefixlen == 0:
        return True
    for p in peers:
        peer = ipaddress.ip_network(p, strict=False)
        if peer.version == dest.version and peer.subnet_of(dest):  # type: ignore[arg-type]
            return True
    return False


def check_peering_routes(inp: CheckInput) -> Iterator[Outcome]:
    pcxs = {p["VpcPeeringConnectionId"]: p for p in inp.part("vpc", "peering_connections")}
    for rt in inp.part("vpc", "route_tables"):
        rid = arn(inp, "route-table", rt["RouteTableId"])
        routes = [r for r in rt.get("Routes") or [] if r.get("VpcPeeringConnectionId")]
        if not routes:
            continue
        wide: list[str] = []
        unknown: list[str] = []
        judged: list[dict[str, Any]] = []
        for r in routes:
            dest = r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock") or ""
            pcx_id = r["VpcPeeringConnectionId"]
            pcx = pcxs.get(pcx_id)
            peers = peer_cidrs(pcx, rt.get("VpcId")) if pcx else []
            judged.append({"destination": dest, "peering_connection": pcx_id, "peer_cidrs": peers})
            if not dest:
                continue
            if too_wide(dest, peers):
                wide.append(f"{dest} via {pcx_id}")
            elif pcx is None:
                unknown.append(pcx_id)
        ev = {"route_table_id": rt["RouteTableId"], "vpc_id": rt.get("VpcId"), "peering_routes": judged}
        if wide:
            msg = (
                f"route table {rt['RouteTableId']} routes {', '.join(wide)}: the whole peer network or wider "
                "(expected: only the subnets that must be reached)"
            )
            yield verdict(False, rid, ROUTE_TABLE, msg, ev, inp.region)
        elif unknown:
            msg = (
                f"route table {rt['RouteTableId']}: peering connection(s) {', '.join(sorted(set(unknown)))} "
                "not found in this region, so the peer network is unknown"
            )
            yield errored(rid, ROUTE_TABLE, msg, ev, inp.region)
        else:
            msg = f"route table {rt['RouteTableId']} routes only parts of the peer networks"
            yield verdict(True, rid, ROUTE_TABLE, msg, ev, inp.region)


# --- instances, subnets, snapshots -------------------------------------------------------


def live_instances(inp: CheckInput) -> list[dict[str, Any]]:
    return [
        i
        for i in inp.part("ec2", "instances")
        if (i.get("State") or {}).get("Name") not in ("terminated", "shutting-down")
    ]


def check_instance_public_ip(inp: CheckInput) -> Iterator[Outcome]:
    for i in live_instances(inp):
        ip = i.get("PublicIpAddress")
        msg = (
            f"instance {i['InstanceId']} has public IP address {ip} (expected: none; reach it through a load "
            "balancer or Session Manager)"
            if ip
            else f"instance {i['InstanceId']} has no public IP address"
        )
        ev = {"public_ip": ip, "subnet_id": i.get("SubnetId"), "vpc_id": i.get("VpcId")}
        yield verdict(not ip, arn(inp, "instance", i["InstanceId"]), INSTANCE, msg, ev, inp.region)


def check_instance_default_vpc(inp: CheckInput) -> Iterator[Outcome]:
    defaults = {v["VpcId"] for v in inp.part("ec2", "vpcs") if v.get("IsDefault")}
    for i in live_instances(inp):
        vpc = i.get("VpcId")
        bad = vpc in defaults
        msg = (
            f"instance {i['InstanceId']} runs in the default VPC {vpc} (expected: a purpose-built VPC)"
            if bad
            else f"instance {i['InstanceId']} runs in VPC {vpc}, not a default VPC"
        )
        ev = {"vpc_id": vpc, "default_vpc": bad}
        yield verdict(not bad, arn(inp, "instance", i["InstanceId"]), INSTANCE, msg, ev, inp.region)


def check_instance_profile(inp: CheckInput) -> Iterator[Outcome]:
    for i in live_instances(inp):
        profile = (i.get("IamInstanceProfile") or {}).get("Arn")
        msg = (
            f"instance {i['InstanceId']} uses instance profile {profile}"
            if profile
            else f"instance {i['InstanceId']} has no instance profile (expected: a role, not keys stored on the host)"
        )
        ev = {"instance_profile": profile}
        yield verdict(bool(profile), arn(inp, "instance", i["InstanceId"]), INSTANCE, msg, ev, inp.region)


def check_subnet_auto_public_ip(inp: CheckInput) -> Iterator[Outcome]:
    for s in inp.part("vpc", "subnets"):
        on = bool(s.get("MapPublicIpOnLaunch"))
        msg = (
            f"subnet {s['SubnetId']} of {s.get('VpcId')} gives every instance a public IP address "
            "(expected: MapPublicIpOnLaunch off)"
            if on
            else f"subnet {s['SubnetId']} of {s.get('VpcId')} does not assign public IP addresses"
        )
        ev = {"MapPublicIpOnLaunch": on, "vpc_id": s.get("VpcId"), "default_for_az": s.get("DefaultForAz")}
        yield verdict(not on, arn(inp, "subnet", s["SubnetId"]), "AWS::EC2::Subnet", msg, ev, inp.region)


def check_vpc_multi_az(inp: CheckInput) -> Iterator[Outcome]:
    zones: dict[str, set[str]] = {}
    for s in inp.part("vpc", "subnets"):
        zones.setdefault(str(s.get("VpcId")), set()).add(str(s.get("AvailabilityZone")))
    for vpc in inp.part("ec2", "vpcs"):
        azs = sorted(zones.get(vpc["VpcId"], set()))
        if not azs:
            continue  # no subnet: nothing can run in it
        ok = len(azs) > 1
        msg = f"VPC {vpc['VpcId']} has subnets in {len(azs)} availability zone(s)" + (
            "" if ok else " (expected: at least two)"
        )
        yield verdict(ok, arn(inp, "vpc", vpc["VpcId"]), "AWS::EC2::VPC", msg, {"availability_zones": azs}, inp.region)


def check_snapshot_encrypted(inp: CheckInput) -> Iterator[Outcome]:
    for s in inp.part("ec2", "snapshots"):
        ok = bool(s.get("Encrypted"))
        msg = f"snapshot {s['SnapshotId']} is {'encrypted' if ok else 'not encrypted (expected: encrypted)'}"
        ev = {"encrypted": ok, "kms_key_id": s.get("KmsKeyId"), "volume_id": s.get("VolumeId")}
        yield verdict(
            ok, arn(inp, "snapshot", s["SnapshotId"], with_account=False), "AWS::EC2::Snapshot", msg, ev, inp.region
        )


def user_data_verdict(inp: CheckInput, rid: str, rtype: str, what: str, found: dict[str, Any]) -> Outcome:
    detectors = list(found.get("detectors") or [])
    keys = list(found.get("keys") or [])
    ev = {"user_data": bool(found.get("present")), "detectors": detectors, "variables": keys}
    if detectors:
        named = f" ({', '.join(keys)})" if keys else ""
        msg = (
            f"{what} user data holds what looks like a secret: {', '.join(detectors)}{named} "
            "(expected: secrets fetched at boot from Secrets Manager or Parameter Store)"
        )
    else:
        msg = f"{what} user data " + ("holds no secret-looking value" if found.get("present") else "is empty")
    return verdict(not detectors, rid, rtype, msg, ev, inp.region)


def instances_user_data(inp: CheckInput) -> list[dict[str, Any]]:
    return [{**i, "arn": arn(inp, "instance", i["id"])} for i in inp.part("ec2_config", "user_data")]


# The user-data scan always yields {present, detectors, keys}: an instance without it was not scanned (ERROR).
check_instance_user_data = per_resource(
    instances_user_data, lambda i: str(i["arn"]), INSTANCE, lambda i: f"instance {i['id']} user data",
    ("user_data",), lambda inp, i: user_data_verdict(inp, i["arn"], INSTANCE, f"instance {i['id']}", i["user_data"]),
    {"user_data": dict}, required=("user_data",),
)  # fmt: skip


def launch_templates(inp: CheckInput) -> list[dict[str, Any]]:
    return [{**t, "arn": arn(inp, "launch-template", t["id"])} for t in inp.part("ec2_config", "launch_templates")]


def template_check(
    judge: Callable[[CheckInput, dict[str, Any]], Outcome],
) -> Callable[[CheckInput], Iterator[Outcome]]:
    """A template whose latest version could not be read (or is not a description) is ERROR naming the code."""
    return per_resource(
        launch_templates, lambda t: str(t["arn"]), TEMPLATE,
        lambda t: f"launch template {t.get('name')} latest version", ("latest",), judge, {"latest": dict},
        required=("latest",),
    )  # fmt: skip


def judge_launch_template_user_data(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    what = f"launch template {t.get('name')} (version {t.get('version')})"
    return user_data_verdict(inp, t["arn"], TEMPLATE, what, t["latest"]["user_data"])


check_launch_template_user_data = template_check(judge_launch_template_user_data)


def judge_launch_template_imdsv2(inp: CheckInput, t: dict[str, Any]) -> Outcome:
    meta = t["latest"].get("metadata_options") or {}
    tokens = meta.get("HttpTokens") or "optional (not set)"
    endpoint = meta.get("HttpEndpoint") or "enabled"
    ok = tokens == "required" or endpoint == "disabled"
    msg = f"launch template {t.get('name')} (version {t.get('version')}) metadata HttpTokens is {tokens}" + (
        "" if ok else " (expected: required)"
    )
    return verdict(ok, t["arn"], TEMPLATE, msg, {"http_tokens": tokens, "http_endpoint": endpoint}, inp.region)


check_launch_template_imdsv2 = template_check(judge_launch_template_imdsv2)


def _c(
    name: str, title: str, sev: Severity, rtype: str, risk: str, fix: str, fn: Any, needs: tuple[str, ...]
) -> AwsCheck:
    return AwsCheck(info(f"aws.ec2.{name}", title, sev, rtype, risk, fix), needs, Scope.REGION, fn)


NACL_FIX = "Add a deny entry for 0.0.0.0/0 and ::/0 on the port ahead of the allow, or narrow the allow to known CIDRs."

CHECKS: list[AwsCheck] = [
    _c(
        "nacl_all_ports_open_to_internet",
        "Network ACLs do not allow internet ingress to all ports",
        Severity.HIGH,
        NACL,
        "A network ACL that allows all traffic from anywhere leaves security groups as the only barrier.",
        NACL_FIX,
        nacl_check(None, "all ports"),
        ("vpc",),
    ),
    _c(
        "nacl_ssh_open_to_internet",
        "Network ACLs do not allow internet ingress to SSH (22)",
        Severity.MEDIUM,
        NACL,
        "SSH reachable from anywhere at the subnet boundary (CIS 5.1).",
        NACL_FIX,
        nacl_check({22: "SSH"}, "port 22"),
        ("vpc",),
    ),
    _c(
        "nacl_rdp_open_to_internet",
        "Network ACLs do not allow internet ingress to RDP (3389)",
        Severity.MEDIUM,
        NACL,
        "RDP reachable from anywhere at the subnet boundary (CIS 5.1).",
        NACL_FIX,
        nacl_check({3389: "RDP"}, "port 3389"),
        ("vpc",),
    ),
    _c(
        "nacl_unused",
        "Network ACLs are associated with a subnet",
        Severity.LOW,
        NACL,
        "Unused network ACLs pile up with stale rules and get associated later by mistake.",
        "Delete network ACLs that no subnet uses.",
        check_nacl_unused,
        ("vpc",),
    ),
    _c(
        "sg_admin_ports_open_ipv4",
        "Security groups do not open SSH or RDP to 0.0.0.0/0",
        Severity.HIGH,
        SG,
        "Remote administration ports open to every IPv4 address (CIS 5.2).",
        "Restrict ports 22 and 3389 to known addresses, or use Session Manager / a bastion.",
        sg_ports_check(CIS_ADMIN_PORTS, ("0.0.0.0/0",), "ports 22 and 3389 from 0.0.0.0/0"),
        ("ec2",),
    ),
    _c(
        "sg_admin_ports_open_ipv6",
        "Security groups do not open SSH or RDP to ::/0",
        Severity.HIGH,
        SG,
        "Remote administration ports open to every IPv6 address (CIS 5.3); IPv6 rules are often forgotten.",
        "Remove ::/0 from the rules for ports 22 and 3389.",
        sg_ports_check(CIS_ADMIN_PORTS, ("::/0",), "ports 22 and 3389 from ::/0"),
        ("ec2",),
    ),
    _c(
        "sg_db_ports_open_to_internet",
        "Security groups do not open database, cache or search ports to the internet",
        Severity.HIGH,
        SG,
        "Databases and caches reachable from anywhere are brute-forced and scraped for data within hours.",
        "Allow database ports only from the application's security group or private CIDRs.",
        sg_ports_check(DB_PORTS, PUBLIC_CIDRS, "database, cache and search ports"),
        ("ec2",),
    ),
    _c(
        "sg_other_admin_ports_open_to_internet",
        "Security groups do not open Telnet, FTP, SMB, VNC, WinRM or RPC to the internet",
        Severity.HIGH,
        SG,
        "Clear-text and file-sharing admin protocols exposed to the internet are routinely exploited.",
        "Close these ports to 0.0.0.0/0 and ::/0; use a VPN or Session Manager.",
        sg_ports_check(ADMIN_PORTS, PUBLIC_CIDRS, "Telnet, FTP, SMB, VNC, WinRM and RPC ports"),
        ("ec2",),
    ),
    _c(
        "sg_unused",
        "Security groups are attached to a network interface",
        Severity.LOW,
        SG,
        "Unused groups pile up with stale rules and get attached later by mistake.",
        "Delete security groups that no network interface uses.",
        check_sg_unused,
        ("ec2", "vpc"),
    ),
    _c(
        "vpc_peering_routes_least_access",
        "Routes to VPC peering connections cover only what must be reached",
        Severity.MEDIUM,
        ROUTE_TABLE,
        "A route to the whole peer VPC (or 0.0.0.0/0) exposes every peer subnet (CIS 5.5).",
        "Replace the route with routes to the specific peer subnets needed.",
        check_peering_routes,
        ("vpc",),
    ),
    _c(
        "instance_no_public_ip",
        "Instances have no public IP address",
        Severity.MEDIUM,
        INSTANCE,
        "An instance with a public address is one security-group mistake from the internet.",
        "Launch instances in private subnets behind a load balancer; use Session Manager for access.",
        check_instance_public_ip,
        ("ec2",),
    ),
    _c(
        "instance_not_in_default_vpc",
        "Instances do not run in a default VPC",
        Severity.LOW,
        INSTANCE,
        "Default VPCs have public subnets that assign public IPs and were not designed for the workload.",
        "Move workloads to a purpose-built VPC and remove the default VPCs.",
        check_instance_default_vpc,
        ("ec2",),
    ),
    _c(
        "instance_profile_attached",
        "Instances use an instance profile (IAM role)",
        Severity.LOW,
        INSTANCE,
        "Without a role, software on the instance tends to use long-lived access keys stored on disk.",
        "Attach an instance profile with a least-privilege role.",
        check_instance_profile,
        ("ec2",),
    ),
    _c(
        "subnet_no_auto_public_ip",
        "Subnets do not assign public IP addresses automatically",
        Severity.LOW,
        "AWS::EC2::Subnet",
        "Every instance launched into the subnet gets an internet-routable address by default.",
        "Turn MapPublicIpOnLaunch off (modify-subnet-attribute --no-map-public-ip-on-launch).",
        check_subnet_auto_public_ip,
        ("vpc",),
    ),
    _c(
        "vpc_subnets_multi_az",
        "VPCs have subnets in more than one availability zone",
        Severity.LOW,
        "AWS::EC2::VPC",
        "Everything in a single-zone VPC goes down with that zone.",
        "Add subnets in a second availability zone and spread the workload across them.",
        check_vpc_multi_az,
        ("ec2", "vpc"),
    ),
    _c(
        "snapshot_encrypted",
        "EBS snapshots are encrypted",
        Severity.MEDIUM,
        "AWS::EC2::Snapshot",
        "An unencrypted snapshot exposes the disk's data to whoever can copy or share it.",
        "Copy the snapshot with encryption (a KMS key), then delete the unencrypted one.",
        check_snapshot_encrypted,
        ("ec2",),
    ),
    _c(
        "instance_user_data_no_secrets",
        "Instance user data holds no secrets",
        Severity.HIGH,
        INSTANCE,
        "Anyone who can describe the instance attribute, and every process on the host, reads the secret.",
        "Remove the secret from user data; fetch it at boot from Secrets Manager or Parameter Store with the role.",
        check_instance_user_data,
        ("ec2_config",),
    ),
    _c(
        "launch_template_no_secrets",
        "Launch templates hold no secrets in user data",
        Severity.HIGH,
        TEMPLATE,
        "Every instance launched from the template, and everyone who can read the template, gets the secret.",
        "Create a new template version without the secret; fetch it at boot from Secrets Manager instead.",
        check_launch_template_user_data,
        ("ec2_config",),
    ),
    _c(
        "launch_template_imdsv2_required",
        "Launch templates require IMDSv2",
        Severity.MEDIUM,
        TEMPLATE,
        "Instances launched from the template (Auto Scaling, EKS nodes) accept IMDSv1 and its SSRF credential theft.",
        "Set MetadataOptions HttpTokens=required in a new default version of the template.",
        check_launch_template_imdsv2,
        ("ec2_config",),
    ),
]
