"""The secrets rules: literal secrets in values, ConfigMaps and env are flagged; references are not.

Every case compares the full list of (rule, resource, field, file, line): documents and values are written
to files and the expected line read back from them (tests/rulekit.py: RuleCase)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from builders import config_map, container, context, deployment
from rulekit import Expected, RuleCase

from policies.checks.rules import secrets

CONFIG_MAP, DEPLOYMENT = "ConfigMap/prompted-forge-mcp", "Deployment/prompted-forge-mcp"
Expect = Callable[..., None]


@pytest.fixture
def expect(tmp_path: Path) -> Expect:
    """Check documents (and values) written to files; the findings must be exactly `expected`, at their lines."""
    def check(*docs: dict[str, Any], expected: list[Expected], values: dict[str, Any] | None = None) -> None:
        case = RuleCase(tmp_path, docs, values=values)
        assert case.found(secrets.check) == case.at(*expected)
    return check


def test_every_rule_id_has_a_violating_test() -> None:
    assert set(secrets.RULES) == {"secrets.literal", "secrets.rendered-secret"}


@pytest.mark.parametrize("key", ["password", "dbPassword", "apiKey", "API_KEY", "token", "AUTH_TOKEN",
                                 "clientSecret", "privateKey", "awsSecretAccessKey", "credentials",
                                 "SENTRY_DSN"])
def test_should_flag_a_secret_looking_values_key_with_a_literal(expect: Expect, key: str) -> None:
    expect(values={"app": {"port": 3000, key: "hunter2"}}, expected=[("secrets.literal", None, f"app.{key}")])


@pytest.mark.parametrize("key", ["existingSecret", "secretName", "tokenFile", "PF_AUTH_ENABLED", "author",
                                 "oauthIssuer", "secretKeyRef", "maxTokens", "authMode", "passwordPath"])
def test_should_accept_keys_that_name_or_configure_a_secret(expect: Expect, key: str) -> None:
    expect(values={"app": {key: "value"}}, expected=[])


@pytest.mark.parametrize("value", ["", "  ", None, True, False, [], {}])
def test_should_accept_a_secret_key_without_a_literal(expect: Expect, value: Any) -> None:
    expect(values={"password": value}, expected=[])


def test_should_flag_a_numeric_password_but_not_a_numeric_token_setting(expect: Expect) -> None:
    expect(values={"tokenLimit": 100, "password": 123456}, expected=[("secrets.literal", None, "password")])


def test_should_point_to_existing_secret_and_redact_the_value() -> None:
    [finding] = secrets.check(context(values={"extraEnv": {"API_TOKEN": "s3cr3t"}}))
    assert finding.values_key == ("extraEnv", "API_TOKEN")
    assert "existingSecret" in finding.expected
    assert "s3cr3t" not in f"{finding.message} {finding.actual}"


def test_should_flag_a_literal_secret_in_a_rendered_config_map(expect: Expect) -> None:
    expect(config_map(data={"PORT": "3000", "DB_PASSWORD": "hunter2"}),
           expected=[("secrets.literal", CONFIG_MAP, "data.DB_PASSWORD")])


def test_should_flag_a_literal_secret_in_container_env(expect: Expect) -> None:
    env = [{"name": "PORT", "value": "3000"}, {"name": "API_TOKEN", "value": "abc"}]
    expect(deployment(containers=[container(env=env)]),
           expected=[("secrets.literal", DEPLOYMENT, "spec.template.spec.containers[0].env[1].value")])


def test_should_accept_env_that_reads_a_secret(expect: Expect) -> None:
    env = [{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "pf", "key": "token"}}}]
    app = container(env=env, envFrom=[{"secretRef": {"name": "pf"}}])
    expect(deployment(containers=[app]), expected=[])


def test_should_report_a_secret_from_values_once_at_its_source(expect: Expect) -> None:
    env = [{"name": "API_TOKEN", "value": "abc"}]
    expect(deployment(containers=[container(env=env)]), values={"replicaCount": 2, "extraEnv": {"API_TOKEN": "abc"}},
           expected=[("secrets.literal", None, "extraEnv.API_TOKEN")])


@pytest.mark.parametrize("key", ["data", "stringData"])
def test_should_flag_a_rendered_secret_with_data_at_the_key_that_carries_it(expect: Expect, key: str) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pf"}, "type": "Opaque",
              key: {"token": "eA=="}}
    expect(secret, expected=[("secrets.rendered-secret", "Secret/pf", key)])


def test_should_accept_a_rendered_secret_without_data(expect: Expect) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pf"}, "type": "Opaque"}
    expect(secret, expected=[])


@pytest.mark.parametrize(("key", "words"), [("clientSecretName", ["client", "secret", "name"]),
                                             ("API_TOKEN", ["api", "token"]), ("APIKey", ["api", "key"]),
                                             ("tls-private-key", ["tls", "private", "key"])])
def test_should_split_keys_into_words_across_naming_styles(key: str, words: list[str]) -> None:
    assert secrets.key_words(key) == words
