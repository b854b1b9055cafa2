"""gunicorn settings for the `web` role (docker-entrypoint.sh); the variables are in README.md's table."""

import os

from config.env import env_choice, env_int

# uvicorn workers: Django's async views run on the event loop, sync views in threads.
worker_class = "uvicorn_worker.UvicornWorker"
bind = f"0.0.0.0:{env_int('PORT', 8000, minimum=1)}"
# One async worker per CPU the process may use (a Fargate task sees exactly its vCPUs).
cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = env_int("WEB_CONCURRENCY", cpus, minimum=1)

# A worker silent for this long is killed and replaced.
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
# On SIGTERM, workers finish in-flight requests for this long; below ECS's default 30 s stopTimeout, so the
# task exits cleanly before ECS sends SIGKILL.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 25, minimum=1)
# Longer than the load balancer's 60 s idle timeout, so the balancer, not gunicorn, closes idle connections.
keepalive = 65

# Only the load balancer reaches the tasks (security groups), so its X-Forwarded-* headers are trusted.
forwarded_allow_ips = "*"

# Logs go to stdout, where the container runtime (CloudWatch Logs on ECS) collects them, as one JSON object per
# line like the app's own (observability/logs.py), so CloudWatch Logs Insights reads every line the same way.
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
