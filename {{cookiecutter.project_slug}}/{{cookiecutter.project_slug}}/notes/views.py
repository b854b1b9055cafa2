import json

from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from .models import Note, NoteExport
from .tasks import build_export

PAGE_SIZE = 50


def as_json(note):
    return {"id": note.pk, "title": note.title, "body": note.body, "created_at": note.created_at.isoformat()}


@require_safe
def index(request):
    return render(request, "notes/index.html", {"notes": Note.objects.all()[:PAGE_SIZE]})


@require_safe
def note_list(request):
    return JsonResponse({"notes": [as_json(note) for note in Note.objects.all()[:PAGE_SIZE]]})


@require_safe
def note_detail(request, pk):
    return JsonResponse(as_json(get_object_or_404(Note, pk=pk)))


@require_POST
def export_create(request):
    """Answers 202 at once; the export is built by the background consumer (inline when no queue is set)."""
    with transaction.atomic():
        export = NoteExport.objects.create()
        # Sent when this transaction commits, so the consumer always finds the row.
        build_export.enqueue(export.pk)
    location = reverse("notes:export", args=[export.pk])
    response = JsonResponse({"id": export.pk, "url": location}, status=202)
    response["Location"] = location
    return response


@require_safe
def export_detail(request, pk):
    export = get_object_or_404(NoteExport, pk=pk)
    if export.finished_at is None:
        return JsonResponse({"id": export.pk, "status": "pending"})
    return JsonResponse({"id": export.pk, "status": "done", "notes": json.loads(export.content)})
