"""Shipping log lines to CloudWatch Logs from hosts outside ECS (CLOUDWATCH_LOG_GROUP; settings.LOGGING)."""

import os

import boto3
import watchtower


class CloudWatchLogsHandler(watchtower.CloudWatchLogHandler):
    """watchtower's handler, safe across fork: each process gets its own client, queues and sender thread.

    watchtower resets its queues in a forked child, but keeps the parent's boto3 client, whose connection pool
    would then be shared by two processes; the client is made anew in each process instead. The log stream is
    per host and process, so concurrent senders never write to one stream.
    """

    def __init__(self, log_group_name, region_name, **kwargs):
        kwargs.setdefault("log_stream_name", "{machine_name}/{program_name}/{process_id}")
        kwargs.setdefault("send_interval", 10)
        kwargs.setdefault("create_log_group", False)  # terraform owns the group (retention, KMS)
        self.region_name = region_name
        super().__init__(log_group_name=log_group_name, boto3_client=self.new_client(), **kwargs)
        self._pid = os.getpid()

    def new_client(self):
        # Credentials and AWS_ENDPOINT_URL come from the environment, as for every other boto3 client.
        return boto3.session.Session().client("logs", region_name=self.region_name)

    def _at_fork_reinit(self):
        super()._at_fork_reinit()
        self.cwl_client = self.new_client()
        self._pid = os.getpid()

    def emit(self, message):
        if getattr(self, "_pid", os.getpid()) != os.getpid():  # forked without the fork hooks (os.fork in C code)
            self._at_fork_reinit()
        super().emit(message)
