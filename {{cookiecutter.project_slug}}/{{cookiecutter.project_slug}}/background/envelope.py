"""The message a queued task travels in: versioned JSON that names the task and carries its arguments.

{"version": 1, "task": "app.tasks.name", "args": [...], "kwargs": {...}, "task_id": "...",
 "enqueued_at": "2026-01-01T00:00:00+00:00", "correlation_id": "..."}
"""

import json
import uuid
from dataclasses import dataclass

from ..observability import context

VERSION = 1
# SQS's size limit for a message body (the queue's maximum_message_size in terraform).
MAX_BYTES = 262_144


class EnvelopeError(ValueError):
    """A message body that is not a task envelope this code understands."""


@dataclass(frozen=True)
class Envelope:
    task: str
    args: list
    kwargs: dict
    task_id: str
    enqueued_at: str
    correlation_id: str

    def to_json(self) -> str:
        body = {"version": VERSION, **self.__dict__}
        try:
            text = json.dumps(body, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as error:
            raise TypeError(f"task {self.task}: arguments must be JSON-serialisable ({error})") from None
        size = len(text.encode())
        if size > MAX_BYTES:
            raise ValueError(
                f"task {self.task}: the message is {size} bytes, over SQS's {MAX_BYTES}; "
                "pass an id and load the data in the task instead"
            )
        return text

    @classmethod
    def from_json(cls, text: str) -> "Envelope":
        try:
            body = json.loads(text)
        except ValueError as error:
            raise EnvelopeError(f"the message body is not JSON ({error})") from None
        if not isinstance(body, dict) or body.get("version") != VERSION:
            raise EnvelopeError(f"the message is not a version {VERSION} task envelope")
        try:
            envelope = cls(**{name: body[name] for name in cls.__dataclass_fields__})
        except KeyError as error:
            raise EnvelopeError(f"the task envelope has no {error.args[0]!r}") from None
        if not isinstance(envelope.args, list) or not isinstance(envelope.kwargs, dict):
            raise EnvelopeError("the task envelope's args must be a list and kwargs an object")
        return envelope


def new_correlation_id() -> str:
    """The request id of the work in progress (a request, or a task that enqueues another), so one id follows
    a piece of work from the request into every task it causes and their log lines."""
    return context.request_id.get() or uuid.uuid4().hex
