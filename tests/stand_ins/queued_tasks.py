"""Tasks the consumer tests enqueue: put on the generated project's PYTHONPATH as a stand-in app module.

Attempts are counted in files under TASK_ATTEMPTS_DIR, outside the database, so a rolled-back attempt still counts.
"""

import os
import random
import time
from pathlib import Path

from django.apps import apps
from django.tasks import task


def attempt(name):
    """Count one more attempt of NAME; returns the count including this one."""
    path = Path(os.environ["TASK_ATTEMPTS_DIR"]) / name
    with path.open("a") as file:
        file.write("x")
    return len(path.read_text())


def note(title):
    apps.get_model("notes", "Note").objects.create(title=title)


@task
def make_note(title):
    attempt(title)
    note(title)


@task
def fail_first(title, failures):
    """Writes its note, then fails on the first FAILURES attempts (so the write is rolled back)."""
    note(title)
    if attempt(title) <= failures:
        raise RuntimeError(f"{title}: planned failure")


@task
def hang_first(title):
    """The first attempt hangs (until the test kills the worker); later ones write the note."""
    if attempt(title) == 1:
        time.sleep(600)
    note(title)


@task
def fail_first_one_in_ten(title):
    """Writes its note; for about one title in ten (chosen by the title, so every run agrees) the first attempt
    then fails, as a timeout or a dropped connection would, and the write is rolled back."""
    note(title)
    if attempt(title) == 1 and random.Random(title).random() < 0.1:
        raise RuntimeError(f"{title}: planned transient failure")
