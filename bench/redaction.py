"""Benchmark: the engine's redaction pass (`redact_finding`) over typical findings.

Usage: .venv/bin/python bench/redaction.py [N]        (default: 100000 findings)

The findings are shaped like the providers' (AWS, IaC, code, deps, secrets, image):
a message, a resource, and evidence with nested dicts and lists; about one in five
carries a secret somewhere. Prints the total time, the time per finding, and a check
that no planted value survived. The floor printed beside it is `json.dumps` of the same
findings (what storing them costs at least).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace

from auditor.engine import redact_finding
from auditor.models import Finding, Resource, Severity, Status

PW = "Corr3ct-Horse-Battery"
AKIA = "AKIA" + "Z7Q3XKJ5N2MEXW4R"
POLICY = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Principal": {"AWS": "arn:aws:iam::1:root"}}]}


def typical_findings() -> list[Finding]:
    return [
        Finding(check_id="aws.s3.bucket_encryption", status=Status.FAIL, severity=Severity.HIGH,
                resource=Resource(id="arn:aws:s3:::audit-logs-123", type="aws.s3.bucket", account="123456789012",
                                  region="eu-west-1"),
                message="bucket audit-logs-123 has no default encryption",
                evidence={"bucket": "audit-logs-123", "encryption": None, "policy": POLICY,
                          "tags": {"owner": "team-a", "data": "personal"}}),
        Finding(check_id="aws.iam.password_policy", status=Status.PASS, severity=Severity.MEDIUM,
                resource=Resource(id="arn:aws:iam::123456789012:root", type="aws.iam.account", account="123456789012"),
                message="the account password policy requires 14 characters and prevents reuse of 24",
                evidence={"MinimumPasswordLength": 14, "PasswordReusePrevention": 24, "RequireSymbols": True,
                          "MaxPasswordAge": 90}),
        Finding(check_id="aws.iam.access_key_age", status=Status.FAIL, severity=Severity.MEDIUM,
                resource=Resource(id="arn:aws:iam::123456789012:user/deploy", type="aws.iam.user",
                                  account="123456789012"),
                message=f"access key {AKIA} of user deploy is 400 days old (maximum 90)",
                evidence={"user": "deploy", "access_key_id": AKIA, "age_days": 400,
                          "access_key_1_last_rotated": "2025-10-24T00:00:00Z", "password_last_used": None}),
        Finding(check_id="iac.CKV_AWS_41", status=Status.FAIL, severity=Severity.HIGH,
                resource=Resource(id="aws.provider", type="terraform", path="/repo/main.tf", line=3),
                message="Ensure no hard coded AWS access key and secret key exists in provider",
                evidence={"file": "/repo/main.tf", "lines": [3, 8], "code": f'access_key = "{AKIA}"',
                          "guideline": None, "check_result": "failed", "framework": "terraform"}),
        Finding(check_id="iac.CKV_K8S_8", status=Status.PASS, severity=Severity.LOW,
                resource=Resource(id="Deployment.default.web", type="kubernetes", path="/repo/k8s/web.yaml", line=1),
                message="passed: Liveness Probe Should be Configured",
                evidence={"file": "/repo/k8s/web.yaml", "lines": [1, 40], "check_result": "passed"}),
        Finding(check_id="code.python.requests-hardcoded-auth", status=Status.FAIL, severity=Severity.HIGH,
                resource=Resource(id="/repo/app.py", type="file", path="/repo/app.py", line=12),
                message="hard-coded credentials passed to requests",
                evidence={"line": f'r = requests.get(url, auth=("admin", "{PW}"))', "rule": "requests-hardcoded-auth",
                          "start": {"line": 12, "col": 5}, "end": {"line": 12, "col": 52}}),
        Finding(check_id="deps.vulnerable_package", status=Status.PASS, severity=Severity.HIGH,
                resource=Resource(id="pypi:jinja2", type="python.package", path="/repo/requirements.txt", line=2),
                message="jinja2 3.1.4: no known vulnerability (vulndb:/home/u/.cache/auditor/vulndb.sqlite)",
                evidence={"package": "jinja2", "version": "3.1.4", "requirement": "jinja2==3.1.4",
                          "declared_in": "/repo/requirements.txt:2", "advisories": 0,
                          "source": "vulndb:/home/u/.cache/auditor/vulndb.sqlite"}),
        Finding(check_id="deps.vulnerable_package", status=Status.FAIL, severity=Severity.MEDIUM,
                resource=Resource(id="pypi:jinja2", type="python.package", path="/repo/requirements.txt", line=2),
                message="jinja2 3.1.2 is affected by GHSA-h5c8-rqwp-cp95 (CVE-2024-22195): Jinja vulnerable to HTML "
                        "attribute injection when passing user input as keys to xmlattr filter; fixed in 3.1.3",
                evidence={"package": "jinja2", "version": "3.1.2", "advisory_id": "GHSA-h5c8-rqwp-cp95",
                          "aliases": ["CVE-2024-22195"], "fixed_versions": ["3.1.3"],
                          "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:L/I:L/A:N", "cvss_score": 5.4,
                          "url": "https://github.com/pallets/jinja/security/advisories/GHSA-h5c8-rqwp-cp95"}),
        Finding(check_id="secrets.inventory.rotation_age", status=Status.FAIL, severity=Severity.MEDIUM,
                resource=Resource(id="secret:db-password", type="secret", path="/inv.yaml", line=4),
                message="secret 'db-password' was last rotated 120 days ago, 30 days past its maximum age of 90",
                evidence={"name": "db-password", "owner": "team-b", "system": f"postgres://admin:{PW}@db/x",
                          "last_rotated": "2026-07-31", "max_age_days": 90, "age_days": 120}),
        Finding(check_id="image.config.secrets", status=Status.FAIL, severity=Severity.CRITICAL,
                resource=Resource(id="sha256:" + "ab" * 32, type="container.image"),
                message="image configuration holds a secret: env API_TOKEN (secret_key_name)",
                evidence={"env": [f"API_TOKEN={PW}", "LANG=C.UTF-8", "PATH=/usr/local/bin:/usr/bin"],
                          "labels": {"org.opencontainers.image.source": "https://github.com/org/app"},
                          "history": ["/bin/sh -c #(nop) ENV LANG=C.UTF-8", "/bin/sh -c pip install -r req.txt"]}),
    ]


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    base = typical_findings()
    # Distinct objects with distinct texts, so that no cache can help.
    findings = [replace(base[i % len(base)], message=f"{base[i % len(base)].message} #{i}") for i in range(n)]
    start = time.perf_counter()
    for f in findings:
        json.dumps(f.to_dict())
    floor = time.perf_counter() - start
    start = time.perf_counter()
    out = [redact_finding(f) for f in findings]
    elapsed = time.perf_counter() - start
    leaked = sum(1 for f in out[: len(base) * 10] if PW in json.dumps(f.to_dict()) or AKIA in json.dumps(f.to_dict()))
    print(f"{n} findings through redact_finding: {elapsed:.2f} s ({elapsed / n * 1e6:.1f} us per finding); "
          f"json.dumps floor {floor:.2f} s; leaked values in sample: {leaked}")
    return 1 if leaked else 0


if __name__ == "__main__":
    raise SystemExit(main())
