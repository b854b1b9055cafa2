"""gunicorn settings for the `web` role (docker-entrypoint.sh); the variables are in README.md's table.

Start it with `python -m config.serve`, which checks WEB_CONCURRENCY before gunicorn reads it.
"""

import os

from config.env import env_choice, env_int
from config.startup import exit_on_bad_configuration, load_settings

# The app's settings are read here, in the master, so a bad one stops start-up with one line instead of a
# traceback from every worker that fails to boot.
load_settings()

with exit_on_bad_configuration():
    # uvicorn workers (config/server.py): Django's async views run on the event loop, sync views in threads;
    # connections that never finish sending their headers are closed after REQUEST_HEADER_TIMEOUT.
    worker_class = "config.server.UvicornWorker"
    bind = f"0.0.0.0:{env_int('PORT', 8000, minimum=1)}"
    # One async worker per CPU the process may use (a Fargate task sees exactly its vCPUs).
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = env_int("WEB_CONCURRENCY", cpus, minimum=1)

    # A worker silent for this long is killed and replaced.
    timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
    # On SIGTERM, workers finish in-flight requests for this long; below ECS's default 30 s stopTimeout, so the
    # task exits cleanly before ECS sends SIGKILL. The database bounds (DATABASE_STATEMENT_TIMEOUT plus
    # DATABASE_POOL_TIMEOUT) stay below it.
    graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 25, minimum=1)
    # Idle seconds after a response before the connection is closed. Longer than the load balancer's 60 s idle
    # timeout, so the balancer, not gunicorn, closes idle connections (never one it is about to reuse).
    keepalive = env_int("GUNICORN_KEEPALIVE", 65, minimum=1)

    # Only the load balancer reaches the tasks (security groups), and its nodes have private VPC addresses. The
    # client address is the right-most X-Forwarded-For entry that is not one of them: the one the balancer
    # appended, never one the client wrote itself (login lockouts are per address).
    forwarded_allow_ips = "127.0.0.1,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"

    # Logs go to stdout, where the container runtime (CloudWatch Logs on ECS) collects them, as one JSON object
    # per line like the app's own (observability/logs.py), so CloudWatch Logs Insights reads every line the same way.
    accesslog = "-"
    errorlog = "-"
    loglevel = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")).lower()
    logconfig_dict = {
        "root": {"level": loglevel.upper(), "handlers": ["json"]},
        "loggers": {
            name: {"level": loglevel.upper(), "handlers": ["json"], "propagate": False, "qualname": name}
            for name in ("gunicorn.error", "gunicorn.access")
        },
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "formatters": {"json": {"()": "{{ cookiecutter.project_slug }}.observability.logs.LogFormatter"}},
    }

# Read-only root filesystem: worker heartbeat files go to the container's own in-memory /dev/shm (else to the
# writable /tmp), and no control socket is created under $HOME (gunicorn >= 25 makes one by default; nobody
# runs gunicornc inside a container).
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None  # noqa: S108 (per-container memory)
control_socket_disable = True
