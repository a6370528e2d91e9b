from django.urls import path

from clearml_api import views

urlpatterns = [
    path("v<str:version>/<str:endpoint>", views.call, name="clearml-call"),
    path("<str:endpoint>", views.call, name="clearml-call-unversioned"),
]
