"""Logs through the project's settings, forks, and logs again from the child, as gunicorn --preload or Celery would.

    python forked_logging.py PACKAGE      (run from the generated project, with CLOUDWATCH_LOG_GROUP set)

Prints the child's pid; exits 3 if the child would ship through the parent's boto3 client. The parent ships a
line before the fork, so its handler already has a sender thread and an open connection when the child is made.
"""

import importlib
import logging
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
context = importlib.import_module(f"{sys.argv[1]}.observability.context")
metrics = importlib.import_module(f"{sys.argv[1]}.observability.metrics")

log = logging.getLogger("stand_in")
log.info("parent before fork")
shipping = [handler for handler in logging.getLogger().handlers if hasattr(handler, "cwl_client")]
for handler in shipping:
    handler.flush()  # sent now, over the parent's connection
    handler.cwl_client.made_in_parent = True

child = os.fork()
if child == 0:
    if any(getattr(handler.cwl_client, "made_in_parent", False) for handler in shipping):
        # Two processes on one connection pool interleave requests on the same sockets.
        print("the forked child ships logs through the parent's boto3 client", file=sys.stderr)
        os._exit(3)
    with context.bind("forked-child-request"):
        log.info("child after fork")
        with metrics.scope(Origin="forked-child"):
            metrics.count("ForkedChildren")
    logging.shutdown()  # flushes the handler, as a worker's exit does
    os._exit(0)

_, status = os.waitpid(child, 0)
log.info("parent after fork")
logging.shutdown()
print(child)
sys.exit(os.waitstatus_to_exitcode(status))
