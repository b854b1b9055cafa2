from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DatabaseConfig(AppConfig):
    """The application's own database role, kept up to date by every `migrate`."""

    name = "{{ cookiecutter.project_slug }}.database"
    label = "database"

    def ready(self):
        from .roles import ensure_app_role  # models are not loaded before ready()

        post_migrate.connect(ensure_app_role, sender=self)
