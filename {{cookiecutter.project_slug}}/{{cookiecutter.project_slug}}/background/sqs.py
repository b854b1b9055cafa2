"""One SQS client per process: boto3 clients are thread-safe, and building one per call or thread is slow."""

import functools
import threading

import boto3
from botocore.config import Config
from django.conf import settings

_lock = threading.Lock()

CONFIG = Config(connect_timeout=5, read_timeout=25, retries={"mode": "standard", "max_attempts": 5})


@functools.cache
def _client():
    return boto3.session.Session().client("sqs", region_name=settings.AWS_REGION, config=CONFIG)


def client():
    # functools.cache alone could build two clients on a first concurrent call.
    with _lock:
        return _client()
