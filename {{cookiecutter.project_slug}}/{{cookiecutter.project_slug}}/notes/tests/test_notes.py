import pytest
from django.contrib import admin
from django.urls import reverse

from ..models import Note


@pytest.fixture
def notes(db):
    return [Note.objects.create(title=f"Note {n}", body=f"Body {n}") for n in range(3)]


def test_list_returns_newest_first(client, notes):
    response = client.get(reverse("notes:list"))
    assert response.status_code == 200
    assert [item["title"] for item in response.json()["notes"]] == ["Note 2", "Note 1", "Note 0"]


def test_detail_returns_one_note_and_404_for_unknown_ids(client, notes):
    response = client.get(reverse("notes:detail", args=[notes[0].pk]))
    assert response.json()["body"] == "Body 0"
    assert client.get(reverse("notes:detail", args=[notes[-1].pk + 100])).status_code == 404


def test_index_page_links_every_note(client, notes):
    response = client.get(reverse("notes:index"))
    assert response.status_code == 200
    for note in notes:
        assert reverse("notes:detail", args=[note.pk]) in response.content.decode()


def test_views_refuse_writes(client, db):
    assert client.post(reverse("notes:list"), {"title": "x"}).status_code == 405


def test_admin_lists_and_searches_notes(admin_client, notes):
    assert admin.site.is_registered(Note)
    response = admin_client.get(reverse("admin:notes_note_changelist"), {"q": "Note 1"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [notes[1]]


def test_export_answers_202_and_the_task_fills_it_in(client, notes):
    # Without a queue (as in tests) the task runs inline, so the export is done when the view answers.
    response = client.post(reverse("notes:exports"))
    assert response.status_code == 202
    assert response["Location"] == response.json()["url"]
    export = client.get(response["Location"]).json()
    assert export["status"] == "done"
    assert [note["title"] for note in export["notes"]] == ["Note 2", "Note 1", "Note 0"]


def test_export_refuses_get(client, db):
    assert client.get(reverse("notes:exports")).status_code == 405
