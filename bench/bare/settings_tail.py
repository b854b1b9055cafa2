# Appended by bench/web.py to the settings `django-admin startproject` wrote: production-like values and the
# same PostgreSQL and Redis as the generated app; everything else (middleware included) stays as generated.
import os

import dj_database_url

DEBUG = False
ALLOWED_HOSTS = ["localhost"]
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)}
if os.environ.get("BENCH_PSYCOPG_POOL") == "1":
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 10, "timeout": 10}}
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),
    }
}
