"""Django settings, all from environment variables (see the table in README.md).

With no DATABASE_URL and no REDIS_URL the project runs on SQLite and a local-memory cache, so it works with no
services at all; docker compose and production set both.
"""

import urllib.parse
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_choice, env_int, env_list, env_secret, env_str, read_dotenv
from {{ cookiecutter.project_slug }}.observability import names

BASE_DIR = Path(__file__).resolve().parent.parent
read_dotenv(Path(env_str("DOTENV_PATH", default=str(BASE_DIR / ".env"))))

DEBUG = env_bool("DEBUG", default=False)
# The region of every AWS client the app makes. boto3 itself reads only AWS_DEFAULT_REGION, which ECS and Lambda
# set but a server of one's own may not: each client is given this instead.
AWS_REGION = env_str("AWS_REGION", default="{{ cookiecutter.aws_region }}")
SECRET_KEY = env_secret(
    "SECRET_KEY",
    region=AWS_REGION,
    default="django-insecure-local-development-only" if DEBUG else None,
    required_because="required when DEBUG is off; generate one with `make secret`",
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set: list the site's host names, comma-separated.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Background tasks: application code uses django.tasks (@task, .enqueue()) only. The consumer was chosen when the
# project was generated; without a queue (make run, tests) tasks run inline, in the request.
TASKS_CONSUMER = "{{ cookiecutter.async_consumer }}"
TASKS_QUEUE_URL = env_str("TASKS_QUEUE_URL", default="")
TASKS_DEAD_LETTER_QUEUE_URL = env_str("TASKS_DEAD_LETTER_QUEUE_URL", default="")
# A failed task is retried after base x 2^(receive count - 1) seconds, at most the maximum.
TASKS_BACKOFF_BASE_SECONDS = env_int("TASKS_BACKOFF_BASE_SECONDS", default=30, minimum=1)
TASKS_BACKOFF_MAX_SECONDS = env_int("TASKS_BACKOFF_MAX_SECONDS", default=900, minimum=1)
# Celery: a task is killed after the time limit, which must stay under the queue's visibility timeout, or SQS
# would hand the message to a second worker while the first still runs it.
TASKS_TIME_LIMIT_SECONDS = env_int("TASKS_TIME_LIMIT_SECONDS", default=300, minimum=1)
TASKS_VISIBILITY_TIMEOUT_SECONDS = env_int("TASKS_VISIBILITY_TIMEOUT_SECONDS", default=1800, minimum=1)
if TASKS_TIME_LIMIT_SECONDS >= TASKS_VISIBILITY_TIMEOUT_SECONDS:
    raise ImproperlyConfigured(
        "TASKS_TIME_LIMIT_SECONDS must be below TASKS_VISIBILITY_TIMEOUT_SECONDS: lower the limit or raise the timeout."
    )
if TASKS_CONSUMER == "none" or not TASKS_QUEUE_URL:
    TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
else:
    TASKS = {
        "default": {
            "BACKEND": f"{{ cookiecutter.project_slug }}.background.backend_{TASKS_CONSUMER}.QueueBackend",
            "OPTIONS": {"QUEUE_URL": TASKS_QUEUE_URL},
        }
    }

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "{{ cookiecutter.project_slug }}.database",
    "{{ cookiecutter.project_slug }}.notes",
    *(["{{ cookiecutter.project_slug }}.background"] if TASKS_CONSUMER != "none" else []),
]

MIDDLEWARE = [
    # First: request id, latency and status of every response except health checks (which it never counts).
    "{{ cookiecutter.project_slug }}.observability.middleware.RequestMetricsMiddleware",
    # Next, so load balancer health checks skip host validation and the HTTPS redirect.
    "{{ cookiecutter.project_slug }}.health.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Database outages and pool exhaustion answer 503 with Retry-After instead of 500.
    "{{ cookiecutter.project_slug }}.health.middleware.DatabaseUnavailableMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it answers locked-out logins.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database. Under uvicorn workers every sync request runs in a fresh thread, so per-thread persistent
# connections (CONN_MAX_AGE) would be opened per request and exhaust PostgreSQL; a process-wide psycopg pool
# is reused across threads instead.
DATABASE_URL = env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_database_url = urllib.parse.urlsplit(DATABASE_URL)
if _database_url.scheme not in {"postgres", "postgresql", "sqlite"}:
    raise ImproperlyConfigured(
        f"DATABASE_URL uses {_database_url.scheme or 'no'} scheme: use postgres://user@host:5432/name (PostgreSQL)."
    )
if _database_url.scheme != "sqlite" and not _database_url.path.strip("/"):
    raise ImproperlyConfigured("DATABASE_URL names no database: use postgres://user@host:5432/name.")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is invalid ({error}): use postgres://user@host:5432/name.") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend plus passwords fetched for each new connection (config/postgresql).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    # Locally the password may sit in the URL or DATABASE_PASSWORD. On AWS it is never a fixed value: RDS
    # rotates the master secret, so it is read when a connection opens, either as an IAM auth token
    # (DATABASE_IAM_AUTH, the app's own role) or from the Secrets Manager secret (DATABASE_SECRET_ARN, migrate).
    DATABASES["default"]["PASSWORD"] = env_str("DATABASE_PASSWORD", DATABASES["default"].get("PASSWORD", ""))
    DATABASE_IAM_AUTH = env_bool("DATABASE_IAM_AUTH", default=False)
    DATABASE_SECRET_ARN = env_str("DATABASE_SECRET_ARN", default="")
    if DATABASE_IAM_AUTH and DATABASE_SECRET_ARN:
        raise ImproperlyConfigured("DATABASE_IAM_AUTH and DATABASE_SECRET_ARN are both set: keep only one.")
    DATABASES["default"]["CREDENTIALS"] = {
        "iam_auth": DATABASE_IAM_AUTH,
        "secret_arn": DATABASE_SECRET_ARN,
        "region": AWS_REGION,
    }
    # Every bound stays inside gunicorn's 25 s graceful stop: a query waits for locks at most
    # DATABASE_STATEMENT_TIMEOUT seconds, a request waits for a pooled connection at most DATABASE_POOL_TIMEOUT.
    options = DATABASES["default"].setdefault("OPTIONS", {})  # keeps ?sslmode=... from the URL
    options["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=2)
    options["options"] = f"-c statement_timeout={env_int('DATABASE_STATEMENT_TIMEOUT', 10, minimum=1) * 1000}"
    pool_min, pool_max = env_int("DATABASE_POOL_MIN_SIZE", 1), env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=1)
    if pool_min > pool_max:
        raise ImproperlyConfigured(
            f"DATABASE_POOL_MIN_SIZE={pool_min} is above DATABASE_POOL_MAX_SIZE={pool_max}: "
            "lower it or raise the maximum."
        )
    options["pool"] = {
        "min_size": pool_min,
        "max_size": pool_max,
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 5, minimum=1),
        # The backend (config/postgresql) adds the pool's check of each connection as it leaves the pool, so one
        # killed by a restart or failover is replaced instead of failing the request.
    }
    del options
