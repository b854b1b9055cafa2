"""Work the notes app does in the background, through Django's Tasks API only."""

import json

from django.tasks import task
from django.utils import timezone

from .models import Note, NoteExport


@task
def build_export(export_id):
    export = NoteExport.objects.select_for_update().get(pk=export_id)
    export.content = json.dumps(
        [
            {"id": note.pk, "title": note.title, "body": note.body, "created_at": note.created_at.isoformat()}
            for note in Note.objects.all()
        ]
    )
    export.finished_at = timezone.now()
    export.save(update_fields=["content", "finished_at"])
