"""A small moto estate for the network, compute and edge checks: compliant and misconfigured
resources side by side, named so the golden tests can tell which is which."""

from __future__ import annotations

import base64
import io
import json
import secrets
import zipfile
from typing import Any

import boto3

REGION = "us-east-1"
ACCOUNT = "123456789012"
# Planted "secrets" that must never be output, generated per run (no credential in the source).
LAMBDA_PLACEHOLDER_VALUE = "horse-battery-" + secrets.token_hex(8)
USER_DATA_SECRET = "tr0ub4dor-user-data-" + secrets.token_hex(8)  # the same, planted in user data
SSM_DOC_SECRET = "t0ken-in-a-document-" + secrets.token_hex(8)  # the same, planted in an SSM document
BENIGN_USER_DATA = "#!/bin/bash\nyum install -y nginx\n"
LEAKY_USER_DATA = f"#!/bin/bash\nexport DB_PASSWORD={USER_DATA_SECRET}\n/opt/app/start\n"


def tag(name: str, kind: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def lambda_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def seed_network(ids: dict[str, Any]) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    app = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tag("app", "vpc"))["Vpc"]["VpcId"]
    peer = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=tag("peer", "vpc"))["Vpc"]["VpcId"]
    ids["vpc"] = {"app": app, "peer": peer}
    subnet = ec2.create_subnet(VpcId=app, CidrBlock="10.0.1.0/24", TagSpecifications=tag("app-private", "subnet"))
    ids["app_subnet"] = subnet["Subnet"]["SubnetId"]

    # Network ACLs: first matching rule decides.
    def nacl(name: str, entries: list[dict[str, Any]]) -> str:
        acl_id: str = ec2.create_network_acl(VpcId=app, TagSpecifications=tag(name, "network-acl"))["NetworkAcl"][
            "NetworkAclId"
        ]
        for e in entries:
            ec2.create_network_acl_entry(NetworkAclId=acl_id, Egress=False, **e)
        return acl_id

    ids["nacl"] = {
        "nacl-deny-admin-allow-rest": nacl(
            "nacl-deny-admin-allow-rest",
            [
                {
                    "RuleNumber": 100,
                    "Protocol": "6",
                    "RuleAction": "deny",
                    "CidrBlock": "0.0.0.0/0",
                    "PortRange": {"From": 22, "To": 22},
                },
                {
                    "RuleNumber": 110,
                    "Protocol": "6",
                    "RuleAction": "deny",
                    "CidrBlock": "0.0.0.0/0",
                    "PortRange": {"From": 3389, "To": 3389},
                },
                {"RuleNumber": 200, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "0.0.0.0/0"},
            ],
        ),
        "nacl-https-only": nacl(
            "nacl-https-only",
            [
                {
                    "RuleNumber": 100,
                    "Protocol": "6",
                    "RuleAction": "allow",
                    "CidrBlock": "0.0.0.0/0",
                    "PortRange": {"From": 443, "To": 443},
                },
            ],
        ),
        "nacl-ssh-ipv6": nacl(
            "nacl-ssh-ipv6",
            [
                {
                    "RuleNumber": 100,
                    "Protocol": "6",
                    "RuleAction": "allow",
                    "Ipv6CidrBlock": "::/0",
                    "PortRange": {"From": 20, "To": 25},
                },
            ],
        ),
        "nacl-rdp-range": nacl(
            "nacl-rdp-range",
            [
                {
                    "RuleNumber": 50,
                    "Protocol": "6",
                    "RuleAction": "allow",
                    "CidrBlock": "0.0.0.0/0",
                    "PortRange": {"From": 3000, "To": 4000},
                },
                {"RuleNumber": 60, "Protocol": "-1", "RuleAction": "deny", "CidrBlock": "0.0.0.0/0"},
            ],
        ),
        "nacl-private-admin": nacl(
            "nacl-private-admin",
            [
                {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "CidrBlock": "10.0.0.0/8"},
            ],
        ),
    }

    # nacl-https-only guards the app subnet; the others are associated with nothing.
    current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [ids["app_subnet"]]}])
    assoc = next(
        a["NetworkAclAssociationId"]
        for acl in current["NetworkAcls"]
        for a in acl["Associations"]
        if a["SubnetId"] == ids["app_subnet"]
    )
    ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=ids["nacl"]["nacl-https-only"])

    # Security groups in the app VPC.
    def sg(name: str, perms: list[dict[str, Any]]) -> str:
        gid: str = ec2.create_security_group(GroupName=name, Description=name, VpcId=app)["GroupId"]
        if perms:
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=perms)
        return gid

    def tcp(port: int, to: int | None = None, v4: str | None = None, v6: str | None = None) -> dict[str, Any]:
        p: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": to or port}
        if v4:
            p["IpRanges"] = [{"CidrIp": v4}]
        if v6:
            p["Ipv6Ranges"] = [{"CidrIpv6": v6}]
        return p

    ids["sg"] = {
        "web-https": sg("web-https", [tcp(443, v4="0.0.0.0/0", v6="::/0")]),
        "db-postgres-open": sg("db-postgres-open", [tcp(5432, v4="0.0.0.0/0")]),
        "db-private": sg("db-private", [tcp(5432, v4="10.0.0.0/16"), tcp(6379, v4="10.0.0.0/16")]),
        "telnet-ipv6": sg("telnet-ipv6", [tcp(23, v6="::/0")]),
        "ssh-ipv6": sg("ssh-ipv6", [tcp(22, v6="::/0")]),
        "rdp-ipv4": sg("rdp-ipv4", [tcp(3389, v4="0.0.0.0/0")]),
        "wide-range": sg("wide-range", [tcp(1000, 10000, v4="0.0.0.0/0")]),
        "all-traffic": sg("all-traffic", [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
    }

    # Instances: one private, profiled, in the app VPC; one legacy in the default VPC with a public IP.
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(
        RoleName="web-role", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )
    profile = iam.create_instance_profile(InstanceProfileName="web-profile")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web-role")
    web = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        SubnetId=ids["app_subnet"],
        SecurityGroupIds=[ids["sg"]["web-https"]],
        IamInstanceProfile={"Arn": profile["Arn"]},
        UserData=BENIGN_USER_DATA,
        TagSpecifications=tag("web", "instance"),
    )["Instances"][0]["InstanceId"]
    default_vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
    default_subnet = next(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == default_vpc)
    legacy = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        SubnetId=default_subnet,
        UserData=LEAKY_USER_DATA,
        TagSpecifications=tag("legacy", "instance"),
    )["Instances"][0]["InstanceId"]
    ids["instances"] = {"web": web, "legacy": legacy}

    # Launch templates: one hardened, one legacy (IMDSv1 allowed, a password in user data).
    def template(name: str, data: dict[str, Any]) -> str:
        tid: str = ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)["LaunchTemplate"][
            "LaunchTemplateId"
        ]
        return tid

    ids["templates"] = {
        "lt-hardened": template(
            "lt-hardened",
            {
                "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
                "UserData": base64.b64encode(BENIGN_USER_DATA.encode()).decode(),
            },
        ),
        "lt-legacy": template(
            "lt-legacy",
            {"UserData": base64.b64encode(LEAKY_USER_DATA.encode()).decode()},
        ),
        "lt-no-user-data": template("lt-no-user-data", {"MetadataOptions": {"HttpEndpoint": "disabled"}}),
    }
    ids["default_vpc"] = default_vpc

    # Peering and routes.
    pcx = ec2.create_vpc_peering_connection(VpcId=app, PeerVpcId=peer)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)

    def rtb(vpc: str, name: str, dest: str) -> str:
        rid: str = ec2.create_route_table(VpcId=vpc, TagSpecifications=tag(name, "route-table"))["RouteTable"][
            "RouteTableId"
        ]
        ec2.create_route(RouteTableId=rid, DestinationCidrBlock=dest, VpcPeeringConnectionId=pcx)
        return rid

    ids["rtb"] = {
        "rtb-app-whole-peer": rtb(app, "rtb-app-whole-peer", "10.1.0.0/16"),
        "rtb-app-one-subnet": rtb(app, "rtb-app-one-subnet", "10.1.5.0/24"),
        "rtb-peer-wider": rtb(peer, "rtb-peer-wider", "10.0.0.0/8"),
    }

    # Snapshots: one encrypted, one not.
    plain = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    sealed = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1, Encrypted=True)["VolumeId"]
    ids["snapshots"] = {
        "snap-plain": ec2.create_snapshot(VolumeId=plain, Description="snap-plain")["SnapshotId"],
        "snap-encrypted": ec2.create_snapshot(VolumeId=sealed, Description="snap-encrypted")["SnapshotId"],
    }


