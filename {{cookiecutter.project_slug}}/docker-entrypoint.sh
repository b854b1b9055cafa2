#!/bin/sh
# The container's entry point: the first argument is the role. Each role is one case below; ECS task
# definitions and docker-compose.yml pass it as the command (["web"], ["migrate"], ["worker"], ["lambda"]).
set -eu

role="${1:-web}"
if [ "$#" -gt 0 ]; then shift; fi

case "$role" in
  web)
    # gunicorn with uvicorn workers (config/serve.py checks the settings first); gunicorn.conf.py reads
    # PORT, WEB_CONCURRENCY and the timeouts.
    exec python -m config.serve "$@"
    ;;
  migrate)
    # One-off, before a deploy's web tasks start.
    exec python manage.py migrate --noinput "$@"
    ;;
  worker)
    # The Celery consumer of the task queue (async_consumer=celery); the pool processes one task each at a time.
    exec celery --app {{ cookiecutter.project_slug }}.background.celery_app worker --loglevel INFO \
      --concurrency "${WORKER_CONCURRENCY:-2}" --without-gossip --without-mingle --without-heartbeat "$@"
    ;;
  lambda)
    # The Lambda consumer (async_consumer=lambda): this image as a Lambda function, its handler run by awslambdaric.
    exec python -m awslambdaric {{ cookiecutter.project_slug }}.background.handler.handler
    ;;
  manage)
    # Any other management command: docker run IMAGE manage createsuperuser
    exec python manage.py "$@"
    ;;
  *)
    echo "unknown role '$role': use web, migrate, worker, lambda or manage" >&2
    exit 64
    ;;
esac
