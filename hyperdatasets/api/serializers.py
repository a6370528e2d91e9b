"""Input shapes (typed, so bad types are 400s naming the field) and output shapes (the OpenAPI contract).

The rules themselves (names, sizes, graph rules) are the services'; serializers only type the JSON.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.mask_labels import MAX_MASK_VALUES
from hyperdatasets.models import ProjectAccessRule, VersionStatus
from hyperdatasets.selectors.frames import MAX_LOOKUP_IDS
from hyperdatasets.services.frames import MAX_FRAMES_PER_CALL
from hyperdatasets.services.versions import MAX_PARENTS
from hyperdatasets.upload_paths import MAX_UPLOAD_PATH_LENGTH, UPLOAD_PATH_PATTERN
from hyperdatasets.validation import (
    LABEL_PATTERN,
    MAX_DESCRIPTION_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TAGS,
    NAME_PATTERN,
    TEXT_PATTERN,
)


class StrictCharField(serializers.CharField):
    """A string, and only a string: numbers and booleans are refused rather than turned into text."""

    default_error_messages = {"not_a_string": "must be a string"}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


# Query parameters, typed as the body fields are.
NAME_PARAMETER = {"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": NAME_PATTERN}
TEXT_PARAMETER = {"type": "string", "pattern": TEXT_PATTERN}


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": NAME_PATTERN})
class NameField(StrictCharField):
    """A name (dataset, project, version, tag, label): the schema states ``validation.clean_name``'s rule,
    which the services apply (with a message for each part of it)."""


@extend_schema_field({"type": "string", "maxLength": MAX_DESCRIPTION_LENGTH, "pattern": TEXT_PATTERN})
class TextField(StrictCharField):
    """Free text (descriptions, comments): ``validation.clean_text``'s rule, applied by the services."""


def name_field(**kwargs) -> NameField:
    return NameField(**kwargs)


def text_field(**kwargs) -> TextField:
    return TextField(**kwargs)


class StrictBooleanField(serializers.BooleanField):
    """true or false, and only those: 0, 1 and "yes" are refused rather than read as booleans."""

    default_error_messages = {"not_a_boolean": "must be true or false"}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("not_a_boolean")
        return data


@extend_schema_field({"type": "string", "format": "uuid"})
class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string: DRF's UUIDField would also read an integer (and so false) as a UUID."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_field({"$ref": "#/components/schemas/JsonObject"})
class JsonObjectField(serializers.DictField):
    """Metadata: a JSON object whose strings (keys included) hold no NUL and whose numbers lie within
    ±(2**63-1), as ``validation.clean_metadata`` rules; the schema components are ``api.schema``'s."""


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": MAX_NAME_LENGTH, "pattern": LABEL_PATTERN})
class MaskLabelField(StrictCharField):
    """A label of a mask value: ``annotations.mask_labels``' rule (not only whitespace, no NUL)."""


def json_object(**kwargs) -> JsonObjectField:
    return JsonObjectField(**kwargs)


JSON_OBJECT = json_object(required=False, allow_empty=True)


class ProjectIn(serializers.Serializer):
    name = name_field()
    description = text_field(required=False, allow_blank=True)


class ProjectOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    created = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)


@extend_schema_field({"type": "string", "minLength": 1, "maxLength": 150, "pattern": TEXT_PATTERN})
class AccountNameField(StrictCharField):
    """A username or group name to look up (Django's: at most 150 characters); an unknown one is a 404."""


class RuleIn(serializers.Serializer):
    user = AccountNameField(required=False, help_text="username")
    group = AccountNameField(required=False, help_text="group name")
    role = serializers.ChoiceField(choices=["read", "write", "admin"])

    def validate(self, attrs):
        if ("user" in attrs) == ("group" in attrs):
            raise serializers.ValidationError({"user": ["give user or group, not both"]})
        return attrs


