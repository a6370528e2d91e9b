from django.urls import path

from webui import views

app_name = "webui"

urlpatterns = [
    path("", views.dataset_index, name="dataset-index"),
    path("account/", views.account, name="account"),
    path("datasets/<uuid:dataset_id>/", views.dataset_detail, name="dataset-detail"),
]
