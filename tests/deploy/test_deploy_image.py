"""Dockerfile, .dockerignore and the image-smoke script, checked without building."""

import subprocess
from pathlib import Path

import deploy_check as dc
import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_deploy_dockerfile_contract():
    assert dc.check_dockerfile(DOCKERFILE) == []


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('ENTRYPOINT ["gongyi"]', "ENTRYPOINT gongyi", "ENTRYPOINT"),
        ("USER 10001:10001", "USER root", "USER 10001"),
        ("ARG BASE_IMAGE=python:3.11-slim", "ARG BASE_IMAGE=python:3.12-slim", "BASE_IMAGE"),
        ("PYTHONDONTWRITEBYTECODE=1", "PYTHONDONTWRITEBYTECODE=0", "PYTHONDONTWRITEBYTECODE"),
        ("FROM ${BASE_IMAGE} AS runtime", "FROM debian:bookworm AS runtime", "both FROM ${BASE_IMAGE}"),
    ],
)
def test_deploy_dockerfile_check_catches_breakage(old, new, expected):
    assert old in DOCKERFILE
    assert any(expected in p for p in dc.check_dockerfile(DOCKERFILE.replace(old, new)))


def test_deploy_dockerignore_keeps_secrets_out_and_sources_in():
    patterns = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".env", "tests", "var"} <= patterns
    copied = {"gongyi", "services", "calls", "contracts", "pyproject.toml", "constraints.txt", "README.md"}
    assert not copied & patterns
    # Everything the Dockerfile copies is kept in the context.
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for src in line.split()[1:-1]:
                if not src.startswith("--"):
                    assert src not in patterns, src


def test_deploy_image_smoke_script_mechanics():
    script = ROOT / "scripts/image_smoke.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    for needle in ("debootstrap --variant=minbase", "python3.11", "podman import", "default_ulimits = []",
                   "--runtime runc", "BASE_IMAGE=$BASE_TAG", "--network host", "--read-only", "readyz",
                   "stop --time", "moto.server", "osmem"):
        assert needle in text, needle
    # The grace period the smoke test enforces is the one the manifests give.
    grace = int(text.split("GRACE=", 1)[1].split()[0])
    for objs in (dc.render("prod"),):
        for obj in objs:
            if obj["kind"] == "Deployment":
                assert obj["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == grace
