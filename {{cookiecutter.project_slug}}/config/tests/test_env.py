import os

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from moto import mock_aws

from config.env import env_bool, env_choice, env_int, env_list, env_secret, env_str, read_dotenv


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("ON", True), ("1", True), ("false", False), ("0", False)]
)
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", default=not expected) is expected


def test_env_bool_rejects_other_words_naming_the_variable(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"^FLAG='maybe' is not a boolean: use true or false\.$"):
        env_bool("FLAG", default=False)


def test_env_int_rejects_text_and_values_below_the_minimum(monkeypatch):
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(ImproperlyConfigured, match=r"^COUNT='ten' is not a whole number >= 1"):
        env_int("COUNT", 3, minimum=1)
    monkeypatch.setenv("COUNT", "0")
    with pytest.raises(ImproperlyConfigured, match=r"^COUNT='0'"):
        env_int("COUNT", 3, minimum=1)
    monkeypatch.setenv("COUNT", "7")
    assert env_int("COUNT", 3, minimum=1) == 7


def test_env_str_without_default_names_the_missing_variable(monkeypatch):
    monkeypatch.delenv("TOKEN", raising=False)
    with pytest.raises(ImproperlyConfigured, match=r"^TOKEN is not set: .*\(needed for tests\)\.$"):
        env_str("TOKEN", required_because="needed for tests")


def test_env_choice_lists_the_allowed_values(monkeypatch):
    monkeypatch.setenv("LEVEL", "LOUD")
    with pytest.raises(ImproperlyConfigured, match=r"^LEVEL='LOUD' is not allowed: use one of DEBUG, INFO.$"):
        env_choice("LEVEL", "INFO", ("DEBUG", "INFO"))


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.com, ,b.example.com ")
    assert env_list("HOSTS") == ["a.example.com", "b.example.com"]
    monkeypatch.delenv("HOSTS")
    assert env_list("HOSTS", default=["x"]) == ["x"]


def test_read_dotenv_loads_values_without_overriding_the_environment(monkeypatch, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\n\nexport FROM_FILE='quoted value'\nALREADY=file\n")
    monkeypatch.delenv("FROM_FILE", raising=False)
    monkeypatch.setenv("ALREADY", "environment")
    read_dotenv(dotenv)
    assert env_str("FROM_FILE") == "quoted value"
    assert env_str("ALREADY") == "environment"
    monkeypatch.delenv("FROM_FILE")


def test_read_dotenv_rejects_a_bad_line_by_number_and_applies_nothing(monkeypatch, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("GOOD_BEFORE_BAD=1\nthis is not a setting\n")
    monkeypatch.delenv("GOOD_BEFORE_BAD", raising=False)
    with pytest.raises(ImproperlyConfigured, match=r"^\.env line 2: expected KEY=value"):
        read_dotenv(dotenv)
    assert "GOOD_BEFORE_BAD" not in os.environ


@mock_aws
def test_env_secret_reads_the_secret_a_function_names_by_arn(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name="app/django-secret-key", SecretString="from-secrets-manager")["ARN"]
    monkeypatch.setenv("SECRET_KEY_SECRET_ARN", arn)
    assert env_secret("SECRET_KEY", region="us-east-1") == "from-secrets-manager"
    # A value in the environment (ECS injected it) wins; nothing is read.
    monkeypatch.setenv("SECRET_KEY", "injected")
    assert env_secret("SECRET_KEY", region="us-east-1") == "injected"


@mock_aws
def test_env_secret_names_the_variable_when_the_secret_cannot_be_read(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing")
    with pytest.raises(ImproperlyConfigured, match=r"^SECRET_KEY_SECRET_ARN: cannot read"):
        env_secret("SECRET_KEY", region="us-east-1")
