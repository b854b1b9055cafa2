"""Settings are built from the environment: run them in a fresh process with a controlled environment."""

import ast
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "app.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://app.example.com",
    "DATABASE_URL": "postgres://app@db.internal:5432/app",
    "DATABASE_PASSWORD": "from-secrets-manager",
    "REDIS_URL": "rediss://cache.internal:6379/0",
}


def run(code_or_args, **env):
    """Run manage.py or a snippet with only the given settings variables (and no .env file)."""
    clean = {k: v for k, v in os.environ.items() if k not in variables_read() and k != "DJANGO_SETTINGS_MODULE"}
    clean |= {"DJANGO_SETTINGS_MODULE": "config.settings", "DOTENV_PATH": str(ROOT / "no-such.env"), **env}
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else ["manage.py", *code_or_args]
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, check=False)


def run_command(args, **env):
    """python ARGS (manage.py ... or -m config.serve ...) with only the given settings variables."""
    clean = {k: v for k, v in os.environ.items() if k not in variables_read() and k != "DJANGO_SETTINGS_MODULE"}
    clean |= {"DOTENV_PATH": str(ROOT / "no-such.env"), "WEB_CONCURRENCY": "1", **env}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, check=False)


def settings_json(expression, **env):
    code = (
        "import django, json; django.setup(); from django.conf import settings; print(json.dumps("
        + expression
        + ", default=repr))"
    )
    result = run(code, **env)
    assert result.returncode == 0, result.stderr
    # Log lines (JSON, on stdout like everything the container prints) come first; the value is the last line.
    return json.loads(result.stdout.splitlines()[-1])


