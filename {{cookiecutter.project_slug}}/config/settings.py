"""Django settings, all from environment variables (see the table in README.md).

With no DATABASE_URL and no REDIS_URL the project runs on SQLite and a local-memory cache, so it works with no
services at all; docker compose and production set both.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str, read_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
read_dotenv(Path(env_str("DOTENV_PATH", default=str(BASE_DIR / ".env"))))

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str(
    "SECRET_KEY",
    default="django-insecure-local-development-only" if DEBUG else None,
    required_because="required when DEBUG is off; generate one with `make secret`",
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is not set: list the site's host names, comma-separated.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "{{ cookiecutter.project_slug }}.notes",
]

MIDDLEWARE = [
    # First: request id, latency and status of every response except health checks (which it never counts).
    "{{ cookiecutter.project_slug }}.observability.middleware.RequestMetricsMiddleware",
    # Next, so load balancer health checks skip host validation and the HTTPS redirect.
    "{{ cookiecutter.project_slug }}.health.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
except ValueError as error:
    raise ImproperlyConfigured(f"DATABASE_URL is invalid ({error}): use postgres://user@host:5432/name.") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # On ECS the password comes from Secrets Manager on its own, so it never sits inside a URL.
    DATABASES["default"]["PASSWORD"] = env_str("DATABASE_PASSWORD", DATABASES["default"].get("PASSWORD", ""))
    # Keep options given in the URL's query string (?sslmode=verify-full) beside the pool.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("DATABASE_POOL_MIN_SIZE", 1),
        "max_size": env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=1),
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and sessions. django-redis keeps one connection pool per process, shared by all threads.
REDIS_URL = env_str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", default=""),
            "OPTIONS": {
                "PASSWORD": env_str("REDIS_PASSWORD", default="") or None,
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

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

# Logs: one JSON object per line on stdout (observability/logs.py), collected by the awslogs driver on ECS.
# CLOUDWATCH_LOG_GROUP ships the same lines (and the metric records) straight to CloudWatch Logs, for hosts
# outside ECS; the group must exist (terraform creates it with retention and encryption).
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR"))
CLOUDWATCH_LOG_GROUP = env_str("CLOUDWATCH_LOG_GROUP", default="")
# Metrics: one CloudWatch Embedded Metric Format record per request (observability/middleware.py).
METRICS_NAMESPACE = env_str("METRICS_NAMESPACE", default="{{ cookiecutter.__resource_prefix }}")
METRICS_SERVICE = env_str("METRICS_SERVICE", default="web")
METRICS_ENVIRONMENT = env_str("METRICS_ENVIRONMENT", default="local")

_log_handlers = ["console", "cloudwatch"] if CLOUDWATCH_LOG_GROUP else ["console"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_context": {"()": "{{ cookiecutter.project_slug }}.observability.logs.RequestContextFilter"}},
    "formatters": {"json": {"()": "{{ cookiecutter.project_slug }}.observability.logs.LogFormatter"}},
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
                    "()": "{{ cookiecutter.project_slug }}.observability.logs.CloudWatchLogsHandler",
                    "log_group_name": CLOUDWATCH_LOG_GROUP,
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
    },
}
