from django.db import models


class Note(models.Model):
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class NoteExport(models.Model):
    """A JSON export of every note, built in the background; `content` is empty until the task has run.

    Text rather than a JSONField: a JSONField's system check opens a database connection, which `manage check`
    in the image (no database) cannot.
    """

    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    content = models.TextField(blank=True)

    def __str__(self):
        return f"export {self.pk}"