class RuleOut(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", allow_null=True, default=None)
    group = serializers.CharField(source="group.name", allow_null=True, default=None)

    class Meta:
        model = ProjectAccessRule
        fields = ["id", "user", "group", "role", "created"]


class ProjectRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class DatasetCreateIn(serializers.Serializer):
    dataset_name = name_field()
    dataset_project = name_field(required=False, allow_null=True)
    tags = serializers.ListField(child=name_field(), required=False, max_length=MAX_TAGS)
    description = text_field(required=False, allow_blank=True, allow_null=True)
    metadata = JSON_OBJECT
    raise_if_exists = StrictBooleanField(required=False, default=False)


class DatasetUpdateIn(serializers.Serializer):
    name = name_field(required=False)
    description = text_field(required=False, allow_blank=True)
    metadata = json_object(required=False, allow_empty=True)
    project_id = StrictUUIDField(required=False, allow_null=True,
                                       help_text="move to this project; null moves it out of any project")


class TagsIn(serializers.Serializer):
    tags = serializers.ListField(child=name_field(), max_length=MAX_TAGS)




class DatasetOut(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    project = ProjectRef(allow_null=True)
    description = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField(), source="tag_names")
    metadata = serializers.DictField()
    is_example = serializers.BooleanField()
    created = serializers.DateTimeField()
    updated = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    version_count = serializers.IntegerField()
    current_version_id = serializers.UUIDField(allow_null=True)
    current_frame_count = serializers.IntegerField(allow_null=True)


class VersionCreateIn(serializers.Serializer):
    version_name = name_field()
    parent_version_names = serializers.ListField(child=name_field(), required=False, max_length=MAX_PARENTS)
    parent_version_ids = serializers.ListField(child=StrictUUIDField(), required=False, max_length=MAX_PARENTS)
    raise_if_exists = StrictBooleanField(required=False, default=False)
    metadata = JSON_OBJECT
    comment = text_field(required=False, allow_blank=True)


class SnapshotIn(serializers.Serializer):
    publish_name = name_field(required=False, allow_null=True)
    child_name = name_field(required=False, allow_null=True)
    child_metadata = json_object(required=False, allow_null=True)
    child_comment = text_field(required=False, allow_null=True, allow_blank=True)


class VersionUpdateIn(serializers.Serializer):
    name = name_field(required=False)
    comment = text_field(required=False, allow_blank=True)


class MetadataIO(serializers.Serializer):
    metadata = json_object(allow_empty=True)


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 255})
class ChannelField(serializers.IntegerField):
    """A colour channel: the mask-label rules (annotations.mask_labels) refuse values outside 0-255."""


class MaskLabelEntry(serializers.Serializer):
    value = serializers.ListField(child=ChannelField(), min_length=3, max_length=3, help_text="[r, g, b]")
    labels = serializers.ListField(child=MaskLabelField(min_length=1, max_length=MAX_NAME_LENGTH), min_length=1)


class MaskLabelsIO(serializers.Serializer):
    mask_labels = serializers.ListField(child=MaskLabelEntry(), max_length=MAX_MASK_VALUES,
                                        help_text="in order: [{value: [r,g,b], labels}]; a value given twice "
                                                  "maps to the labels of both")


class VersionOut(serializers.Serializer):
    id = serializers.UUIDField()
    dataset_id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=VersionStatus.values)
    parent_ids = serializers.SerializerMethodField()
    metadata = serializers.DictField()
    tags = serializers.ListField(child=serializers.CharField())
    comment = serializers.CharField()
    depth = serializers.IntegerField()
    frame_count = serializers.IntegerField()
    created = serializers.DateTimeField()
    published = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)

    def get_parent_ids(self, version) -> list[str]:
        return [str(link.parent_id) for link in version.parent_links.all()]


class SnapshotByReferenceIn(SnapshotIn):
    dataset_id = StrictUUIDField(required=False)
    dataset_name = name_field(required=False)
    dataset_project = name_field(required=False)


class DatasetAndVersionOut(serializers.Serializer):
    dataset = DatasetOut()
    version = VersionOut()


class VersionLookupOut(serializers.Serializer):
    version = VersionOut()
    warning = serializers.CharField(allow_null=True)


def versions_for_output(versions):
    return versions.select_related("created_by").prefetch_related("parent_links")


class ProviderCountsOut(serializers.Serializer):
    total = serializers.IntegerField()
    deleted = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()


class DeletionErrorOut(serializers.Serializer):
    provider = serializers.CharField()
    message = serializers.CharField()
    count = serializers.IntegerField()
    example_uri = serializers.CharField()


