"""Edge services: classic ELB, ELBv2 additions, CloudFront, API Gateway (REST), Route 53, WAFv2."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from auditor.models import Severity
from auditor.providers.aws.checks.data import LB, lb_check
from auditor.providers.aws.checks.resources import per_resource
from auditor.providers.aws.model import AwsCheck, CheckInput, Outcome, Scope, info, verdict

CLB = "AWS::ElasticLoadBalancing::LoadBalancer"
DIST = "AWS::CloudFront::Distribution"
STAGE = "AWS::ApiGateway::Stage"
API = "AWS::ApiGateway::RestApi"
DOMAIN = "AWS::ApiGateway::DomainName"
ZONE = "AWS::Route53::HostedZone"
WEB_ACL = "AWS::WAFv2::WebACL"
HTTP_API = "AWS::ApiGatewayV2::Api"
V2_STAGE = "AWS::ApiGatewayV2::Stage"
DEPRECATED_ORIGIN_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1")
MODERN_CLOUDFRONT_TLS = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")


# --- classic ELB -----------------------------------------------------------------------


def clb_arn(inp: CheckInput, name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{inp.region}:{inp.account}:loadbalancer/{name}"


def check_clb_secure_listeners(inp: CheckInput) -> Iterator[Outcome]:
    for lb in inp.data("elb")["load_balancers"]:
        name = lb["LoadBalancerName"]
        protocols = [
            str((d.get("Listener") or {}).get("Protocol", "")).upper() for d in lb.get("ListenerDescriptions") or []
        ]
        plain = sorted({p for p in protocols if p not in ("HTTPS", "SSL")})
        msg = (
            f"classic load balancer {name} has {', '.join(plain)} listener(s) (expected: HTTPS or SSL only)"
            if plain
            else f"classic load balancer {name} listens with {', '.join(sorted(set(protocols))) or 'no listener'}"
        )
        yield verdict(not plain, clb_arn(inp, name), CLB, msg, {"listener_protocols": protocols}, inp.region)


def clbs(inp: CheckInput) -> list[dict[str, Any]]:
    """Classic load balancers, each with its ARN (built from the name: the API returns none)."""
    return [{**lb, "arn": clb_arn(inp, lb["LoadBalancerName"])} for lb in inp.data("elb")["load_balancers"]]


def clb_label(lb: dict[str, Any]) -> str:
    return f"classic load balancer {lb['LoadBalancerName']}"


def clb_attribute_check(attribute: str, label: str, expected: str) -> Callable[[CheckInput], Iterator[Outcome]]:
    def judge(inp: CheckInput, lb: dict[str, Any]) -> Outcome:
        on = bool(((lb.get("attributes") or {}).get(attribute) or {}).get("Enabled"))
        msg = f"{clb_label(lb)} {label} is {'on' if on else 'off'}" + ("" if on else f" (expected: {expected})")
        return verdict(on, lb["arn"], CLB, msg, {f"{attribute}.Enabled": on}, inp.region)

    # A load balancer whose attributes could not be read (or came back as something else than a
    # mapping) is ERROR naming the field and code.
    return per_resource(clbs, lambda lb: str(lb["arn"]), CLB, clb_label, ("attributes",), judge, {"attributes": dict},
        required=("attributes",),
    )  # fmt: skip


# --- ELBv2 additions -------------------------------------------------------------------


def elbv2_attribute(key: str, label: str, only_type: str | None = None) -> Callable[[CheckInput], Iterator[Outcome]]:
    def judge(inp: CheckInput, lb: dict[str, Any]) -> Outcome | None:
        if only_type and lb.get("Type") != only_type:
            return None
        value = str((lb.get("attributes") or {}).get(key, "false")).lower()
        on = value == "true"
        msg = f"load balancer {lb['LoadBalancerName']} {label} is {'on' if on else 'off'}" + (
            "" if on else " (expected: on)"
        )
        return verdict(on, lb["LoadBalancerArn"], LB, msg, {key: value}, inp.region)

    return lb_check(judge, "attributes")


def judge_desync(inp: CheckInput, lb: dict[str, Any]) -> Outcome | None:
    if lb.get("Type") != "application":
        return None
    key = "routing.http.desync_mitigation_mode"
    attrs = lb.get("attributes") or {}
    mode = str(attrs.get(key) or "defensive")  # AWS's default when the attribute was never set
    ok = mode in ("defensive", "strictest")
    msg = f"load balancer {lb['LoadBalancerName']} desync mitigation mode is {mode}" + (
        "" if ok else " (expected: defensive or strictest)"
    )
    return verdict(ok, lb["LoadBalancerArn"], LB, msg, {key: mode, "reported": key in attrs}, inp.region)


# --- CloudFront ------------------------------------------------------------------------


def distributions(inp: CheckInput) -> list[dict[str, Any]]:
    """Every distribution, each with its ARN."""
    return [
        {**d, "arn": d.get("ARN") or f"arn:aws:cloudfront::{inp.account}:distribution/{d['Id']}"}
        for d in inp.data("cloudfront")["distributions"]
    ]


def cf_check(judge: Callable[[str, str, dict[str, Any]], Outcome]) -> Callable[[CheckInput], Iterator[Outcome]]:
    """A distribution whose configuration could not be read is ERROR naming the field and code."""
    return per_resource(
        distributions,
        lambda d: str(d["arn"]),
        DIST,
        lambda d: f"distribution {d['Id']}",
        ("config",),
        lambda inp, d: judge(str(d["arn"]), str(d["Id"]), d.get("config") or {}),
        {"config": dict},
        required=("config",),  # GetDistributionConfig always answers a configuration
    )


def cf_viewer_https(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    behaviors = [("default", (cfg.get("DefaultCacheBehavior") or {}).get("ViewerProtocolPolicy"))]
    behaviors += [
        (str(b.get("PathPattern")), b.get("ViewerProtocolPolicy"))
        for b in (cfg.get("CacheBehaviors") or {}).get("Items") or []
    ]
    plain = [p for p, pol in behaviors if pol not in ("https-only", "redirect-to-https")]
    ev = {"viewer_protocol_policies": {p: pol for p, pol in behaviors}}
    msg = (
        f"distribution {did} serves {', '.join(plain)} behavior(s) over plain HTTP (expected: https-only or "
        "redirect-to-https)"
        if plain
        else f"distribution {did} requires HTTPS for viewers"
    )
    return verdict(not plain, rid, DIST, msg, ev)


def cf_tls(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    cert = cfg.get("ViewerCertificate") or {}
    own = cert.get("ACMCertificateArn") or cert.get("IAMCertificateId")
    default = bool(cert.get("CloudFrontDefaultCertificate")) and not own
    version = cert.get("MinimumProtocolVersion")
    ok = not default and version in MODERN_CLOUDFRONT_TLS
    ev = {"default_certificate": default, "MinimumProtocolVersion": version}
    if default:
        msg = (
            f"distribution {did} uses the default *.cloudfront.net certificate, which accepts TLSv1 "
            "(expected: a custom certificate with TLSv1.2_2021 or later)"
        )
    else:
        msg = f"distribution {did} minimum viewer TLS is {version}" + (
            "" if ok else " (expected: TLSv1.2_2021 or later)"
        )
    return verdict(ok, rid, DIST, msg, ev)


def cf_logging(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    on = bool((cfg.get("Logging") or {}).get("Enabled"))
    msg = f"distribution {did} access logging is {'on' if on else 'off (expected: on)'}"
    return verdict(on, rid, DIST, msg, {"logging": on})


def cf_waf(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    acl = cfg.get("WebACLId") or ""
    msg = f"distribution {did} " + (f"is protected by web ACL {acl}" if acl else "has no WAF web ACL (expected: one)")
    return verdict(bool(acl), rid, DIST, msg, {"WebACLId": acl or None})


def is_s3_rest_origin(o: dict[str, Any]) -> bool:
    """An S3 bucket origin reached through the REST endpoint (website endpoints cannot use OAC/OAI)."""
    if "S3OriginConfig" in o and o.get("S3OriginConfig") is not None:
        return True
    domain = str(o.get("DomainName", ""))
    return ".s3." in domain and "s3-website" not in domain and domain.endswith(".amazonaws.com")


def cf_origin_access(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    open_origins: list[str] = []
    judged: dict[str, str] = {}
    for o in (cfg.get("Origins") or {}).get("Items") or []:
        if not is_s3_rest_origin(o):
            continue
        oac = o.get("OriginAccessControlId") or ""
        oai = (o.get("S3OriginConfig") or {}).get("OriginAccessIdentity") or ""
        judged[str(o.get("Id"))] = "OAC" if oac else "OAI" if oai else "none"
        if not oac and not oai:
            open_origins.append(str(o.get("Id")))
    msg = (
        f"distribution {did} reads S3 origin(s) {', '.join(open_origins)} without origin access control or "
        "identity (expected: OAC, bucket not public)"
        if open_origins
        else f"distribution {did} reads its S3 origins through origin access control/identity"
        if judged
        else f"distribution {did} has no S3 bucket origin"
    )
    return verdict(not open_origins, rid, DIST, msg, {"s3_origins": judged})


def cf_origin_https(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    plain: list[str] = []
    judged: dict[str, str] = {}
    for o in (cfg.get("Origins") or {}).get("Items") or []:
        custom = o.get("CustomOriginConfig")
        if not custom:
            continue
        policy = str(custom.get("OriginProtocolPolicy"))
        judged[str(o.get("Id"))] = policy
        if policy != "https-only":
            plain.append(str(o.get("Id")))
    msg = (
        f"distribution {did} may reach origin(s) {', '.join(plain)} over HTTP (expected: https-only)"
        if plain
        else f"distribution {did} reaches its custom origins over HTTPS only"
        if judged
        else f"distribution {did} has no custom origin"
    )
    return verdict(not plain, rid, DIST, msg, {"origin_protocol_policies": judged})


def cf_default_root_object(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    root = cfg.get("DefaultRootObject") or ""
    msg = f"distribution {did} " + (
        f"serves {root} for the root URL"
        if root
        else "has no default root object (expected: one, so the root URL does not expose the origin's listing)"
    )
    return verdict(bool(root), rid, DIST, msg, {"DefaultRootObject": root or None})


def cf_origin_tls(rid: str, did: str, cfg: dict[str, Any]) -> Outcome:
    weak: dict[str, list[str]] = {}
    judged: dict[str, list[str]] = {}
    for o in (cfg.get("Origins") or {}).get("Items") or []:
        custom = o.get("CustomOriginConfig")
        if not custom or custom.get("OriginProtocolPolicy") == "http-only":
            continue  # no TLS to the origin at all: aws.cloudfront.origin_https judges that
        protocols = list((custom.get("OriginSslProtocols") or {}).get("Items") or [])
        judged[str(o.get("Id"))] = protocols
        old = [p for p in protocols if p in DEPRECATED_ORIGIN_PROTOCOLS]
        if old:
            weak[str(o.get("Id"))] = old
    msg = (
        "distribution "
        + did
        + " allows "
        + "; ".join(f"{', '.join(v)} to origin {k}" for k, v in sorted(weak.items()))
        + " (expected: TLSv1.2 only)"
        if weak
        else f"distribution {did} reaches its origins with TLSv1.2 or later only"
        if judged
        else f"distribution {did} has no custom origin reached over TLS"
    )
    return verdict(not weak, rid, DIST, msg, {"origin_ssl_protocols": judged})


# --- API Gateway (REST) ----------------------------------------------------------------


def stage_arn(inp: CheckInput, api_id: str, stage: str) -> str:
    return f"arn:aws:apigateway:{inp.region}::/restapis/{api_id}/stages/{stage}"


def rest_api_arn(inp: CheckInput, api_id: str) -> str:
    return f"arn:aws:apigateway:{inp.region}::/restapis/{api_id}"


def rest_apis(inp: CheckInput) -> list[dict[str, Any]]:
    """Every REST API, each with its ARN."""
    return [{**api, "arn": rest_api_arn(inp, api["id"])} for api in inp.data("apigateway")["rest_apis"]]


def api_label(api: dict[str, Any]) -> str:
    return f"API {api.get('name')}"


def stage_check(
    judge: Callable[[dict[str, Any]], tuple[bool, str, dict[str, Any]]],
) -> Callable[[CheckInput], Iterator[Outcome]]:
    """One verdict per stage; an API whose stages could not be read is ERROR (on the API)."""

    def judge_api(inp: CheckInput, api: dict[str, Any]) -> Iterator[Outcome]:
        for st in api.get("stages") or []:
            ok, what, ev = judge(st)
            name = f"stage {st.get('stageName')} of API {api.get('name')} ({api['id']})"
            msg = f"{name} {what}"
            yield verdict(ok, stage_arn(inp, api["id"], str(st.get("stageName"))), STAGE, msg, ev, inp.region)

    return per_resource(rest_apis, lambda a: str(a["arn"]), API, api_label, ("stages",), judge_api, {"stages": list},
        required=("stages",),
    )  # fmt: skip


def stage_access_logging(st: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    dest = (st.get("accessLogSettings") or {}).get("destinationArn")
    return (
        bool(dest),
        f"sends access logs to {dest}" if dest else "has no access logging (expected: a log destination)",
        {"access_log_destination": dest},
    )


def stage_execution_logging(st: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    level = str(((st.get("methodSettings") or {}).get("*/*") or {}).get("loggingLevel") or "OFF")
    ok = level in ("INFO", "ERROR")
    return (
        ok,
        f"execution logging level is {level}" + ("" if ok else " (expected: ERROR or INFO)"),
        {"loggingLevel": level},
    )


def stage_client_certificate(st: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    cert = st.get("clientCertificateId")
    return (
        bool(cert),
        f"uses client certificate {cert} towards its backend"
        if cert
        else "has no client certificate for its backend (expected: one, so the backend can verify calls)",
        {"clientCertificateId": cert},
    )


def stage_waf(st: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    acl = st.get("webAclArn")
    return bool(acl), f"is protected by {acl}" if acl else "has no WAF web ACL (expected: one)", {"webAclArn": acl}


def stage_tracing(st: dict[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    on = bool(st.get("tracingEnabled"))
    return on, f"X-Ray tracing is {'on' if on else 'off (expected: on)'}", {"tracingEnabled": on}


def judge_api_authorization(inp: CheckInput, api: dict[str, Any]) -> Outcome | None:
    methods: list[str] = []
    open_methods: list[str] = []
    for r in api.get("resources") or []:
        for verb, m in (r.get("resourceMethods") or {}).items():
            label = f"{verb} {r.get('path')}"
            methods.append(label)
            if verb.upper() == "OPTIONS":
                continue
            auth = str((m or {}).get("authorizationType") or "NONE")
            if auth == "NONE" and not (m or {}).get("apiKeyRequired"):
                open_methods.append(label)
    if not methods:
        return None
    msg = (
        f"API {api.get('name')} ({api['id']}) has method(s) without authorization: "
        f"{', '.join(sorted(open_methods))} (expected: IAM, Cognito or a Lambda authorizer)"
        if open_methods
        else f"API {api.get('name')} ({api['id']}) authorizes every method"
    )
    ev = {"methods": len(methods), "unauthorized": sorted(open_methods)}
    return verdict(not open_methods, api["arn"], API, msg, ev, inp.region)


# An API whose methods (resources) could not be read is ERROR naming the field and code.
check_api_authorization = per_resource(
    rest_apis, lambda a: str(a["arn"]), API, api_label, ("resources",), judge_api_authorization, {"resources": list},
    required=("resources",),
)  # fmt: skip


def check_api_domain_tls(inp: CheckInput) -> Iterator[Outcome]:
    for d in inp.part("apigateway", "domain_names"):
        name = d.get("domainName")
        policy = d.get("securityPolicy") or "TLS_1_0"
        ok = policy != "TLS_1_0"
        rid = f"arn:aws:apigateway:{inp.region}::/domainnames/{name}"
        msg = f"API domain {name} security policy is {policy}" + ("" if ok else " (expected: TLS_1_2)")
        yield verdict(ok, rid, DOMAIN, msg, {"securityPolicy": policy}, inp.region)


# --- API Gateway v2 (HTTP and WebSocket APIs) -------------------------------------------


def http_api_arn(inp: CheckInput, api_id: str) -> str:
    return f"arn:aws:apigateway:{inp.region}::/apis/{api_id}"


def http_apis(inp: CheckInput) -> list[dict[str, Any]]:
    """Every HTTP and WebSocket API, each with its ARN."""
    return [{**api, "arn": http_api_arn(inp, api["id"])} for api in inp.part("apigateway", "http_apis")]


def judge_v2_stage_logging(inp: CheckInput, api: dict[str, Any]) -> Iterator[Outcome]:
    for st in api.get("stages") or []:
        name = str(st.get("StageName"))
        dest = (st.get("AccessLogSettings") or {}).get("DestinationArn")
        rid = f"{api['arn']}/stages/{name}"
        msg = f"stage {name} of {api.get('protocol')} API {api.get('name')} ({api['id']}) " + (
            f"sends access logs to {dest}" if dest else "has no access logging (expected: a log destination)"
        )
        yield verdict(bool(dest), rid, V2_STAGE, msg, {"access_log_destination": dest}, inp.region)


def judge_v2_route_authorization(inp: CheckInput, api: dict[str, Any]) -> Outcome | None:
    websocket = api.get("protocol") == "WEBSOCKET"
    judged: list[str] = []
    open_routes: list[str] = []
    for r in api.get("routes") or []:
        key = str(r.get("RouteKey"))
        if websocket and key != "$connect":
            continue  # a WebSocket API authorizes its connection, not each message route
        if key.upper().startswith("OPTIONS "):
            continue
        judged.append(key)
        if str(r.get("AuthorizationType") or "NONE") == "NONE" and not r.get("ApiKeyRequired"):
            open_routes.append(key)
    if not judged:
        return None
    msg = (
        f"API {api.get('name')} ({api['id']}) has route(s) without authorization: "
        f"{', '.join(sorted(open_routes))} (expected: IAM, JWT or a Lambda authorizer)"
        if open_routes
        else f"API {api.get('name')} ({api['id']}) authorizes every route"
    )
    ev = {"protocol": api.get("protocol"), "routes": len(judged), "unauthorized": sorted(open_routes)}
    return verdict(not open_routes, api["arn"], HTTP_API, msg, ev, inp.region)


# An HTTP/WebSocket API whose stages (routes) could not be read is ERROR naming the field and code.
check_v2_stage_logging = per_resource(
    http_apis, lambda a: str(a["arn"]), HTTP_API, api_label, ("stages",), judge_v2_stage_logging, {"stages": list},
    required=("stages",),
)  # fmt: skip
check_v2_route_authorization = per_resource(
    http_apis, lambda a: str(a["arn"]), HTTP_API, api_label, ("routes",), judge_v2_route_authorization,
    {"routes": list}, required=("routes",),
)  # fmt: skip


def judge_alb_waf(inp: CheckInput, lb: dict[str, Any]) -> Outcome:
    acl = lb.get("web_acl")
    msg = f"load balancer {lb['name']} " + (
        f"is protected by web ACL {acl}" if acl else "has no WAF web ACL (expected: one)"
    )
    return verdict(bool(acl), lb["arn"], LB, msg, {"web_acl": acl}, inp.region)


# A load balancer whose web ACL association could not be read is ERROR naming the field and code.
check_alb_waf = per_resource(
    lambda inp: list(inp.part("wafv2", "load_balancers")), lambda lb: str(lb["arn"]), LB,
    lambda lb: f"load balancer {lb['name']}", ("web_acl",), judge_alb_waf, {"web_acl": str},
)  # fmt: skip


# --- Route 53 --------------------------------------------------------------------------


def public_zones(inp: CheckInput) -> list[dict[str, Any]]:
    return [z for z in inp.data("route53")["zones"] if not z.get("private")]


def zone_arn(z: dict[str, Any]) -> str:
    return f"arn:aws:route53:::hostedzone/{z['id']}"


def judge_dnssec(inp: CheckInput, z: dict[str, Any]) -> Outcome:
    status = z.get("dnssec") or "NOT_SIGNING"
    ok = status == "SIGNING"
    msg = f"public hosted zone {z['name']} DNSSEC status is {status}" + ("" if ok else " (expected: SIGNING)")
    return verdict(ok, zone_arn(z), ZONE, msg, {"ServeSignature": status})


# A zone whose DNSSEC status could not be read is ERROR naming the field and code.
check_dnssec = per_resource(
    public_zones, zone_arn, ZONE, lambda z: f"hosted zone {z['name']}", ("dnssec",), judge_dnssec, {"dnssec": str}
)


def check_query_logging(inp: CheckInput) -> Iterator[Outcome]:
    configs = inp.part("route53", "query_logging")
    logged = {c.get("HostedZoneId"): c.get("CloudWatchLogsLogGroupArn") for c in configs}
    for z in public_zones(inp):
        dest = logged.get(z["id"])
        msg = f"public hosted zone {z['name']} " + (
            f"logs DNS queries to {dest}" if dest else "has no query logging (expected: a query logging config)"
        )
        yield verdict(bool(dest), zone_arn(z), ZONE, msg, {"log_group": dest})


def check_domain_setting(key: str, label: str) -> Callable[[CheckInput], Iterator[Outcome]]:
    def check(inp: CheckInput) -> Iterator[Outcome]:
        for d in inp.part("route53", "domains"):
            name = d.get("DomainName")
            on = bool(d.get(key))
            rid = f"arn:aws:route53domains:::domain/{name}"
            msg = f"domain {name} {label} is {'on' if on else 'off (expected: on)'}"
            yield verdict(on, rid, "AWS::Route53Domains::Domain", msg, {key: on})

    return check


# --- WAFv2 -----------------------------------------------------------------------------


def web_acls(inp: CheckInput) -> list[dict[str, Any]]:
    return list(inp.data("wafv2")["web_acls"])


def web_acl_label(a: dict[str, Any]) -> str:
    return f"web ACL {a['name']}"


def judge_waf_logging(inp: CheckInput, a: dict[str, Any]) -> Outcome:
    dests = list((a.get("logging") or {}).get("LogDestinationConfigs") or [])
    msg = f"web ACL {a['name']} ({a['scope']}) " + (
        f"logs to {', '.join(dests)}" if dests else "has no logging (expected: a log destination)"
    )
    return verdict(bool(dests), a["arn"], WEB_ACL, msg, {"log_destinations": dests}, inp.region)


def judge_waf_rules(inp: CheckInput, a: dict[str, Any]) -> Outcome:
    n = int(a.get("rules") or 0)
    msg = f"web ACL {a['name']} ({a['scope']}) has {n} rule(s)" + ("" if n else " (expected: at least one)")
    return verdict(n > 0, a["arn"], WEB_ACL, msg, {"rules": n}, inp.region)


# A web ACL whose logging configuration (rules) could not be read is ERROR naming the field and code.
check_waf_logging = per_resource(
    web_acls, lambda a: str(a["arn"]), WEB_ACL, web_acl_label, ("logging",), judge_waf_logging, {"logging": dict}
)
check_waf_rules = per_resource(
    web_acls, lambda a: str(a["arn"]), WEB_ACL, web_acl_label, ("rules",), judge_waf_rules, {"rules": int},
    required=("rules",),
)  # fmt: skip


def _c(
    cid: str,
    title: str,
    sev: Severity,
    rtype: str,
    risk: str,
    fix: str,
    fn: Any,
    needs: str,
    scope: Scope = Scope.REGION,
) -> AwsCheck:
    return AwsCheck(info(cid, title, sev, rtype, risk, fix), (needs,), scope, fn)


CHECKS: list[AwsCheck] = [
    _c(
        "aws.elb.secure_listeners",
        "Classic load balancers listen with HTTPS or SSL only",
        Severity.HIGH,
        CLB,
        "HTTP or TCP listeners carry client traffic, session cookies and credentials in clear text.",
        "Replace HTTP/TCP listeners with HTTPS/SSL (or redirect), or migrate to an ALB.",
        check_clb_secure_listeners,
        "elb",
    ),
    _c(
        "aws.elb.access_logs",
        "Classic load balancers write access logs",
        Severity.MEDIUM,
        CLB,
        "Without access logs there is no record of requests for investigations.",
        "Enable access logs to an S3 bucket.",
        clb_attribute_check("AccessLog", "access logging", "on"),
        "elb",
    ),
    _c(
        "aws.elb.cross_zone_load_balancing",
        "Classic load balancers balance across zones",
        Severity.LOW,
        CLB,
        "Losing one availability zone's instances overloads or takes down the service.",
        "Enable cross-zone load balancing.",
        clb_attribute_check("CrossZoneLoadBalancing", "cross-zone load balancing", "on"),
        "elb",
    ),
    _c(
        "aws.elb.connection_draining",
        "Classic load balancers drain connections",
        Severity.LOW,
        CLB,
        "Deregistering an instance cuts in-flight requests.",
        "Enable connection draining.",
        clb_attribute_check("ConnectionDraining", "connection draining", "on"),
        "elb",
    ),
    _c(
        "aws.elbv2.deletion_protection",
        "Load balancers have deletion protection",
        Severity.LOW,
        LB,
        "A mistaken delete takes the service offline.",
        "Enable deletion_protection.enabled on the load balancer.",
        elbv2_attribute("deletion_protection.enabled", "deletion protection"),
        "elbv2",
    ),
    _c(
        "aws.elbv2.drop_invalid_headers",
        "Application load balancers drop invalid HTTP headers",
        Severity.MEDIUM,
        LB,
        "Malformed headers passed to targets enable HTTP request smuggling and desync attacks.",
        "Set routing.http.drop_invalid_header_fields.enabled to true.",
        elbv2_attribute("routing.http.drop_invalid_header_fields.enabled", "dropping invalid headers", "application"),
        "elbv2",
    ),
    _c(
        "aws.elbv2.desync_mitigation",
        "Application load balancers mitigate HTTP desync",
        Severity.MEDIUM,
        LB,
        "In monitor mode, ambiguous requests that enable request smuggling reach the targets.",
        "Set routing.http.desync_mitigation_mode to defensive or strictest.",
        lb_check(judge_desync, "attributes"),
        "elbv2",
    ),
    _c(
        "aws.cloudfront.viewer_https",
        "CloudFront distributions require HTTPS from viewers",
        Severity.HIGH,
        DIST,
        "Plain HTTP to viewers exposes content and cookies to interception.",
        "Set ViewerProtocolPolicy to redirect-to-https or https-only on every cache behavior.",
        cf_check(cf_viewer_https),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.cloudfront.modern_tls",
        "CloudFront distributions require TLS 1.2 or later from viewers",
        Severity.MEDIUM,
        DIST,
        "TLS 1.0/1.1 have known weaknesses and are not allowed by PCI DSS.",
        "Use a custom certificate with MinimumProtocolVersion TLSv1.2_2021 or later.",
        cf_check(cf_tls),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.cloudfront.access_logging",
        "CloudFront distributions write access logs",
        Severity.MEDIUM,
        DIST,
        "Without access logs there is no record of requests for investigations.",
        "Enable standard logging to an S3 bucket (or real-time logs).",
        cf_check(cf_logging),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.cloudfront.waf_enabled",
        "CloudFront distributions are protected by a WAF web ACL",
        Severity.MEDIUM,
        DIST,
        "Without a web ACL, common web exploits and bots reach the origin unfiltered.",
        "Associate a WAFv2 web ACL (CLOUDFRONT scope) with the distribution.",
        cf_check(cf_waf),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.cloudfront.s3_origin_access_control",
        "CloudFront reads S3 origins through origin access control",
        Severity.HIGH,
        DIST,
        "An S3 origin without OAC/OAI must be public, so the bucket can be read around the CDN.",
        "Create an origin access control, attach it to the S3 origin and restrict the bucket policy to it.",
        cf_check(cf_origin_access),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.cloudfront.default_root_object",
        "CloudFront distributions have a default root object",
        Severity.LOW,
        DIST,
        "Without one, a request for the root URL is passed to the origin, which may list or expose its content.",
        "Set DefaultRootObject (for example index.html).",
        cf_check(cf_default_root_object),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.cloudfront.origin_tls_protocols",
        "CloudFront does not offer deprecated TLS versions to origins",
        Severity.MEDIUM,
        DIST,
        "SSLv3, TLS 1.0 and TLS 1.1 between CloudFront and the origin have known weaknesses.",
        "Set OriginSslProtocols to TLSv1.2 only on every custom origin.",
        cf_check(cf_origin_tls),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.cloudfront.origin_https",
        "CloudFront reaches custom origins over HTTPS only",
        Severity.MEDIUM,
        DIST,
        "Traffic between CloudFront and the origin can be read or altered in transit.",
        "Set OriginProtocolPolicy to https-only on every custom origin.",
        cf_check(cf_origin_https),
        "cloudfront",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.apigateway.stage_access_logging",
        "API Gateway stages write access logs",
        Severity.MEDIUM,
        STAGE,
        "Without access logs there is no record of who called the API.",
        "Configure access logging to a CloudWatch Logs group on every stage.",
        stage_check(stage_access_logging),
        "apigateway",
    ),
    _c(
        "aws.apigateway.stage_execution_logging",
        "API Gateway stages have execution logging",
        Severity.LOW,
        STAGE,
        "Errors and authorizer failures leave no trace for investigations.",
        "Set the stage's method settings (*/*) logging level to ERROR or INFO.",
        stage_check(stage_execution_logging),
        "apigateway",
    ),
    _c(
        "aws.apigateway.stage_client_certificate",
        "API Gateway stages present a client certificate to their backend",
        Severity.LOW,
        STAGE,
        "The backend cannot tell calls from API Gateway apart from anyone else's.",
        "Generate a client certificate and set it on the stage; verify it at the backend.",
        stage_check(stage_client_certificate),
        "apigateway",
    ),
    _c(
        "aws.apigateway.stage_waf",
        "API Gateway stages are protected by a WAF web ACL",
        Severity.MEDIUM,
        STAGE,
        "Without a web ACL, injection attempts and floods reach the API unfiltered.",
        "Associate a regional WAFv2 web ACL with the stage.",
        stage_check(stage_waf),
        "apigateway",
    ),
    _c(
        "aws.apigateway.stage_tracing",
        "API Gateway stages have X-Ray tracing",
        Severity.LOW,
        STAGE,
        "Without traces, abuse and failures across the API and its backends are hard to follow.",
        "Enable X-Ray tracing on the stage.",
        stage_check(stage_tracing),
        "apigateway",
    ),
    _c(
        "aws.apigateway.method_authorization",
        "API Gateway methods require authorization",
        Severity.HIGH,
        API,
        "A method with authorization NONE (and no API key) can be called by anyone who finds the URL.",
        "Use IAM, a Cognito user pool or a Lambda authorizer on every non-OPTIONS method.",
        check_api_authorization,
        "apigateway",
    ),
    _c(
        "aws.apigateway.domain_tls12",
        "API Gateway custom domains require TLS 1.2",
        Severity.MEDIUM,
        DOMAIN,
        "TLS 1.0 has known weaknesses and is not allowed by PCI DSS.",
        "Set the custom domain's security policy to TLS_1_2.",
        check_api_domain_tls,
        "apigateway",
    ),
    _c(
        "aws.route53.dnssec_signing",
        "Public hosted zones are signed with DNSSEC",
        Severity.MEDIUM,
        ZONE,
        "Unsigned zones allow DNS spoofing and cache poisoning of the organisation's names.",
        "Enable DNSSEC signing with a KMS key and add the DS record at the parent zone.",
        check_dnssec,
        "route53",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.route53.query_logging",
        "Public hosted zones log DNS queries",
        Severity.LOW,
        ZONE,
        "Without query logs, reconnaissance and DNS-based attacks leave no trace.",
        "Create a query logging configuration to a CloudWatch Logs group in us-east-1.",
        check_query_logging,
        "route53",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.route53.domain_transfer_lock",
        "Registered domains have transfer lock on",
        Severity.MEDIUM,
        "AWS::Route53Domains::Domain",
        "Without the lock, a compromised account or registrar request can transfer the domain away.",
        "Enable transfer lock on every registered domain (where the TLD supports it).",
        check_domain_setting("TransferLock", "transfer lock"),
        "route53",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.route53.domain_auto_renew",
        "Registered domains renew automatically",
        Severity.MEDIUM,
        "AWS::Route53Domains::Domain",
        "An expired domain takes every service and mailbox under it offline and can be registered by others.",
        "Enable automatic renewal on every registered domain.",
        check_domain_setting("AutoRenew", "automatic renewal"),
        "route53",
        Scope.ACCOUNT,
    ),
    _c(
        "aws.wafv2.logging_enabled",
        "WAF web ACLs log requests",
        Severity.MEDIUM,
        WEB_ACL,
        "Blocked and allowed requests leave no trace for investigations or rule tuning.",
        "Configure logging to CloudWatch Logs, S3 or Firehose (aws-waf-logs-*).",
        check_waf_logging,
        "wafv2",
    ),
    _c(
        "aws.wafv2.web_acl_has_rules",
        "WAF web ACLs have at least one rule",
        Severity.MEDIUM,
        WEB_ACL,
        "A web ACL without rules only applies its default action: it filters nothing.",
        "Add managed rule groups (core rule set, known bad inputs) or custom rules.",
        check_waf_rules,
        "wafv2",
    ),
    _c(
        "aws.apigatewayv2.stage_access_logging",
        "API Gateway HTTP and WebSocket stages write access logs",
        Severity.MEDIUM,
        V2_STAGE,
        "Without access logs there is no record of who called the API.",
        "Set AccessLogSettings (a CloudWatch Logs group and format) on every stage.",
        check_v2_stage_logging,
        "apigateway",
    ),
    _c(
        "aws.apigatewayv2.route_authorization",
        "API Gateway HTTP and WebSocket routes require authorization",
        Severity.HIGH,
        HTTP_API,
        "A route with authorization NONE can be called by anyone who finds the URL.",
        "Attach an IAM, JWT or Lambda authorizer to every route (the $connect route of a WebSocket API).",
        check_v2_route_authorization,
        "apigateway",
    ),
    _c(
        "aws.elbv2.alb_waf_enabled",
        "Application load balancers are protected by a WAF web ACL",
        Severity.MEDIUM,
        LB,
        "Without a web ACL, common web exploits and bots reach the targets unfiltered.",
        "Associate a regional WAFv2 web ACL with the load balancer.",
        check_alb_waf,
        "wafv2",
    ),
]
