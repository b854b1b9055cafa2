#!/bin/sh
# The container's entry point: the first argument is the role. Each role is one case below; ECS task
# definitions and docker-compose.yml pass it as the command (["web"], ["migrate"]).
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
  manage)
    # Any other management command: docker run IMAGE manage createsuperuser
    exec python manage.py "$@"
    ;;
  *)
    echo "unknown role '$role': use web, migrate or manage" >&2
    exit 64
    ;;
esac
