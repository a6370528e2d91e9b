"""Request and response bodies: orjson both ways, gzip request bodies, size limits."""

from __future__ import annotations

import hashlib
import json
import re
import zlib

import msgspec
import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.renderers import BaseRenderer

from hyperdatasets.api.errors import PayloadTooLarge
from hyperdatasets.frame_documents import FrameDocument

_CHUNK = 1024 * 1024
# Objects and arrays nest at most this deep in a JSON body (a frame document with 32 levels of meta fits),
# checked in compiled code before any parser recurses.
MAX_BODY_DEPTH = 128
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_EMPTY_PAIRS = re.compile(rb"\{\}|\[\]")
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


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
        refuse_declared_length(request, limit)
        raw = read_limited(stream, limit)
        if encoding == "gzip":
            raw = gunzip_limited(raw, limit)
        elif encoding not in ("", "identity"):
            raise ParseError(f"unsupported Content-Encoding {encoding!r}; use gzip or none")
        if request is not None and "HTTP_IDEMPOTENCY_KEY" in request.META:
            request.body_sha256 = hashlib.sha256(raw).hexdigest()  # what services.idempotency compares
        if not raw:
            return {}
        if nests_deeper_than(raw, MAX_BODY_DEPTH):
            raise ParseError(f"JSON parse error: objects and arrays must not nest more than {MAX_BODY_DEPTH} "
                             "levels deep")
        return self.decode(raw, request)

    def decode(self, raw: bytes, request) -> object:
        try:
            return orjson.loads(raw)
        except (orjson.JSONDecodeError, RecursionError) as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


class LimitedMultiPartParser(MultiPartParser):
    """Multipart uploads (files stream to disk past FILE_UPLOAD_MAX_MEMORY_SIZE), refused before reading when
    the declared length is over the upload limit."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.HYPERDATASETS_UPLOAD_MAX_BYTES + _CHUNK  # the file and its form fields
        refuse_declared_length(parser_context["request"] if parser_context else None, limit)
        return super().parse(stream, media_type, parser_context)


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
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
                pass
        return super().decode(raw, request)


def refuse_declared_length(request, limit: int) -> None:
    """Refuse a body whose declared length is over the limit before reading any of it."""
    declared = request.META.get("CONTENT_LENGTH") if request is not None else None
    try:
        length = int(declared) if declared else 0
    except ValueError:
        raise ParseError("Content-Length must be a number of bytes") from None
    if length > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")


def _deeper_than(brackets: bytes, limit: int) -> bool:
    """Whether a sequence of brackets nests deeper than ``limit``: each pass drops the innermost pairs
    (one level a pass)."""
    for _ in range(limit):
        if not brackets:
            return False
        shorter = _EMPTY_PAIRS.sub(b"", brackets)
        if len(shorter) == len(brackets):
            return False  # unbalanced: the parser will say where
        brackets = shorter
    return bool(brackets) and len(_EMPTY_PAIRS.sub(b"", brackets)) < len(brackets)


def _within(brackets: bytes, limit: int) -> bool:
    """A quick sufficient test: pairs dropped with plain replaces (one or two levels a pass) leave nothing
    within ``limit // 2`` passes."""
    for _ in range(limit // 2):
        if not brackets:
            return True
        brackets = brackets.replace(b"{}", b"").replace(b"[]", b"")
    return not brackets


def nests_deeper_than(raw: bytes, limit: int) -> bool:
    """Whether a JSON text nests objects and arrays deeper than ``limit``. Brackets are counted with the
    strings left in (fast); only a text that seems too deep is counted again, exactly, without its strings."""
    brackets = raw.translate(None, _NOT_BRACKETS)
    if len(brackets) <= limit or _within(brackets, limit) or not _deeper_than(brackets, limit):
        return False
    return _deeper_than(_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS), limit)


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



