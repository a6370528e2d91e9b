"""ClearML's files server at ``/clearml/files/``: the client uploads a frame's local sources there
(``POST /``, multipart, one part whose field name is the object's path) and downloads them
(``GET /<path>``), with the Bearer token ``auth.login`` gave.

The client names every upload ``<destination>/<dataset id>/<version id>/<file name>``, so a path is tied
to a dataset: an upload needs the right to change that dataset's frames (the version must be its Draft),
a download the right to read it. A path without a dataset and version of the caller's is refused. Files are
kept in media storage under ``clearml-files/<path>`` and served by the rule of every user file here (raster
images and videos with their type, anything else as a download; no sniffing, a sandbox policy). The web app
(signed in, no token) shows a frame's files through the same URL (``clearml_file_url``).
"""

from __future__ import annotations

import posixpath
import re
import uuid
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from clearml_api.credentials import TokenRefused, token_user
from hyperdatasets.access import Role, dataset_role
from hyperdatasets.models import DatasetVersion, VersionStatus
from hyperdatasets.storage.serving import FILE_CSP, served_content_type

PREFIX = "clearml-files/"
MAX_PATH = 1024
MAX_FILE = 5 * 2**30
_HEX = re.compile(r"^[0-9a-fA-F]{32}$|^[0-9a-fA-F-]{36}$")
_FILES_PATH = re.compile(r"/clearml/files/(?P<path>[^?#]+)$")


class FileRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def clean_path(raw: str) -> str:
    """The object path without its leading slash; no empty, ``.`` or ``..`` parts, no backslashes or NULs."""
    path = raw.lstrip("/")
    parts = path.split("/")
    if (not path or len(path) > MAX_PATH or "\\" in path or "\x00" in path or not path.isprintable()
            or any(part in ("", ".", "..") for part in parts)):
        raise FileRefused(400, f"path {raw[:200]!r} is not a file path (no empty, '.' or '..' parts)")
    return posixpath.normpath(path)


def path_version(path: str) -> DatasetVersion | None:
    """The version a path names: the first two parts that are a dataset id and the id of one of its
    versions (``<dataset id>/<version id>/``, as the client builds upload paths)."""
    parts = path.split("/")[:-1]
    for first, second in zip(parts, parts[1:], strict=False):
        if _HEX.match(first) and _HEX.match(second):
            try:
                dataset_id, version_id = uuid.UUID(first), uuid.UUID(second)
            except ValueError:
                continue
            version = DatasetVersion.objects.select_related("dataset", "dataset__project").filter(
                pk=version_id, dataset_id=dataset_id).first()
            if version is not None:
                return version
    return None


def _user(request: HttpRequest):
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return token_user(token.strip()).user
        except TokenRefused as exc:
            raise FileRefused(401, f"Unauthorized ({exc.reason})") from None
    if request.user.is_authenticated:  # the web app showing a frame's file
        return request.user
    raise FileRefused(401, "Unauthorized (send the Bearer token auth.login gave)")


def _version_for(user, path: str, least: Role) -> DatasetVersion:
    version = path_version(path)
    role = dataset_role(user, version.dataset) if version is not None else Role.NONE
    if role < Role.READ:
        raise FileRefused(404 if least == Role.READ else 403,
                          f"{path[:200]!r}: not under <dataset id>/<version id>/ of a dataset you may "
                          f"{'read' if least == Role.READ else 'change'}")
    if role < least:
        raise FileRefused(403, f"{path[:200]!r}: uploading needs the write role on dataset {version.dataset.name!r}")
    return version


def _upload(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    saved = []
    if not request.FILES:
        raise FileRefused(400, "send multipart/form-data with one file part per object, named by its path")
    for field, uploaded in request.FILES.items():
        path = clean_path(field)
        version = _version_for(user, path, Role.WRITE)
        if version.status == VersionStatus.PUBLISHED:
            raise FileRefused(403, f"{path[:200]!r}: version {version.name!r} is Published and read-only")
        if uploaded.size > MAX_FILE:
            raise FileRefused(413, f"{path[:200]!r}: files of at most {MAX_FILE} bytes are taken")
        name = PREFIX + path
        if default_storage.exists(name):
            default_storage.delete(name)
        default_storage.save(name, uploaded)
        saved.append({"field": field, "path": path, "bytes": uploaded.size})
    return JsonResponse({"saved": saved})


def _download(request: HttpRequest, raw: str) -> HttpResponse:
    user = _user(request)
    path = clean_path(raw)
    _version_for(user, path, Role.READ)
    name = PREFIX + path
    if not default_storage.exists(name):
        raise FileRefused(404, f"{path[:200]!r}: no such file")
    content_type, inline = served_content_type(PurePosixPath(path))
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type, as_attachment=not inline,
                            filename=posixpath.basename(path))
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, max-age=300"
    return response


@csrf_exempt
def files(request: HttpRequest, path: str = "") -> HttpResponse:
    try:
        if request.method == "POST":
            return _upload(request)
        if request.method in ("GET", "HEAD"):
            if not path:
                raise FileRefused(404, "GET /clearml/files/<path> of a file")
            return _download(request, path)
        raise FileRefused(405, f"{request.method} is not served: POST uploads, GET downloads")
    except FileRefused as exc:
        response = JsonResponse({"error": exc.message}, status=exc.status)
        if exc.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="clearml"'
        return response


def clearml_file_url(uri: str, dataset_id) -> str | None:
    """This server's URL of a ClearML files-host URI (``http(s)://<host>/clearml/files/<path>``) when the path
    belongs to the dataset (``path_version``), else None: what the web app loads for such a source."""
    found = _FILES_PATH.search(uri.partition("://")[2]) if uri.startswith(("http://", "https://")) else None
    if found is None:
        return None
    try:
        path = clean_path(found.group("path"))
    except FileRefused:
        return None
    version = path_version(path)
    if version is None or version.dataset_id != uuid.UUID(str(dataset_id)):
        return None
    return reverse("clearml-files", args=[path])
