from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from .models import Note

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
