"""`check --manifests`: the production render changed one way fails with the control's rule, at the line.

The cases are the ones the Pod Security Standards issue lists as passing unnoticed,
and the settings that must keep passing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rulekit import safe_dump_all

from policies.cli import main
from policies.render.render import Render

Doc = dict[str, Any]
POD = "spec.template.spec"
APP = f"{POD}.containers[0]"
APPARMOR_KEY = "container.apparmor.security.beta.kubernetes.io/prompted-forge-mcp"


def _pod(doc: Doc) -> Doc:
    return doc["spec"]["template"]["spec"]


def _app(doc: Doc) -> Doc:
    return _pod(doc)["containers"][0]["securityContext"]


def _set_proc_mount(doc: Doc) -> None:
    _app(doc)["procMount"] = "Unmasked"


def _set_sysctl(name: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _pod(doc)["securityContext"]["sysctls"] = [{"name": name, "value": "65536"}]
    return change


def _set_selinux(**options: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _app(doc)["seLinuxOptions"] = options
    return change


def _set_apparmor(kind: str) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        _app(doc)["appArmorProfile"] = {"type": kind}
    return change


def _set_apparmor_annotation(doc: Doc) -> None:
    doc["spec"]["template"]["metadata"].setdefault("annotations", {})[APPARMOR_KEY] = "unconfined"


def _set_host_process(doc: Doc) -> None:
    _app(doc)["windowsOptions"] = {"hostProcess": True}


def _set_pod_run_as_non_root_false(doc: Doc) -> None:
    _pod(doc)["securityContext"]["runAsNonRoot"] = False


def _set_seccomp_localhost(doc: Doc) -> None:
    _app(doc)["seccompProfile"] = {"type": "Localhost", "localhostProfile": "profiles/pf.json"}


def _add_net_bind_service(doc: Doc) -> None:
    _app(doc)["capabilities"] = {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}


def _identity_only_at_pod_level(doc: Doc) -> None:
    for key in ("runAsNonRoot", "runAsUser", "seccompProfile"):
        del _app(doc)[key]


# (id, change, rule, field, the text on the line the finding must name)
FAILING = [
    ("proc-mount-unmasked", _set_proc_mount, "pss.baseline.proc-mount-type", f"{APP}.securityContext.procMount",
     "procMount: Unmasked"),
    ("unsafe-sysctl", _set_sysctl("kernel.msgmax"), "pss.baseline.sysctls", f"{POD}.securityContext.sysctls[0].name",
     "name: kernel.msgmax"),
    ("sysctl-safe-only-from-1.32", _set_sysctl("net.ipv4.tcp_rmem"), "pss.baseline.sysctls",
     f"{POD}.securityContext.sysctls[0].name", "name: net.ipv4.tcp_rmem"),
    ("selinux-spc-type", _set_selinux(type="spc_t"), "pss.baseline.selinux",
     f"{APP}.securityContext.seLinuxOptions.type", "type: spc_t"),
    ("selinux-user", _set_selinux(user="system_u"), "pss.baseline.selinux",
     f"{APP}.securityContext.seLinuxOptions.user", "user: system_u"),
    ("apparmor-unconfined", _set_apparmor("Unconfined"), "pss.baseline.apparmor",
     f"{APP}.securityContext.appArmorProfile.type", "type: Unconfined"),
    ("apparmor-annotation", _set_apparmor_annotation, "pss.baseline.apparmor",
     f'spec.template.metadata.annotations["{APPARMOR_KEY}"]', f"{APPARMOR_KEY}: unconfined"),
    ("windows-host-process", _set_host_process, "pss.baseline.hostprocess",
     f"{APP}.securityContext.windowsOptions.hostProcess", "hostProcess: true"),
    ("pod-run-as-non-root-false", _set_pod_run_as_non_root_false, "pss.restricted.running-as-non-root",
     f"{POD}.securityContext.runAsNonRoot", "runAsNonRoot: false"),
]

PASSING = [
    ("safe-sysctl", _set_sysctl("net.ipv4.ip_local_port_range")),
    ("seccomp-localhost", _set_seccomp_localhost),
    ("apparmor-runtime-default", _set_apparmor("RuntimeDefault")),
    ("selinux-container-type-with-level", _set_selinux(type="container_t", level="s0:c123,c456")),
    ("add-net-bind-service", _add_net_bind_service),
    ("identity-and-seccomp-only-at-pod-level", _identity_only_at_pod_level),
]


def _check(render: Render, change: Callable[[Doc], None], tmp_path: Path, capsys: Any) -> tuple[int, Path, dict]:
    docs = render.manifests.docs()
    change(next(d for d in docs if d["kind"] == "Deployment"))
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(safe_dump_all(docs, width=1000), encoding="utf-8")
    code = main(["check", "--format", "json", "--timing-runs", "0", "--env", "production",
                 "--manifests", str(manifests), "--mode", "enforce"])
    return code, manifests, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(("change", "rule", "field", "line_text"), [pytest.param(*c[1:], id=c[0]) for c in FAILING])
def test_should_fail_with_the_control_rule_at_the_line_of_the_field(change: Callable[[Doc], None], rule: str,
                                                                    field: str, line_text: str, tmp_path: Path,
                                                                    capsys: Any, render_env: Callable) -> None:
    code, manifests, report = _check(render_env("production"), change, tmp_path, capsys)
    lines = manifests.read_text(encoding="utf-8").splitlines()
    [expected_line] = [number for number, text in enumerate(lines, 1) if text.strip().removeprefix("- ") == line_text]
    found = [(f["rule"], f["resource"], f["field"], f["file"], f["line"]) for f in report["findings"]]
    assert code == 1
    assert found == [(rule, "Deployment/prompted-forge-mcp", field, str(manifests), expected_line)]
    assert "judged at Kubernetes 1.31" in report["findings"][0]["message"]


@pytest.mark.parametrize("change", [pytest.param(c[1], id=c[0]) for c in PASSING])
def test_should_still_pass(change: Callable[[Doc], None], tmp_path: Path, capsys: Any, render_env: Callable) -> None:
    code, _, report = _check(render_env("production"), change, tmp_path, capsys)
    assert (code, report["findings"]) == (0, [])