# The migrate task (as the master user) makes sure this role exists and may use the app's tables
# ({{ cookiecutter.project_slug }}/database/roles.py); web, worker and lambda log in as it.
DATABASE_APP_USER = env_str("DATABASE_APP_USER", default="")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache. django-redis keeps one connection pool per process, shared by all threads. Nothing depends on the
# cache being up: errors are logged and ignored (a miss), and /readyz names it.
REDIS_URL = env_str("REDIS_URL", default="")
if REDIS_URL:
    _redis_scheme = urllib.parse.urlsplit(REDIS_URL).scheme
    if _redis_scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"REDIS_URL uses {_redis_scheme or 'no'} scheme: use redis://host:6379/0 (rediss:// for TLS)."
        )
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", default=""),
            "OPTIONS": {
                "PASSWORD": env_secret("REDIS_PASSWORD", default="", region=AWS_REGION) or None,
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database alone, so a cache outage never logs anyone out or fails a POST.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "servestatic.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS is terminated at the load balancer, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy: nothing but this site's own scripts, styles, images and forms; the admin and the
# notes pages need no inline code. Tests render them and check every element against this policy.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Request bodies above this size are refused with 413 before they are read (config/asgi.py), so an anonymous
# upload can neither fill the task's small disk nor its memory.
REQUEST_BODY_MAX_BYTES = env_int("REQUEST_BODY_MAX_BYTES", 10 * 1024 * 1024, minimum=1)

# Admin login throttling (django-axes, kept in the database): a username is locked out from one address after
# this many failures, for AXES_COOLOFF_MINUTES. uvicorn has already taken the client address from the load
# balancer's X-Forwarded-For, so REMOTE_ADDR is the one to trust.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Its start-up banner would be the only line on stdout that is not a JSON log record.
AXES_VERBOSE = False

# Logs: one JSON object per line on stdout (observability/logs.py), collected by the awslogs driver on ECS.
# CLOUDWATCH_LOG_GROUP ships the same lines (and the metric records) straight to CloudWatch Logs, for hosts
# outside ECS; the group must exist (terraform creates it with retention and encryption).
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
CLOUDWATCH_LOG_GROUP = env_str("CLOUDWATCH_LOG_GROUP", default="")
# Metrics: one CloudWatch Embedded Metric Format record per request (observability/middleware.py).
METRICS_NAMESPACE = env_str("METRICS_NAMESPACE", default="{{ cookiecutter.__resource_prefix }}")
METRICS_SERVICE = env_str("METRICS_SERVICE", default=names.DEFAULT_SERVICE)
METRICS_ENVIRONMENT = env_str("METRICS_ENVIRONMENT", default=names.DEFAULT_ENVIRONMENT)

_log_handlers = ["console", "cloudwatch"] if CLOUDWATCH_LOG_GROUP else ["console"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "{{ cookiecutter.project_slug }}.observability.logs.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "{{ cookiecutter.project_slug }}.observability.logs.LogFormatter",
            "service": METRICS_SERVICE,
            "environment": METRICS_ENVIRONMENT,
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_context"],
        },
        **(
            {
                "cloudwatch": {
                    "()": "{{ cookiecutter.project_slug }}.observability.cloudwatch_logs.CloudWatchLogsHandler",
                    "log_group_name": CLOUDWATCH_LOG_GROUP,
                    "region_name": AWS_REGION,
                    "formatter": "json",
                    "filters": ["request_context"],
                }
            }
            if CLOUDWATCH_LOG_GROUP
            else {}
        ),
    },
    "root": {"handlers": _log_handlers, "level": LOG_LEVEL},
    "loggers": {
        # Metric records are whole JSON objects of their own; never dropped by LOG_LEVEL.
        "observability.emf": {"handlers": _log_handlers, "level": "INFO", "propagate": False},
        # Django's own console handler (DEBUG) would print each of its lines a second time, as plain text.
        "django": {"handlers": _log_handlers, "level": LOG_LEVEL, "propagate": False},
        # The AWS SDK logs every call; shipping logs must not produce more logs.
        **{name: {"level": "WARNING"} for name in ("botocore", "boto3", "urllib3", "s3transfer")},
        # django-redis logs each cache error it ignores.
        "django_redis": {"level": "WARNING"},
    },
}
