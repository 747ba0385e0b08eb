"""The secrets rules: literal secrets in values, ConfigMaps and env are flagged; references are not."""

from __future__ import annotations

from typing import Any

import pytest
from builders import config_map, container, context, deployment

from policies.rules import secrets


def findings(*docs: dict[str, Any], values: dict[str, Any] | None = None) -> list[tuple[str, str | None]]:
    return [(f.rule, f.field) for f in secrets.check(context(*docs, values=values))]


def test_every_rule_id_has_a_violating_test() -> None:
    assert set(secrets.RULES) == {"secrets.literal", "secrets.rendered-secret"}


@pytest.mark.parametrize("key", ["password", "dbPassword", "apiKey", "API_KEY", "token", "AUTH_TOKEN",
                                 "clientSecret", "privateKey", "awsSecretAccessKey", "credentials",
                                 "SENTRY_DSN"])
def test_should_flag_a_secret_looking_values_key_with_a_literal(key: str) -> None:
    assert findings(values={"app": {key: "hunter2"}}) == [("secrets.literal", f"app.{key}")]


@pytest.mark.parametrize("key", ["existingSecret", "secretName", "tokenFile", "PF_AUTH_ENABLED", "author",
                                 "oauthIssuer", "secretKeyRef", "maxTokens", "authMode", "passwordPath"])
def test_should_accept_keys_that_name_or_configure_a_secret(key: str) -> None:
    assert findings(values={"app": {key: "value"}}) == []


@pytest.mark.parametrize("value", ["", "  ", None, True, False, [], {}])
def test_should_accept_a_secret_key_without_a_literal(value: Any) -> None:
    assert findings(values={"password": value}) == []


def test_should_flag_a_numeric_password_but_not_a_numeric_token_setting() -> None:
    assert findings(values={"password": 123456, "tokenLimit": 100}) == [("secrets.literal", "password")]


def test_should_point_to_existing_secret_and_redact_the_value() -> None:
    [finding] = secrets.check(context(values={"extraEnv": {"API_TOKEN": "s3cr3t"}}))
    assert finding.values_key == ("extraEnv", "API_TOKEN")
    assert "existingSecret" in finding.expected
    assert "s3cr3t" not in f"{finding.message} {finding.actual}"


def test_should_flag_a_literal_secret_in_a_rendered_config_map() -> None:
    assert findings(config_map(data={"DB_PASSWORD": "hunter2", "PORT": "3000"})) == [
        ("secrets.literal", "data.DB_PASSWORD")]


def test_should_flag_a_literal_secret_in_container_env() -> None:
    env = [{"name": "API_TOKEN", "value": "abc"}, {"name": "PORT", "value": "3000"}]
    assert findings(deployment(containers=[container(env=env)])) == [
        ("secrets.literal", "spec.template.spec.containers[0].env[0].value")]


def test_should_accept_env_that_reads_a_secret() -> None:
    env = [{"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "pf", "key": "token"}}}]
    app = container(env=env, envFrom=[{"secretRef": {"name": "pf"}}])
    assert findings(deployment(containers=[app])) == []


def test_should_report_a_secret_from_values_once_at_its_source() -> None:
    env = [{"name": "API_TOKEN", "value": "abc"}]
    found = findings(deployment(containers=[container(env=env)]), values={"extraEnv": {"API_TOKEN": "abc"}})
    assert found == [("secrets.literal", "extraEnv.API_TOKEN")]


def test_should_flag_a_rendered_secret_with_data() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pf"}, "stringData": {"token": "x"}}
    assert findings(secret) == [("secrets.rendered-secret", "data")]


def test_should_accept_a_rendered_secret_without_data() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pf"}, "type": "Opaque"}
    assert findings(secret) == []


@pytest.mark.parametrize(("key", "words"), [("clientSecretName", ["client", "secret", "name"]),
                                             ("API_TOKEN", ["api", "token"]), ("APIKey", ["api", "key"]),
                                             ("tls-private-key", ["tls", "private", "key"])])
def test_should_split_keys_into_words_across_naming_styles(key: str, words: list[str]) -> None:
    assert secrets.key_words(key) == words
