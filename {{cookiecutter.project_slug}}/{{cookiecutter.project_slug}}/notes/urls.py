from django.urls import path

from . import views

app_name = "notes"
urlpatterns = [
    path("", views.index, name="index"),
    path("notes/", views.note_list, name="list"),
    path("notes/<int:pk>/", views.note_detail, name="detail"),
    path("exports/", views.export_create, name="exports"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
]
