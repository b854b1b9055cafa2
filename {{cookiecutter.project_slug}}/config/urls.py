from django.contrib import admin
from django.urls import include, path

from {{ cookiecutter.project_slug }}.health import views as health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("", include("{{ cookiecutter.project_slug }}.notes.urls")),
    path("admin/", admin.site.urls),
]

handler500 = health.server_error