class DeletionJobOut(serializers.Serializer):
    id = serializers.UUIDField()
    dataset_id = serializers.UUIDField()
    dataset_name = serializers.CharField()
    project_name = serializers.CharField(allow_blank=True)
    status = serializers.CharField(help_text="queued, running, succeeded, failed or partly_failed")
    total = serializers.IntegerField(help_text="distinct object URIs the dataset's frames pointed to")
    deleted = serializers.IntegerField(help_text="deleted, or already gone (404)")
    skipped = serializers.IntegerField()
    skipped_reasons = serializers.DictField(child=serializers.IntegerField(),
                                            help_text="referenced (by a surviving frame), local, unsupported")
    failed = serializers.IntegerField()
    providers = serializers.DictField(child=ProviderCountsOut(), help_text="the counts per provider")
    errors = DeletionErrorOut(many=True, help_text="why objects failed, grouped by message")
    finished = serializers.BooleanField(source="is_finished")
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(source="finished", allow_null=True)
    error = serializers.CharField(allow_blank=True)


class DeleteDatasetOut(serializers.Serializer):
    deleted = serializers.BooleanField()
    dataset_id = serializers.UUIDField()
    delete_sources = serializers.BooleanField(help_text="whether deleting the sources was asked for")
    job = DeletionJobOut(allow_null=True, help_text="the job deleting the sources (HTTP 202), else null")


class FramesIn(serializers.Serializer):
    # Any JSON per item: each frame is validated on its own, and a bad one is reported in `failures`.
    frames = serializers.ListField(child=serializers.JSONField(), help_text="frame documents")


@extend_schema_field({"type": "string", "minLength": 1, "pattern": TEXT_PATTERN})
class FrameIdField(StrictCharField):
    """A frame id to look up or delete: no stored id is empty or holds a NUL (``services.frames``)."""


class FrameIdsIn(serializers.Serializer):
    # unknown ids come back as missing
    frame_ids = serializers.ListField(child=FrameIdField(), max_length=MAX_FRAMES_PER_CALL)


class FrameLookupIn(serializers.Serializer):
    frame_ids = serializers.ListField(child=FrameIdField(), max_length=MAX_LOOKUP_IDS)


class FrameFailureOut(serializers.Serializer):
    index = serializers.IntegerField()
    id = serializers.CharField(allow_null=True)
    field = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class FrameWriteOut(serializers.Serializer):
    saved = serializers.IntegerField()
    saved_ids = serializers.ListField(child=serializers.CharField())
    failed = serializers.IntegerField()
    failures = FrameFailureOut(many=True)
    batch = serializers.CharField(help_text="what a partly invalid batch does")


class FrameDeleteOut(serializers.Serializer):
    deleted = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())


class FramePageOut(serializers.Serializer):
    frames = serializers.ListField(child=serializers.DictField())
    next_cursor = serializers.CharField(allow_null=True)


class FramesByIdOut(serializers.Serializer):
    frames = serializers.DictField(child=serializers.DictField())
    missing = serializers.ListField(child=serializers.CharField())


class CountOut(serializers.Serializer):
    count = serializers.IntegerField()


class StatsOut(serializers.Serializer):
    frames = serializers.IntegerField()
    annotated = serializers.IntegerField()
    unannotated = serializers.IntegerField()
    labels = serializers.DictField(child=serializers.IntegerField())
    content_types = serializers.DictField(child=serializers.IntegerField())


@extend_schema_field({"type": "string", "maxLength": MAX_UPLOAD_PATH_LENGTH, "pattern": UPLOAD_PATH_PATTERN})
class UploadPathField(StrictCharField):
    """``upload_paths``' rule, applied by ``services.uploads``."""


class UploadIn(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    kind = serializers.ChoiceField(choices=["source", "preview", "mask"], default="source")
    path = UploadPathField(required=False, help_text="relative path to keep, e.g. raw/cam1/a.jpg")


class FrameLinksOut(serializers.Serializer):
    frame_id = serializers.CharField()
    links = serializers.DictField(child=serializers.URLField(allow_null=True),
                                  help_text="file URI -> download URL, or null when the server does not serve it")


class UploadOut(serializers.Serializer):
    uri = serializers.CharField()
    content_type = serializers.CharField(allow_null=True)
    size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    hash = serializers.CharField(help_text="SHA-256 of the content (hex); the SDK keeps it in the source's meta.hash")




def paginated(serializer_class) -> serializers.Serializer:
    """The OpenAPI shape of a keyset-paginated list of ``serializer_class``."""
    name = f"Paginated{serializer_class.__name__}List"
    return type(name, (serializers.Serializer,), {
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer_class(many=True),
    })()
