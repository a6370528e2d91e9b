"""Request and response bodies: orjson both ways, gzip request bodies, size limits."""

from __future__ import annotations

import json
import zlib

import msgspec
import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer

from hyperdatasets.api.errors import PayloadTooLarge
from hyperdatasets.frame_documents import FrameDocument
from hyperdatasets.gc_pause import cyclic_gc_paused

_CHUNK = 1024 * 1024


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        try:
            return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_UUID)
        except TypeError:
            # e.g. an integer past 64 bits: PostgreSQL's jsonb gives 1e+191 back as a 192-digit integer.
            return json.dumps(data, default=str, separators=(",", ":")).encode()


class OrjsonParser(BaseParser):
    """JSON bodies, optionally ``Content-Encoding: gzip``; at most the view's ``max_body_bytes`` (default
    DATA_UPLOAD_MAX_MEMORY_SIZE) once decoded."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"] if parser_context else None
        encoding = request.META.get("HTTP_CONTENT_ENCODING", "").lower() if request is not None else ""
        view = parser_context.get("view") if parser_context else None
        limit = getattr(view, "max_body_bytes", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = read_limited(stream, limit)
        if encoding == "gzip":
            raw = gunzip_limited(raw, limit)
        elif encoding not in ("", "identity"):
            raise ParseError(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
        if not raw:
            return {}
        with cyclic_gc_paused():
            return self.decode(raw, request)

    def decode(self, raw: bytes, request) -> object:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


class _FramesBody(msgspec.Struct, forbid_unknown_fields=True):
    frames: list[FrameDocument]


_FRAMES_BODY = msgspec.json.Decoder(_FramesBody, strict=True)


class FramesParser(OrjsonParser):
    """A frame batch to add, ``{"frames": [...]}``, decoded straight into the frames' structs when every frame
    is well-typed (one pass in compiled code, no dicts in between). Any other body, or a batch holding a
    frame that is not, is parsed as plain JSON and each frame is validated on its own, so every failure is
    reported with its index. Either way the services get the same result."""

    def decode(self, raw: bytes, request) -> object:
        if request is not None and request.method == "POST":
            try:
                return {"frames": _FRAMES_BODY.decode(raw).frames}
            except (msgspec.ValidationError, msgspec.DecodeError):
                pass
        return super().decode(raw, request)


def read_limited(stream, limit: int) -> bytes:
    if stream is None:
        return b""
    parts, size = [], 0
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        parts.append(chunk)


def gunzip_limited(raw: bytes, limit: int) -> bytes:
    """Decompress, refusing output past ``limit`` (no decompression bombs)."""
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise ParseError(f"invalid gzip body: {exc}") from None
    if len(out) > limit or decompressor.unconsumed_tail:
        raise PayloadTooLarge(f"the decompressed body is larger than {limit} bytes")
    return out



