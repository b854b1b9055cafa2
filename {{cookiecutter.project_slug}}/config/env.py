"""Typed access to environment variables.

Every setting the project reads from the environment goes through these helpers, so a bad value fails at
start-up with one line naming the variable and the fix, and tests can list exactly which variables exist.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def read_dotenv(path: Path) -> None:
    """Load KEY=value lines from a local, git-ignored .env file. Variables already set win.

    The whole file is parsed before anything is applied, so a bad line changes nothing.
    """
    if not path.is_file():
        return
    values = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key.isidentifier():
            raise ImproperlyConfigured(f"{path.name} line {number}: expected KEY=value, got {raw!r}")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    for key, value in values.items():
        os.environ.setdefault(key, value)


def env_str(name: str, default: str | None = None, *, required_because: str = "") -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if default is None:
        raise ImproperlyConfigured(f"{name} is not set: set it in the environment or .env ({required_because}).")
    return default


def env_secret(name: str, default: str | None = None, *, region: str, required_because: str = "") -> str:
    """NAME, or where only NAME_SECRET_ARN is set, that Secrets Manager secret's string, read once at start-up.

    ECS injects secrets as environment variables when a task starts; Lambda cannot, so the task function gets
    the secrets' ARNs instead (terraform/modules/stack/tasks_lambda.tf).
    """
    arn = os.environ.get(f"{name}_SECRET_ARN", "")
    if os.environ.get(name) or not arn:
        return env_str(name, default, required_because=required_because)
    import boto3  # imported here: only functions that read secrets this way pay for importing boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.client("secretsmanager", region_name=region)
        return client.get_secret_value(SecretId=arn)["SecretString"]
    except (BotoCoreError, ClientError) as error:
        raise ImproperlyConfigured(
            f"{name}_SECRET_ARN: cannot read {arn} ({error}); check the ARN and that the role may read it."
        ) from error


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in TRUE | FALSE:
        return value in TRUE
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number >= {minimum}: fix the value.")
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not allowed: use one of {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; blanks are dropped."""
    value = os.environ.get(name, "")
    if not value.strip():
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]
