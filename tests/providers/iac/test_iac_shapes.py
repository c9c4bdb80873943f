"""Which files checkov must report on (truth table), and our copy of checkov's check registries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.providers.iac import checked_types
from auditor.providers.iac.shapes import iac_shape, is_candidate

K8S = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
CFN_YAML = "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n"


@pytest.mark.parametrize(
    ("path", "text", "shape"),
    [
        ("Dockerfile", "FROM python:3.11\nRUN true\n", "dockerfile"),
        ("api.Dockerfile", "# base\nfrom alpine:3.20\n", "dockerfile"),
        ("Dockerfile.prod", "FROM alpine:3.20\n", "dockerfile"),
        ("dockerfile", "FROM alpine:3.20\n", "dockerfile"),
        ("Dockerfile", "# no instruction yet\n", None),
        (".dockerignore", "FROM x\n", None),
        ("main.tf", 'resource "aws_s3_bucket" "b" {\n}\n', "terraform"),
        ("main.tf", '  resource "aws_instance" "i" {}\n', "terraform"),
        ("main.tf", '# resource "aws_s3_bucket" "b" {\n', None),  # commented out
        ("main.tf", 'resource "null_resource" "n" {}\n', None),  # nothing checkov checks
        ("main.tf", 'variable "x" {}\n', None),
        ("repo/.github/workflows/ci.yml", "on: push\njobs:\n  b:\n    runs-on: x\n", "github_actions"),
        ("repo/.github/workflows/ci.yaml", "name: x\non: push\n", None),
        ("repo/ci/jobs.yml", "jobs:\n  b: {}\n", None),  # not under .github/workflows
        ("k8s/app.yaml", K8S, "kubernetes"),
        ("k8s/app.yml", "---\nfoo: 1\n---\n" + K8S, "kubernetes"),
        ("k8s/crd.yaml", "apiVersion: x/v1\nkind: Certificate\n", None),  # a kind checkov does not check
        ("k8s/values.yaml", "replicas: 1\nkind: Deployment\n", None),  # no apiVersion
        ("chart/templates/dep.yaml", K8S + "  labels: {{ .Values.labels }}\n", None),  # a Helm template
        ("k8s/app.json", json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}), "kubernetes"),
        ("cfn/stack.yaml", CFN_YAML, "cloudformation"),
        ("cfn/stack.template", CFN_YAML, "cloudformation"),
        ("cfn/stack.json", json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}), "cloudformation"),
        ("cfn/stack.template", json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}), "cloudformation"),
        ("cfn/stack.yaml", "Resources:\n  W:\n    Type: AWS::CloudFormation::WaitHandle\n", None),
        ("data.json", '{"kind": "Pod"}', None),
        ("data.json", "not json {", None),
        ("app.py", "FROM = 1\n", None),
    ],
)
def test_iac_shapes(path: str, text: str, shape: str | None) -> None:
    p = Path("/repo") / path
    assert iac_shape(p, text) == shape
    if shape is not None:
        assert is_candidate(p)


REGISTRIES = """
import json, logging
logging.disable(logging.CRITICAL)
from checkov.terraform.checks.resource.registry import resource_registry
from checkov.cloudformation.checks.resource.registry import cfn_registry
from checkov.kubernetes.checks.resource.registry import registry as k8s_registry
print(json.dumps({
    "TERRAFORM_RESOURCE_TYPES": sorted(resource_registry.checks),
    "CLOUDFORMATION_RESOURCE_TYPES": sorted(cfn_registry.checks),
    "KUBERNETES_KINDS": sorted(k8s_registry.checks),
}))
"""


@pytest.mark.slow
def test_checked_types_are_checkovs_own() -> None:
    """Regenerate auditor/providers/iac/checked_types.py from this output when checkov changes."""
    proc = subprocess.run(
        [sys.executable, "-c", REGISTRIES], capture_output=True, text=True, timeout=300, check=True, cwd="/"
    )
    live = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, values in live.items():
        assert sorted(getattr(checked_types, name)) == values, name
