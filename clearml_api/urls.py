from django.urls import path

from clearml_api import files, views

urlpatterns = [
    path("files", files.files, name="clearml-files-upload"),
    path("files/", files.files, name="clearml-files-upload-slash"),
    path("files/<path:path>", files.files, name="clearml-files"),
    path("v<str:version>/<str:endpoint>", views.call, name="clearml-call"),
    path("<str:endpoint>", views.call, name="clearml-call-unversioned"),
]
