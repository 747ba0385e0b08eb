"""Show what `make install` would change: the installed release against a fresh render.

The installed side is what helm recorded for the release (`helm get manifest`
plus `helm get hooks`), the rendered side is `helm template` of the chart with
the environment's values file, for the same release name and namespace. Both
are parsed with policies.render.manifests and compared object by object (keyed by
`Kind/name`) with deepdiff. Edits made to live objects behind helm's back (for
example with `kubectl edit`) are not in helm's record and so are not shown.

No template asks the cluster which APIs it serves, so the render needs none;
--api-versions is still passed on to helm for a chart that does. `make diff`
checks first that the cluster answers (scripts/cluster_preflight.py).

Usage: python scripts/cluster_diff.py --env ENV [--release NAME] [--namespace NS]
       [--kube-context CTX] [--api-versions GROUP/VERSION ...] [--kube-version X.Y.Z]
Exit codes: 0 no differences, 1 differences (printed), 2 bad input or an unreachable cluster.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.core.errors import InputError  # noqa: E402
from policies.render.helm import DEFAULT_KUBE_VERSION, Helm, find_helm  # noqa: E402
from policies.render.helmcalls import (  # noqa: E402
    DEFAULT_SETTINGS,
    NAMESPACE,
    RELEASE_NAME,
    RenderSettings,
    helm_template_args,
    values_file_for,
)
from policies.render.manifests import Manifest, parse_manifests  # noqa: E402
from policies.render.render import check_values_schema, load_values_layers  # noqa: E402


def context_flags(kube_context: str | None) -> list[str]:
    return ["--kube-context", kube_context] if kube_context else []


def installed_manifests(
    helm: Helm, release: str, namespace: str, kube_context: str | None = None
) -> list[Manifest]:
    """The objects helm recorded for the installed release, hooks included."""
    flags = ["--namespace", namespace, *context_flags(kube_context)]
    manifest = helm.run("get", "manifest", release, *flags).stdout
    hooks = helm.run("get", "hooks", release, *flags).stdout
    origin = f"helm get manifest/hooks {release} (namespace {namespace})"
    return parse_manifests(manifest + "\n---\n" + hooks, origin=origin)


def rendered_manifests(
    environment: str,
    release: str,
    namespace: str,
    helm: Helm,
    settings: RenderSettings = DEFAULT_SETTINGS,
) -> list[Manifest]:
    """What `make install ENV=environment` would install, rendered offline with helm template."""
    values = values_file_for(environment, settings.chart)
    if not values.exists():
        raise InputError(f"environment {environment!r} has no values file", file=values)
    layers = load_values_layers(environment, settings)
    check_values_schema(layers, settings.chart)
    # The diff must use the installed release's own name and namespace.
    args = helm_template_args(settings.values_files(environment), settings, release=release, namespace=namespace)
    text = helm.run(*args).stdout
    return parse_manifests(text, origin=f"helm template ({environment})")


def by_ref(manifests: Iterable[Manifest]) -> dict[str, dict[str, Any]]:
    return {m.ref: m.doc for m in manifests}


def diff_manifests(installed: Iterable[Manifest], rendered: Iterable[Manifest]) -> list[str]:
    """One readable line per difference from the installed objects to the rendered ones."""
    old, new = by_ref(installed), by_ref(rendered)
    lines = [f"{ref}: not installed (install would create it)" for ref in sorted(new.keys() - old.keys())]
    lines += [f"{ref}: installed but no longer rendered (install would delete it)"
              for ref in sorted(old.keys() - new.keys())]
    for ref in sorted(old.keys() & new.keys()):
        diff = DeepDiff(old[ref], new[ref], verbose_level=2)
        lines += [line.replace("root[", f"{ref}[", 1) for line in diff.pretty().splitlines()] if diff else []
    return lines


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="environment whose values file `make install` uses")
    parser.add_argument("--release", default=RELEASE_NAME, help="installed release name")
    parser.add_argument("--namespace", default=NAMESPACE, help="namespace of the release")
    parser.add_argument("--kube-context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--api-versions", nargs="*", metavar="GROUP/VERSION",
                        help="API versions to render for (passed to helm template; default: none)")
    parser.add_argument("--kube-version", default=DEFAULT_KUBE_VERSION,
                        help="Kubernetes version to render for")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, helm: Helm | None = None) -> int:
    args = parse_args(argv)
    try:
        helm = helm or find_helm()
        settings = RenderSettings(kube_version=args.kube_version, api_versions=tuple(args.api_versions or ()))
        rendered = rendered_manifests(args.env, args.release, args.namespace, helm, settings)
        installed = installed_manifests(helm, args.release, args.namespace, args.kube_context)
    except InputError as exc:
        print(f"cluster-diff: error: {exc}", file=sys.stderr)
        return 2
    lines = diff_manifests(installed, rendered)
    where = f"release {args.release} in namespace {args.namespace}"
    if not lines:
        print(f"cluster-diff: {where} matches a fresh render of {args.env}")
        return 0
    print(f"cluster-diff: {where} differs from a fresh render of {args.env} (installed -> rendered):")
    for line in lines:
        print(f"  {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
