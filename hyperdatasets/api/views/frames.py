"""Frame endpoints. Bulk bodies are parsed once (a batch to add straight into the frames' msgspec structs,
others with orjson) and handed to the services as they are: no serializer per frame. A request may hold
HYPERDATASETS_FRAMES_MAX_BYTES of JSON (gzip allowed), 50,000 frames."""

import re

import orjson
from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from annotations.selectors import frame_history
from annotations.services import frame_save
from hyperdatasets.api import serializers as s
from hyperdatasets.api.bodies import FramesParser
from hyperdatasets.api.views.common import BATCH_SEMANTICS, APIView, version_for
from hyperdatasets.exceptions import InvalidInput, NotFound
from hyperdatasets.queries.selection import selection_from
from hyperdatasets.selectors.frame_pages import frames_page, frames_query_count
from hyperdatasets.selectors.frames import (
    MAX_LOOKUP_IDS,
    check_frame_ids,
    frame_with_revision,
    frames_get,
    version_label_stats,
    versions_diff,
)
from hyperdatasets.services import idempotency
from hyperdatasets.services.frames import frames_delete, frames_update, frames_upsert
from hyperdatasets.storage.serving import FileLinks


def _list_field(request, name: str) -> list:
    body = request.data
    items = body.get(name) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidInput.for_field(name, "must be a list in a JSON object body")
    return items


def _write_out(result) -> dict:
    return {"saved": len(result.saved), "saved_ids": result.saved, "failed": len(result.failures),
            "failures": [f.as_dict() for f in result.failures], "batch": BATCH_SEMANTICS}


IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER, {"type": "string", "pattern": idempotency.KEY_PATTERN}, OpenApiParameter.HEADER,
    description="sent again with the same key (after a lost answer, say), the write answers what it answered "
                "the first time and writes nothing; the same key with another body answers 409; kept a day")


def _fingerprint(request) -> str:
    """The request's method, path and body (its JSON text, hashed as the parser read it)."""
    return idempotency.request_fingerprint(request.method, request.path, request.body_sha256.encode())


def _idempotent_write(request, write) -> Response:
    """A bulk write, answered once per ``Idempotency-Key`` (services.idempotency)."""
    frames = _list_field(request, "frames")
    status, body, replayed = idempotency.idempotent(
        request.user, request.headers.get(idempotency.HEADER), lambda: _fingerprint(request),
        lambda: (200, orjson.dumps(_write_out(write(frames)))))
    response = HttpResponse(body, status=status, content_type="application/json")
    if replayed:
        response["Idempotent-Replayed"] = "true"
    return response


QUERY_PARAMETERS = [
    OpenApiParameter("query", s.TEXT_PARAMETER,
                     description="Lucene over the frames (docs/queries.md), e.g. meta.city:Haifa AND "
                                 "rois.confidence:[0.9 TO 1]"),
    OpenApiParameter("sources_query", s.TEXT_PARAMETER,
                     description="Lucene over one source of the frame, e.g. sources.id:front AND width:>1000"),
    OpenApiParameter("label_rules", s.TEXT_PARAMETER,
                     description='JSON list of ROI label rules: [{"label": "car", "count_range": [2, 4], '
                                 '"conf_range": [0.8, 1], "must_not": false}]'),
    OpenApiParameter("filter_by_roi", {"type": "string", "enum": ["label_rules", "no_rois", "disabled"]}),
    OpenApiParameter("filters", s.TEXT_PARAMETER,
                     description="JSON list of filters, ORed: [{filter_by_roi, label_rules, frame_query, "
                                 "sources_query}]; ANDed with query, sources_query and label_rules"),
]
PAGE_PARAMETERS = [
    *QUERY_PARAMETERS,
    OpenApiParameter("order_by", s.TEXT_PARAMETER,
                     description="context_id (default), id, timestamp, saved, updated, width, height or "
                                 "meta.<key>; a leading - for descending"),
    OpenApiParameter("cursor", s.TEXT_PARAMETER),
    OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
    OpenApiParameter("label", s.TEXT_PARAMETER),
    OpenApiParameter("meta_key", s.TEXT_PARAMETER, description="dotted key path in meta"),
    OpenApiParameter("meta_value", s.TEXT_PARAMETER,
                     description="JSON value (e.g. 3, true, \"left\") or a plain string; without it, the frames "
                                 "whose meta has meta_key"),
]


