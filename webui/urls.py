from django.contrib.auth import views as auth_views
from django.urls import path

from webui import (
    annotation_pages,
    dataset_actions,
    dataview_pages,
    deletion_page,
    files,
    frame_page,
    version_page,
    views,
)

app_name = "webui"

urlpatterns = [
    path("", views.dataset_index, name="dataset-index"),
    path("accounts/login/", auth_views.LoginView.as_view(template_name="webui/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("account/clearml-credentials/", views.clearml_credentials, name="clearml-credentials"),
    path("account/clearml-credentials/<uuid:credential_id>/revoke/", views.clearml_credential_revoke,
         name="clearml-credential-revoke"),
    path("projects/", views.project_index, name="project-index"),
    path("datasets/new/", views.dataset_new, name="dataset-new"),
    path("datasets/<uuid:dataset_id>/", views.dataset_detail, name="dataset-detail"),
    path("datasets/<uuid:dataset_id>/delete/", dataset_actions.dataset_delete_view, name="dataset-delete"),
    path("datasets/<uuid:dataset_id>/<slug:action>/", dataset_actions.dataset_action, name="dataset-action"),
    path("versions/<uuid:version_id>/", version_page.version_detail, name="version-detail"),
    path("versions/<uuid:version_id>/frames/<path:frame_id>/", frame_page.frame_detail, name="frame-detail"),
    path("versions/<uuid:version_id>/annotations/import/", annotation_pages.annotation_import,
         name="annotation-import"),
    path("versions/<uuid:version_id>/annotations/export/", annotation_pages.annotation_export,
         name="annotation-export"),
    path("deletions/", deletion_page.deletion_job_list, name="deletion-jobs"),
    path("deletions/<uuid:job_id>/", deletion_page.deletion_job_detail, name="deletion-job"),
    path("dataviews/", dataview_pages.dataview_index, name="dataview-index"),
    path("dataviews/new/", dataview_pages.dataview_new, name="dataview-new"),
    path("dataviews/<uuid:dataview_id>/", dataview_pages.dataview_detail, name="dataview-detail"),
    path("dataviews/<uuid:dataview_id>/preview/", dataview_pages.dataview_preview, name="dataview-preview"),
    path("dataviews/<uuid:dataview_id>/<slug:action>/", dataview_pages.dataview_action, name="dataview-action"),
    path("files/<str:token>/", files.signed_file, name="file"),
]
