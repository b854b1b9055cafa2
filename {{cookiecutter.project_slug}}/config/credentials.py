"""Where the database password comes from when it is not a fixed value: an RDS IAM auth token or a secret.

DATABASE_IAM_AUTH=true: every new connection gets a fresh IAM auth token (signed locally by boto3, valid 15
minutes) for the user in DATABASE_URL. DATABASE_SECRET_ARN: the JSON key `password` of that Secrets Manager
secret, kept for a minute and read again at once when the server rejects it (after a rotation).
"""

import json
import threading
import time
from urllib.parse import unquote

SECRET_MAX_AGE = 60  # seconds a secret's password is reused before it is read again


class IamAuthToken:
    def __init__(self, host, port, user, region):
        import boto3  # imported here: only deployments that use it pay for importing boto3

        self.client = boto3.client("rds", region_name=region)
        self.host, self.port, self.user, self.region = host, int(port or 5432), unquote(user), region

    def password(self, refresh=False):
        return self.client.generate_db_auth_token(
            DBHostname=self.host, Port=self.port, DBUsername=self.user, Region=self.region
        )


class SecretPassword:
    def __init__(self, arn, region):
        import boto3  # as above

        self.client = boto3.client("secretsmanager", region_name=region)
        self.arn = arn
        self.lock = threading.Lock()
        self.value, self.read_at = None, 0.0

    def password(self, refresh=False):
        with self.lock:
            if refresh or self.value is None or time.monotonic() - self.read_at > SECRET_MAX_AGE:
                secret = self.client.get_secret_value(SecretId=self.arn)
                self.value, self.read_at = json.loads(secret["SecretString"])["password"], time.monotonic()
            return self.value


_sources = {}
_sources_lock = threading.Lock()


def password_source(settings_dict):
    """The password source DATABASES' CREDENTIALS ask for (one per process and configuration), or None."""
    credentials = settings_dict.get("CREDENTIALS") or {}
    if credentials.get("iam_auth"):
        key = ("iam", settings_dict["HOST"], settings_dict["PORT"], settings_dict["USER"], credentials["region"])
        factory = lambda: IamAuthToken(*key[1:])  # noqa: E731
    elif credentials.get("secret_arn"):
        key = ("secret", credentials["secret_arn"], credentials.get("region"))
        factory = lambda: SecretPassword(*key[1:])  # noqa: E731
    else:
        return None
    with _sources_lock:
        if key not in _sources:
            _sources[key] = factory()
        return _sources[key]