def _meta_value(raw: str | None):
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    return value if isinstance(value, str | int | float | bool) else raw


class VersionFramesView(APIView):
    max_body_bytes = settings.HYPERDATASETS_FRAMES_MAX_BYTES
    parser_classes = [FramesParser]

    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.FramePageOut, operation_id="versions_frames_page")
    def get(self, request, version_id):
        version = version_for(request, version_id, "frames.view")
        params = request.query_params
        try:
            limit = int(params.get("limit", 100))
        except ValueError:
            raise InvalidInput.for_field("limit", "must be an integer from 1 to 1000") from None
        meta_key = params.get("meta_key") or None
        page = frames_page(version, cursor=params.get("cursor") or None, limit=limit,
                           label=params.get("label") or None, meta_key=meta_key,
                           meta_value=_meta_value(params.get("meta_value")) if meta_key else None,
                           selection=selection_from([version.dataset_id], params))
        return Response({"frames": page.frames, "next_cursor": page.next_cursor})

    @extend_schema(request=s.FramesIn, responses=s.FrameWriteOut, parameters=[IDEMPOTENCY_KEY],
                   description=BATCH_SEMANTICS)
    def post(self, request, version_id):
        version = version_for(request, version_id, "frames.change")
        return _idempotent_write(request, lambda frames: frames_upsert(version, frames))

    @extend_schema(request=s.FramesIn, responses=s.FrameWriteOut, parameters=[IDEMPOTENCY_KEY],
                   description="Merge into existing frames. " + BATCH_SEMANTICS)
    def patch(self, request, version_id):
        version = version_for(request, version_id, "frames.change")
        return _idempotent_write(request, lambda frames: frames_update(version, frames))


class VersionFramesDeleteView(APIView):
    max_body_bytes = settings.HYPERDATASETS_FRAMES_MAX_BYTES

    @extend_schema(request=s.FrameIdsIn, responses=s.FrameDeleteOut)
    def post(self, request, version_id):
        version = version_for(request, version_id, "frames.change")
        result = frames_delete(version, _list_field(request, "frame_ids"))
        return Response({"deleted": result.deleted, "missing": result.missing})


class VersionFramesLookupView(APIView):
    max_body_bytes = settings.HYPERDATASETS_FRAMES_MAX_BYTES

    @extend_schema(request=s.FrameLookupIn, responses=s.FramesByIdOut)
    def post(self, request, version_id):
        version = version_for(request, version_id, "frames.view")
        ids = _list_field(request, "frame_ids")
        check_frame_ids(ids, MAX_LOOKUP_IDS)
        found = frames_get(version, ids)
        return Response({"frames": found, "missing": [i for i in dict.fromkeys(ids) if i not in found]})


def _etag(revision: int) -> str:
    return f'"{revision}"'


# An entity tag as this API sends them (RFC 9110: a quoted string, W/ if weak): the frame's revision; the
# bare number is taken too, as clients and proxies that drop the quotes send it.
IF_MATCH_PATTERN = r'^(?:W/)?(?:"[0-9]{1,18}"|[0-9]{1,18})$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN.replace("$", r"\Z"))


def _if_match(request) -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    tag = raw.strip(" \t")
    if not _IF_MATCH.match(tag):
        raise InvalidInput.for_field("If-Match", 'must be the ETag the frame was loaded with, e.g. "3"')
    return int(tag.removeprefix("W/").strip('"'))