def seed_compute(ids: dict[str, Any]) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(
        repositoryName="app-hardened",
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
        encryptionConfiguration={"encryptionType": "KMS"},
    )
    ecr.put_lifecycle_policy(
        repositoryName="app-hardened",
        lifecyclePolicyText=json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "selection": {
                            "tagStatus": "untagged",
                            "countType": "sinceImagePushed",
                            "countUnit": "days",
                            "countNumber": 14,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            }
        ),
    )
    ecr.set_repository_policy(
        repositoryName="app-hardened",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ci",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": ["ecr:BatchGetImage"],
                    }
                ],
            }
        ),
    )
    ecr.create_repository(repositoryName="legacy-open")
    ecr.set_repository_policy(
        repositoryName="legacy-open",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Sid": "anyone", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"]}],
            }
        ),
    )
    ecr.create_repository(repositoryName="org-shared", imageScanningConfiguration={"scanOnPush": True})
    ecr.set_repository_policy(
        repositoryName="org-shared",
        policyText=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "org",
                        "Effect": "Allow",
                        "Principal": {"AWS": "*"},
                        "Action": ["ecr:BatchGetImage"],
                        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-example"}},
                    }
                ],
            }
        ),
    )

    eks = boto3.client("eks", region_name=REGION)
    role = f"arn:aws:iam::{ACCOUNT}:role/eks"
    all_logs = {
        "clusterLogging": [
            {"types": ["api", "audit", "authenticator", "controllerManager", "scheduler"], "enabled": True}
        ]
    }
    eks.create_cluster(
        name="private-cluster",
        roleArn=role,
        resourcesVpcConfig={
            "subnetIds": [ids["app_subnet"]],
            "endpointPublicAccess": False,
            "endpointPrivateAccess": True,
        },
        logging=all_logs,
        encryptionConfig=[
            {"resources": ["secrets"], "provider": {"keyArn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/eks"}}
        ],
    )
    eks.create_cluster(
        name="restricted-cluster",
        roleArn=role,
        resourcesVpcConfig={
            "subnetIds": [ids["app_subnet"]],
            "endpointPublicAccess": True,
            "endpointPrivateAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24"],
        },
        logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]},
    )
    eks.create_cluster(
        name="open-cluster",
        roleArn=role,
        resourcesVpcConfig={"subnetIds": [ids["app_subnet"]]},
    )

    iam = boto3.client("iam", region_name=REGION)
    lrole = iam.create_role(
        RoleName="lambda-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)

    def fn(name: str, env: dict[str, str], tracing: str) -> str:
        arn: str = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=lrole,
            Handler="handler.handler",
            Code={"ZipFile": lambda_zip()},
            Environment={"Variables": env},
            TracingConfig={"Mode": tracing},
        )["FunctionArn"]
        return arn

    ids["functions"] = {
        "secure-fn": fn(
            "secure-fn",
            {"REGION": "eu-west-1", "DB_PASSWORD_SECRET_ARN": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:db"},
            "Active",
        ),
        "leaky-fn": fn("leaky-fn", {"LOG_LEVEL": "debug", "DB_PASSWORD": LAMBDA_PLACEHOLDER_VALUE}, "PassThrough"),
        "plain-fn": fn("plain-fn", {}, "PassThrough"),
    }
    lam.create_function_url_config(
        FunctionName="secure-fn", AuthType="AWS_IAM", Cors={"AllowOrigins": ["https://app.example.com"]}
    )
    lam.create_function_url_config(FunctionName="leaky-fn", AuthType="NONE", Cors={"AllowOrigins": ["*"]})
    lam.add_permission(
        FunctionName="secure-fn",
        StatementId="s3",
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn="arn:aws:s3:::uploads",
    )
    lam.add_permission(FunctionName="leaky-fn", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*")

    ssm = boto3.client("ssm", region_name=REGION)
    content = json.dumps(
        {
            "schemaVersion": "2.2",
            "description": "x",
            "mainSteps": [{"action": "aws:runShellScript", "name": "run", "inputs": {"runCommand": ["echo hi"]}}],
        }
    )
    for name in ("doc-private", "doc-public", "doc-shared-partner"):
        ssm.create_document(Content=content, Name=name, DocumentType="Command", DocumentFormat="JSON")
    leaky = json.dumps(
        {
            "schemaVersion": "2.2",
            "description": "bootstrap",
            "mainSteps": [
                {
                    "action": "aws:runShellScript",
                    "name": "run",
                    "inputs": {"runCommand": [f"export API_TOKEN={SSM_DOC_SECRET}", "/opt/app/sync"]},
                }
            ],
        }
    )
    ssm.create_document(Content=leaky, Name="doc-with-token", DocumentType="Command", DocumentFormat="JSON")
    ssm.modify_document_permission(Name="doc-public", PermissionType="Share", AccountIdsToAdd=["All"])
    ssm.modify_document_permission(Name="doc-shared-partner", PermissionType="Share", AccountIdsToAdd=["210987654321"])


def seed_edge(ids: dict[str, Any]) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == ids["default_vpc"]][:2]
    acm = boto3.client("acm", region_name=REGION)
    cert = acm.request_certificate(DomainName="www.example.com")["CertificateArn"]

    elb = boto3.client("elb", region_name=REGION)
    elb.create_load_balancer(
        LoadBalancerName="clb-secure",
        Listeners=[
            {
                "Protocol": "HTTPS",
                "LoadBalancerPort": 443,
                "InstancePort": 8443,
                "InstanceProtocol": "HTTPS",
                "SSLCertificateId": cert,
            }
        ],
        AvailabilityZones=[f"{REGION}a"],
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="clb-secure",
        LoadBalancerAttributes={
            "CrossZoneLoadBalancing": {"Enabled": True},
            "AccessLog": {"Enabled": True, "S3BucketName": "logs", "EmitInterval": 5},
            "ConnectionDraining": {"Enabled": True, "Timeout": 60},
        },
    )
    elb.create_load_balancer(
        LoadBalancerName="clb-legacy",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
        AvailabilityZones=[f"{REGION}a"],
    )

    elbv2 = boto3.client("elbv2", region_name=REGION)
    hardened = elbv2.create_load_balancer(Name="alb-hardened", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=hardened,
        Attributes=[
            {"Key": "deletion_protection.enabled", "Value": "true"},
            {"Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"},
        ],
    )
    default = elbv2.create_load_balancer(Name="alb-default", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=default, Attributes=[{"Key": "routing.http.desync_mitigation_mode", "Value": "monitor"}]
    )
    nlb = elbv2.create_load_balancer(Name="nlb-default", Subnets=subnets, Type="network")["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    ids["lbv2"] = {"alb-hardened": hardened, "alb-default": default, "nlb-default": nlb}

    waf = boto3.client("wafv2", region_name=REGION)
    vis = {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": "m"}
    rule = {
        "Name": "common",
        "Priority": 1,
        "OverrideAction": {"None": {}},
        "VisibilityConfig": vis,
        "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}},
    }
    api_acl = waf.create_web_acl(
        Name="api-acl", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=vis, Rules=[rule]
    )["Summary"]
    waf.put_logging_configuration(
        LoggingConfiguration={
            "ResourceArn": api_acl["ARN"],
            "LogDestinationConfigs": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-waf-logs-api"],
        }
    )
    empty_acl = waf.create_web_acl(
        Name="empty-acl", Scope="REGIONAL", DefaultAction={"Allow": {}}, VisibilityConfig=vis
    )["Summary"]
    cdn_acl = waf.create_web_acl(
        Name="cdn-acl", Scope="CLOUDFRONT", DefaultAction={"Allow": {}}, VisibilityConfig=vis, Rules=[rule]
    )["Summary"]
    ids["waf"] = {"api-acl": api_acl["ARN"], "empty-acl": empty_acl["ARN"], "cdn-acl": cdn_acl["ARN"]}
    waf.associate_web_acl(WebACLArn=api_acl["ARN"], ResourceArn=hardened)

    cf = boto3.client("cloudfront", region_name=REGION)

    def distribution(ref: str, origins: list[dict[str, Any]], policy: str, **extra: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "CallerReference": ref,
            "Comment": ref,
            "Enabled": True,
            "Origins": {"Quantity": len(origins), "Items": origins},
            "DefaultCacheBehavior": {"TargetOriginId": origins[0]["Id"], "ViewerProtocolPolicy": policy},
            **extra,
        }
        d: dict[str, Any] = cf.create_distribution(DistributionConfig=config)["Distribution"]
        return d

    good = distribution(
        "cdn-hardened",
        # moto drops S3OriginConfig and OriginAccessControlId from what it returns, so the OAC/OAI PASS
        # path is covered by test_cloudfront_origin_access_on_a_hand_built_config, not here.
        [
            {
                "Id": "app",
                "DomainName": "app.example.com",
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                },
            }
        ],
        "redirect-to-https",
        ViewerCertificate={
            "CloudFrontDefaultCertificate": False,
            "ACMCertificateArn": cert,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        },
        Logging={"Enabled": True, "IncludeCookies": False, "Bucket": "logs.s3.amazonaws.com", "Prefix": "cdn"},
        WebACLId=cdn_acl["ARN"],
        DefaultRootObject="index.html",
    )
    legacy = distribution(
        "cdn-legacy",
        [
            {"Id": "files", "DomainName": "files.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""}},
            {
                "Id": "old-app",
                "DomainName": "old.example.com",
                "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"},
            },
            {
                "Id": "tls-old",
                "DomainName": "tls-old.example.com",
                "CustomOriginConfig": {
                    "HTTPPort": 80,
                    "HTTPSPort": 443,
                    "OriginProtocolPolicy": "https-only",
                    "OriginSslProtocols": {"Quantity": 2, "Items": ["TLSv1", "TLSv1.2"]},
                },
            },
        ],
        "allow-all",
    )
    ids["distributions"] = {"cdn-hardened": good["ARN"], "cdn-legacy": legacy["ARN"]}

    apigw = boto3.client("apigateway", region_name=REGION)

    def api(name: str, auth: str) -> str:
        api_id: str = apigw.create_rest_api(name=name)["id"]
        root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
        res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="orders")["id"]
        for verb, a in (("GET", auth), ("OPTIONS", "NONE")):
            apigw.put_method(restApiId=api_id, resourceId=res, httpMethod=verb, authorizationType=a)
            apigw.put_integration(restApiId=api_id, resourceId=res, httpMethod=verb, type="MOCK")
        return api_id

    orders = api("orders-api", "AWS_IAM")
    public = api("public-api", "NONE")
    apigw.create_deployment(restApiId=orders, stageName="prod")
    apigw.update_stage(
        restApiId=orders,
        stageName="prod",
        patchOperations=[
            {
                "op": "replace",
                "path": "/accessLogSettings/destinationArn",
                "value": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:api-access",
            },
            {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
            {"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"},
            {"op": "replace", "path": "/tracingEnabled", "value": "true"},
        ],
    )
    apigw.create_deployment(restApiId=public, stageName="dev")
    ids["apis"] = {"orders-api": orders, "public-api": public}

    v2 = boto3.client("apigatewayv2", region_name=REGION)
    http_good = v2.create_api(Name="http-orders", ProtocolType="HTTP")["ApiId"]
    auth = v2.create_authorizer(
        ApiId=http_good,
        Name="jwt",
        AuthorizerType="JWT",
        IdentitySource=["$request.header.Authorization"],
        JwtConfiguration={"Audience": ["orders"], "Issuer": "https://issuer.example.com"},
    )["AuthorizerId"]
    v2.create_route(ApiId=http_good, RouteKey="GET /orders", AuthorizationType="JWT", AuthorizerId=auth)
    v2.create_route(ApiId=http_good, RouteKey="OPTIONS /orders", AuthorizationType="NONE")
    v2.create_stage(
        ApiId=http_good,
        StageName="prod",
        AccessLogSettings={
            "DestinationArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:http-access",
            "Format": "$context.requestId",
        },
    )
    http_open = v2.create_api(Name="http-open", ProtocolType="HTTP")["ApiId"]
    v2.create_route(ApiId=http_open, RouteKey="POST /upload", AuthorizationType="NONE")
    v2.create_stage(ApiId=http_open, StageName="dev")
    ws = v2.create_api(Name="ws-chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")[
        "ApiId"
    ]
    v2.create_route(ApiId=ws, RouteKey="$connect", AuthorizationType="AWS_IAM")
    v2.create_route(ApiId=ws, RouteKey="sendmessage", AuthorizationType="NONE")  # message routes: not judged
    ids["http_apis"] = {"http-orders": http_good, "http-open": http_open, "ws-chat": ws}
    apigw.create_domain_name(domainName="api.example.com", certificateArn=cert, securityPolicy="TLS_1_2")
    apigw.create_domain_name(domainName="legacy.example.com", certificateArn=cert, securityPolicy="TLS_1_0")

    r53 = boto3.client("route53", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    zones = {}
    for name in ("example.com", "legacy.example"):
        zones[name] = r53.create_hosted_zone(Name=name, CallerReference=name)["HostedZone"]["Id"].rsplit("/", 1)[-1]
    zones["internal.example"] = r53.create_hosted_zone(
        Name="internal.example",
        CallerReference="internal",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": REGION, "VPCId": ids["vpc"]["app"]},
    )["HostedZone"]["Id"].rsplit("/", 1)[-1]
    logs.create_log_group(logGroupName="/aws/route53/example.com")
    group_arn = logs.describe_log_groups(logGroupNamePrefix="/aws/route53/example.com")["logGroups"][0]["arn"]
    r53.create_query_logging_config(HostedZoneId=zones["example.com"], CloudWatchLogsLogGroupArn=group_arn)
    # Registered domains: Route 53 creates a public hosted zone for each (moto too).
    r53d = boto3.client("route53domains", region_name="us-east-1")
    contact = {
        "FirstName": "Ada",
        "LastName": "Admin",
        "ContactType": "PERSON",
        "AddressLine1": "1 Main St",
        "City": "Springfield",
        "CountryCode": "US",
        "ZipCode": "12345",
        "PhoneNumber": "+1.5555550100",
        "Email": "admin@acme.example",
    }
    for name, renew in (("acme-renewing.com", True), ("acme-expiring.com", False)):
        r53d.register_domain(
            DomainName=name,
            DurationInYears=2,
            AutoRenew=renew,
            AdminContact=contact,
            RegistrantContact=contact,
            TechContact=contact,
        )
    for z in r53.list_hosted_zones()["HostedZones"]:
        zones.setdefault(z["Name"].rstrip("."), z["Id"].rsplit("/", 1)[-1])
    ids["zones"] = zones


def seed_all() -> dict[str, Any]:
    ids: dict[str, Any] = {}
    seed_network(ids)
    seed_compute(ids)
    seed_edge(ids)
    return ids
