"""Files shown in pages: signed links for local files, presigned URLs for cloud objects."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest

from hyperdatasets.storage import provider_for_uri
from hyperdatasets.storage.local import FILE_SIGNING_SALT, local_path


def browser_url(uri: str | None) -> str | None:
    """What an <img> may load for a source, preview or mask URI; None when it cannot be shown."""
    if not uri:
        return None
    if uri.startswith("https://"):
        return uri
    provider = provider_for_uri(uri)
    return provider.browser_url(uri) if provider is not None else None


@login_required
def signed_file(request: HttpRequest, token: str) -> FileResponse:
    """Serve a local file whose link this server signed for a page (never an arbitrary path)."""
    try:
        raw = signing.loads(token, salt=FILE_SIGNING_SALT, max_age=settings.HYPERDATASETS_SIGNED_URL_SECONDS)
    except signing.BadSignature:
        raise Http404("link expired or invalid") from None
    path = local_path("file://" + raw)  # checked again: the folders may have changed since signing
    if path is None:
        raise Http404("file not available")
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(open(Path(path), "rb"), content_type=content_type)
