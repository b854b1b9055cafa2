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


def settings_json(expression, **env):
    code = (
        "import django, json; django.setup(); from django.conf import settings; print(json.dumps(" + expression + "))"
    )
    result = run(code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def variables_read():
    """Names passed to the env_* helpers in config/ and gunicorn.conf.py: the variables the project reads."""
    names = set()
    for path in [*(ROOT / "config").glob("*.py"), ROOT / "gunicorn.conf.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "").startswith("env_") and node.args:
                names.add(node.args[0].value)
    return names


def test_production_settings_pass_check_deploy_at_warning_level():
    result = run(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_database_uses_a_pool_and_no_persistent_connections():
    db = settings_json('settings.DATABASES["default"]', **PRODUCTION, DATABASE_POOL_MAX_SIZE="4")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["NAME"], db["USER"]) == ("db.internal", "app", "app")
    assert db["PASSWORD"] == "from-secrets-manager"
    assert db["CONN_MAX_AGE"] == 0
    assert db["OPTIONS"]["pool"]["max_size"] == 4


def test_database_url_options_are_kept_beside_the_pool():
    url = PRODUCTION["DATABASE_URL"] + "?sslmode=verify-full"
    options = settings_json('settings.DATABASES["default"]["OPTIONS"]', **PRODUCTION | {"DATABASE_URL": url})
    assert options["sslmode"] == "verify-full"
    assert options["pool"]["min_size"] == 1


def test_production_cache_and_sessions_use_redis():
    cache, engine = settings_json('[settings.CACHES["default"], settings.SESSION_ENGINE]', **PRODUCTION)
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    assert cache["LOCATION"] == "rediss://cache.internal:6379/0"
    assert engine == "django.contrib.sessions.backends.cached_db"


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
        ({"DATABASE_URL": "mongodb://db/app"}, r"DATABASE_URL is invalid .*: use postgres://"),
        ({"DATABASE_POOL_MAX_SIZE": "0"}, r"DATABASE_POOL_MAX_SIZE='0' is not a whole number >= 1"),
        ({"LOG_LEVEL": "chatty"}, r"LOG_LEVEL='chatty' is not allowed: use one of DEBUG, INFO"),
    ],
    ids=["missing-secret-key", "missing-allowed-hosts", "bad-debug", "bad-database-url", "empty-pool", "bad-log-level"],
)
def test_a_bad_value_stops_start_up_with_one_line_naming_it(env, message):
    result = run(["check"], **(PRODUCTION | env))
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert re.search("ImproperlyConfigured: " + message, last_line), last_line


def test_readme_documents_exactly_the_variables_the_settings_read():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    assert documented == variables_read()
