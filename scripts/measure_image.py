#!/usr/bin/env python3
"""Measure the runtime image's size for the budget, and record it in a measurements file.

    scripts/measure_image.py IMAGE [--output measurements.yaml]
    scripts/measure_image.py image.tar [--output measurements.yaml]

IMAGE is asked of the Docker daemon (`docker image inspect --format '{{.Size}}'`,
the spec's own tool). A path to a `docker save` tarball or an OCI image layout
tarball is read directly, no daemon needed: the size is the sum of the file
sizes in every layer, uncompressed, which is what Docker reports as .Size.
With --output the figure is merged into a measurements file (YAML, or JSON when
the name ends in .json) for `python -m policies check --measurements FILE`.
Exit 0 on success, 2 when the size cannot be measured (and why).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import IO, Any

import yaml

from policies.checks.pipeline import load_measurements
from policies.core.atomic import write_text_atomic
from policies.core.errors import InputError
from policies.inputs.yamlsource import load_yaml_file

DOCKER_TIMEOUT_SECONDS = 30
INDEX_MEDIA_TYPES = ("application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.list.v2+json")


class MeasureError(Exception):
    """The size cannot be measured; the message says why and what to do."""


def layer_content_bytes(stream: IO[bytes], name: str) -> int:
    """Sum of the file sizes in one layer tar (gzip, bzip2 and xz are detected)."""
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as layer:
            return sum(member.size for member in layer if member.isreg())
    except tarfile.TarError as exc:
        raise MeasureError(f"layer {name} is not a readable tar (zstd layers are not supported): {exc}") from None


def _json_member(archive: tarfile.TarFile, name: str) -> Any:
    member = archive.extractfile(name)
    if member is None:
        raise MeasureError(f"{name} is missing from the tarball")
    try:
        return json.load(member)
    except json.JSONDecodeError as exc:
        raise MeasureError(f"{name} in the tarball is malformed JSON: {exc.msg}") from None


def _blob_name(digest: str) -> str:
    algorithm, _, hexdigest = digest.partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _pick_manifest(archive: tarfile.TarFile, index: dict[str, Any]) -> dict[str, Any]:
    """The image manifest an OCI index points to: linux/amd64 when it lists several platforms."""
    descriptors = index.get("manifests") or []
    if not descriptors:
        raise MeasureError("index.json lists no manifests")
    chosen = next((d for d in descriptors if (d.get("platform") or {}).get("architecture") == "amd64"),
                  descriptors[0])
    manifest = _json_member(archive, _blob_name(chosen["digest"]))
    if manifest.get("mediaType") in INDEX_MEDIA_TYPES or "manifests" in manifest:
        return _pick_manifest(archive, manifest)
    return manifest


def layer_names(archive: tarfile.TarFile) -> list[str]:
    names = set(archive.getnames())
    if "manifest.json" in names:  # docker save (legacy layout, and Docker 25+ which adds an OCI layout)
        images = _json_member(archive, "manifest.json")
        if not images or not images[0].get("Layers"):
            raise MeasureError("manifest.json lists no image layers")
        return list(images[0]["Layers"])
    if "index.json" in names:  # OCI image layout
        manifest = _pick_manifest(archive, _json_member(archive, "index.json"))
        return [_blob_name(layer["digest"]) for layer in manifest.get("layers") or []]
    raise MeasureError("neither manifest.json (docker save) nor index.json (OCI layout) is in the tarball")


def size_from_tarball(path: Path) -> int:
    try:
        with tarfile.open(path) as archive:
            total = 0
            for name in layer_names(archive):
                stream = archive.extractfile(name)
                if stream is None:
                    raise MeasureError(f"layer {name} is listed but missing from the tarball")
                total += layer_content_bytes(stream, name)
            return total
    except tarfile.TarError as exc:
        raise MeasureError(f"{path} is not a docker save / OCI tarball: {exc}") from None


def docker_daemon_answers(docker: str) -> str | None:
    """None when the daemon answers, else why not."""
    try:
        subprocess.run([docker, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True,
                       check=True, timeout=DOCKER_TIMEOUT_SECONDS)
    except subprocess.CalledProcessError as exc:
        lines = (exc.stderr or exc.stdout or "").strip().splitlines()
        return lines[-1] if lines else f"docker version exited {exc.returncode}"
    except subprocess.TimeoutExpired:
        return f"docker version did not answer within {DOCKER_TIMEOUT_SECONDS} s"
    return None


def size_from_docker(image: str) -> int:
    docker = shutil.which("docker")
    why = "no docker command on PATH" if docker is None else docker_daemon_answers(docker)
    if why:
        raise MeasureError(
            f"cannot measure {image!r}: it is not a tarball path, and no Docker daemon answers ({why}). "
            "Run this where `docker image inspect` works, or pass a `docker save` / OCI tarball path.")
    try:
        out = subprocess.run([docker, "image", "inspect", "--format", "{{.Size}}", image], capture_output=True,
                             text=True, check=True, timeout=DOCKER_TIMEOUT_SECONDS).stdout.strip()
    except subprocess.CalledProcessError as exc:
        raise MeasureError(f"docker image inspect {image} failed: {exc.stderr.strip()}") from None
    except subprocess.TimeoutExpired:
        raise MeasureError(f"docker image inspect {image} did not answer within {DOCKER_TIMEOUT_SECONDS} s") from None
    if not out.isdigit():
        raise MeasureError(f"docker image inspect reported {out!r}, expected a number of bytes")
    return int(out)


def measure(target: str) -> int:
    path = Path(target)
    return size_from_tarball(path) if path.is_file() else size_from_docker(target)


def merge_into(path: Path, size: int, image: str) -> None:
    """Set imageSizeBytes (and image) in a measurements file, keeping its other figures."""
    data: dict[str, Any] = load_yaml_file(path).data if path.exists() else {}
    data.update(imageSizeBytes=size, image=image)
    text = json.dumps(data, indent=2) + "\n" if path.suffix == ".json" else yaml.safe_dump(data, sort_keys=False)
    write_text_atomic(path, text)
    load_measurements(path)  # the merged file must still be a valid measurements file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="image reference (asks the Docker daemon) or docker save / OCI tarball path")
    parser.add_argument("--output", type=Path, metavar="FILE", help="measurements file to write or merge into")
    args = parser.parse_args(argv)
    try:
        size = measure(args.image)
        if args.output:
            merge_into(args.output, size, args.image)
    except (MeasureError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"imageSizeBytes: {size}  ({size / 1e6:.1f} MB)")
    if args.output:
        print(f"recorded in {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
