"""Local files shown in pages, through links made for one user (``hyperdatasets.storage.serving``).

User content is never active content on this origin: only raster images and videos are sent with their
own type; everything else is a download. Every file response forbids sniffing and runs sandboxed.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest

from hyperdatasets.access import visible_datasets
from hyperdatasets.storage.serving import FILE_CSP, FileLinks, link_open, served_content_type


@login_required
def signed_file(request: HttpRequest, token: str) -> FileResponse:
    """Serve a local file whose link this server made for this user (never an arbitrary path)."""
    link = link_open(token)
    if link is None or link.user_id != request.user.pk:
        raise Http404("link expired or invalid")
    dataset = visible_datasets(request.user).filter(pk=link.dataset_id).first()
    if dataset is None:
        raise Http404("link expired or invalid")
    path = FileLinks(request.user, dataset).local_file(link.path)  # checked again: locations may have changed
    if path is None:
        raise Http404("file not available")
    content_type, inline = served_content_type(path)
    response = FileResponse(open(path, "rb"), content_type=content_type, as_attachment=not inline,
                            filename=path.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cache-Control"] = "private, max-age=300"
    return response
