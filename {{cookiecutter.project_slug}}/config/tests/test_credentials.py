"""Where the database password comes from on AWS: an IAM auth token or a secret, fetched per new connection."""

import pytest

from config.credentials import IamAuthToken, password_source


@pytest.fixture
def fake_aws(monkeypatch):
    # Signing happens locally, so fake credentials give a real token shape without any AWS call.
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def settings_dict(**credentials):
    return {"HOST": "db.internal", "PORT": "5432", "USER": "app", "CREDENTIALS": credentials}


def test_iam_auth_gives_a_fresh_token_for_the_urls_user_and_host(fake_aws):
    source = password_source(settings_dict(iam_auth=True, secret_arn="", region="eu-west-1"))
    assert isinstance(source, IamAuthToken)
    token = source.password()
    assert token.startswith("db.internal:5432/?Action=connect&DBUser=app&")
    assert "X-Amz-Signature=" in token
    assert "eu-west-1" in token


def test_one_source_per_configuration_and_none_for_a_plain_password(fake_aws):
    first = password_source(settings_dict(iam_auth=True, secret_arn="", region="eu-west-1"))
    assert password_source(settings_dict(iam_auth=True, secret_arn="", region="eu-west-1")) is first
    assert password_source(settings_dict(iam_auth=False, secret_arn="", region="")) is None
    assert password_source({"HOST": "", "PORT": "", "USER": ""}) is None
