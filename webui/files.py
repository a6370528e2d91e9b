"""Local files shown in pages, through links made for one user (``hyperdatasets.storage.serving``).

User content is never active content on this origin: only raster images and videos are sent with their
own type; everything else is a download. Every file response forbids sniffing and runs sandboxed.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from rest_framework.exceptions import AuthenticationFailed

from hyperdatasets.access import visible_datasets
from hyperdatasets.api.authentication import FastTokenAuthentication
from hyperdatasets.storage.serving import FILE_CSP, FileLinks, link_open, served_content_type


def _caller(request: HttpRequest):
    """The signed-in user, or the user of an API token (``Authorization: Token ...``: the SDK downloading)."""
    if request.user.is_authenticated:
        return request.user
    try:
        found = FastTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def signed_file(request: HttpRequest, token: str) -> FileResponse | HttpResponse:
    """Serve a local file whose link this server made for this user (never an arbitrary path)."""
    user = _caller(request)
    if user is None:
        if "HTTP_AUTHORIZATION" in request.META:  # a client with a bad token: no sign-in page to follow
            raise Http404("link expired or invalid")
        return redirect_to_login(request.get_full_path())
    link = link_open(token)
    if link is None or link.user_id != user.pk:
        raise Http404("link expired or invalid")
    dataset = visible_datasets(user).filter(pk=link.dataset_id).first()
    if dataset is None:
        raise Http404("link expired or invalid")
    path = FileLinks(user, dataset).local_file(link.path)  # checked again: locations may have changed
    if path is None:
        raise Http404("file not available")
    content_type, inline = served_content_type(path)
    response = FileResponse(open(path, "rb"), content_type=content_type, as_attachment=not inline,
                            filename=path.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, max-age=300"
    return response