def variables_read():
    """Names passed to the env_* helpers in config/ and gunicorn.conf.py: the variables the project reads."""
    names = set()
    for path in [*(ROOT / "config").glob("*.py"), ROOT / "gunicorn.conf.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            # A literal name is a variable read; env.py's helpers pass theirs on as a parameter.
            call = isinstance(node, ast.Call) and getattr(node.func, "id", "").startswith("env_") and node.args
            if call and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names


def test_production_settings_pass_check_deploy_at_warning_level():
    result = run(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_database_uses_a_pool_and_no_persistent_connections():
    db = settings_json('settings.DATABASES["default"]', **PRODUCTION, DATABASE_POOL_MAX_SIZE="4")
    assert db["ENGINE"] == "config.postgresql"
    assert (db["HOST"], db["NAME"], db["USER"]) == ("db.internal", "app", "app")
    assert db["PASSWORD"] == "from-secrets-manager"
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] == 4


def test_pool_checks_connections_and_every_database_wait_is_bounded_below_the_graceful_stop():
    db = settings_json('settings.DATABASES["default"]', **PRODUCTION)
    pool = db["OPTIONS"]["pool"]
    pool_check = settings_json('__import__("django.db").db.connections["default"].pool._check', **PRODUCTION)
    assert "check_connection" in pool_check
    statement_timeout_ms = int(db["OPTIONS"]["options"].removeprefix("-c statement_timeout="))
    assert statement_timeout_ms / 1000 + pool["timeout"] < 25  # gunicorn's graceful_timeout


def test_database_url_options_are_kept_beside_the_pool():
    url = PRODUCTION["DATABASE_URL"] + "?sslmode=verify-full"
    options = settings_json('settings.DATABASES["default"]["OPTIONS"]', **PRODUCTION | {"DATABASE_URL": url})
    assert options["sslmode"] == "verify-full"
    assert options["pool"]["min_size"] == 1


def test_production_cache_and_sessions_use_redis():
    cache, engine = settings_json('[settings.CACHES["default"], settings.SESSION_ENGINE]', **PRODUCTION)
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["LOCATION"] == "rediss://cache.internal:6379/0"
    assert cache["OPTIONS"]["IGNORE_EXCEPTIONS"] is True
    # Sessions never depend on the cache, so a Redis outage breaks no session.
    assert engine == "django.contrib.sessions.backends.db"


def test_production_trusts_the_load_balancer_for_https():
    names = ["SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]
    values = settings_json("[getattr(settings, n) for n in " + json.dumps(names) + "]", **PRODUCTION)
    assert values == [["HTTP_X_FORWARDED_PROTO", "https"], True, True, True]
    assert settings_json("settings.SECURE_HSTS_SECONDS", **PRODUCTION) >= 31536000


def test_without_services_the_project_runs_on_sqlite_and_local_memory():
    db, cache = settings_json(
        '[settings.DATABASES["default"]["ENGINE"], settings.CACHES["default"]["BACKEND"]]', DEBUG="true"
    )
    assert db == "django.db.backends.sqlite3"
    assert cache == "django.core.cache.backends.locmem.LocMemCache"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": ""}, r"SECRET_KEY is not set: .*required when DEBUG is off"),
        ({"ALLOWED_HOSTS": ""}, r"ALLOWED_HOSTS is not set: list the site's host names"),
        ({"DEBUG": "perhaps"}, r"DEBUG='perhaps' is not a boolean"),
        ({"DATABASE_URL": "mongodb://db/app"}, r"DATABASE_URL uses mongodb scheme: use postgres://"),
        ({"DATABASE_URL": "mysql://app@db:3306/app"}, r"DATABASE_URL uses mysql scheme: use postgres://"),
        ({"DATABASE_URL": "postgres://app@db:5432"}, r"DATABASE_URL names no database: use postgres://"),
        ({"DATABASE_POOL_MAX_SIZE": "0"}, r"DATABASE_POOL_MAX_SIZE='0' is not a whole number >= 1"),
        ({"DATABASE_POOL_MIN_SIZE": "5", "DATABASE_POOL_MAX_SIZE": "2"}, r"DATABASE_POOL_MIN_SIZE=5 is above"),
        ({"DATABASE_IAM_AUTH": "true", "DATABASE_SECRET_ARN": "arn:x"}, r"DATABASE_IAM_AUTH and DATABASE_SECRET_ARN"),
        ({"REDIS_URL": "http://cache:6379/0"}, r"REDIS_URL uses http scheme: use redis://"),
        ({"LOG_LEVEL": "chatty"}, r"LOG_LEVEL='chatty' is not allowed: use one of DEBUG, INFO"),
        ({"REQUEST_BODY_MAX_BYTES": "big"}, r"REQUEST_BODY_MAX_BYTES='big' is not a whole number"),
    ],
    ids=[
        "missing-secret-key",
        "missing-allowed-hosts",
        "bad-debug",
        "mongodb-database-url",
        "mysql-database-url",
        "database-url-without-a-database",
        "empty-pool",
        "pool-minimum-above-maximum",
        "two-password-sources",
        "redis-url-with-a-wrong-scheme",
        "bad-log-level",
        "bad-body-limit",
    ],
)
@pytest.mark.parametrize(
    "command", [["manage.py", "check"], ["-m", "config.serve", "--check-config"]], ids=["manage.py", "gunicorn"]
)
def test_a_bad_value_stops_start_up_with_one_line_naming_it(env, message, command):
    result = run_command(command, **(PRODUCTION | env))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr  # one line, no traceback
    assert re.fullmatch("configuration error: " + message + ".*", result.stderr.strip()), result.stderr


@pytest.mark.parametrize("value", ["two", "0"])
def test_a_bad_worker_count_stops_gunicorn_with_one_line_naming_it(value):
    result = run_command(["-m", "config.serve", "--check-config"], **PRODUCTION, WEB_CONCURRENCY=value)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"configuration error: WEB_CONCURRENCY='{value}' is not a whole number >= 1: fix the value."
    )


def test_good_settings_pass_gunicorns_configuration_check():
    result = run_command(["-m", "config.serve", "--check-config"], **PRODUCTION, WEB_CONCURRENCY="2")
    assert result.returncode == 0, result.stderr


def test_readme_documents_exactly_the_variables_the_settings_read():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert documented == variables_read()
