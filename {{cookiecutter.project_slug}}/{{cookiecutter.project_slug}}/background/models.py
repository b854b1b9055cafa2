from django.db import models


class TaskRun(models.Model):
    """One row per task id whose run committed, written in the same transaction as the task's own writes.

    SQS delivers at least once; a redelivered message finds its row and is not run again.
    """

    task_id = models.CharField(max_length=64, primary_key=True)
    task_path = models.CharField(max_length=255)
    finished_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.task_path} {self.task_id}"