class VersionFrameDetailView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, description="The frame; its ETag header is its revision.")
    def get(self, request, version_id, frame_id):
        version = version_for(request, version_id, "frames.view")
        found = frame_with_revision(version, frame_id)
        if found is None:
            raise NotFound(f"frame {frame_id!r} does not exist in version {version.name!r}")
        return Response(found[0], headers={"ETag": _etag(found[1])})

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("If-Match", {"type": "string", "pattern": IF_MATCH_PATTERN},
                                     OpenApiParameter.HEADER,
                                     description="the ETag the frame was loaded with; 412 if it was saved since")],
        description="Write the whole frame into a Draft version (created or replaced) and record the save in the "
                    "frame's history. With If-Match, a frame saved or deleted since it was loaded is refused "
                    "(412, code stale_write) and nothing is written.")
    def put(self, request, version_id, frame_id):
        version = version_for(request, version_id, "frames.change")
        saved = frame_save(version, frame_id, request.data, if_match=_if_match(request), user=request.user)
        return Response(saved.frame, headers={"ETag": _etag(saved.edit.revision)})


def _file_uris(frame: dict) -> list[str]:
    """Every file a frame names: its sources, their previews and masks, in order."""
    uris: list[str] = []
    for source in frame.get("sources") or []:
        uris.append(source.get("uri"))
        uris.append((source.get("preview") or {}).get("uri"))
        uris += [mask.get("uri") for mask in source.get("masks") or []]
    return list(dict.fromkeys(uri for uri in uris if isinstance(uri, str) and uri))


class VersionFrameLinksView(APIView):
    @extend_schema(responses=s.FrameLinksOut,
                   description="A download link for every file the frame names (sources, previews, masks), as "
                               "pages get them: the dataset's own uploads and files in registered storage "
                               "locations through links made for the caller (presigned for object stores, "
                               "valid HYPERDATASETS_SIGNED_URL_SECONDS), https:// URLs as they are; null for a "
                               "file the server does not serve.")
    def get(self, request, version_id, frame_id):
        version = version_for(request, version_id, "frames.view")
        found = frame_with_revision(version, frame_id)
        if found is None:
            raise NotFound(f"frame {frame_id!r} does not exist in version {version.name!r}")
        links = FileLinks(request.user, version.dataset)
        answer = {}
        for uri in _file_uris(found[0]):
            url = links.url(uri)
            answer[uri] = request.build_absolute_uri(url) if url is not None else None
        return Response({"frame_id": frame_id, "links": answer})


class VersionFrameHistoryView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT,
                   description="The saves of the frame (in this version and the ancestors it inherits from), "
                               "newest first: who, when, and the ROI ids added, removed and changed.")
    def get(self, request, version_id, frame_id):
        version = version_for(request, version_id, "frames.view")
        return Response({"frame_id": frame_id, "edits": frame_history(version, frame_id)})


class VersionFramesCountView(APIView):
    @extend_schema(parameters=QUERY_PARAMETERS, responses=s.CountOut,
                   description="The number of frames the filters take (exact); the version's frame count "
                               "without filters.")
    def get(self, request, version_id):
        version = version_for(request, version_id, "frames.view")
        selection = selection_from([version.dataset_id], request.query_params)
        return Response({"count": frames_query_count(version, selection)})


class VersionStatsView(APIView):
    @extend_schema(responses=s.StatsOut)
    def get(self, request, version_id):
        return Response(version_label_stats(version_for(request, version_id, "frames.view")))


class VersionDiffView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("other", OpenApiTypes.UUID, required=True,
                                     description="id of the version to compare to")],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
        description="Streams one JSON line per changed frame id going from this version to `other` "
                    '({"change": "added"|"removed"|"modified", "id": ...}), then {"counts": {...}}.',
    )
    def get(self, request, version_id):
        base = version_for(request, version_id, "frames.view")
        other_id = request.query_params.get("other")
        if not other_id:
            raise InvalidInput.for_field("other", "the id of the version to compare to is required")
        other = version_for(request, other_id, "frames.view")
        if other.dataset_id != base.dataset_id:
            raise InvalidInput.for_field("other", "both versions must belong to the same dataset")

        def lines():
            counts = {"added": 0, "removed": 0, "modified": 0}
            for change, fid in versions_diff(base, other):
                counts[change] += 1
                yield orjson.dumps({"change": change, "id": fid}) + b"\n"
            yield orjson.dumps({"counts": counts}) + b"\n"

        return StreamingHttpResponse(lines(), content_type="application/x-ndjson")
