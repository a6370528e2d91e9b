from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("hyperdatasets.api.urls")),
    path("clearml/", include("clearml_api.urls")),
    path("", include("webui.urls")),
]

# Errors Django answers itself: the API's JSON error shape under /api/, pages elsewhere.
handler400 = "hyperdatasets.api.errors.bad_request"
handler403 = "hyperdatasets.api.errors.permission_denied"
handler404 = "hyperdatasets.api.errors.not_found"
handler500 = "hyperdatasets.api.errors.server_error"
