"""Tasks the background tests enqueue and run."""

from django.tasks import task

from ...notes.models import Note


@task
def make_note(title):
    Note.objects.create(title=title)


@task
def make_note_then_fail(title):
    Note.objects.create(title=title)
    raise RuntimeError("the task failed after writing")


not_a_task = make_note.func
