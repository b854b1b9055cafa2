"""Tasks the background tests enqueue and run."""

from django.tasks import task

from ...notes.models import Note
from ...observability import context, metrics


@task
def make_note(title):
    Note.objects.create(title=title)


@task
def make_note_then_fail(title):
    Note.objects.create(title=title)
    raise RuntimeError("the task failed after writing")


@task
def note_the_request_id(title):
    metrics.count("NotesExported")
    Note.objects.create(title=f"{title} {context.request_id.get()}")


not_a_task = make_note.func
