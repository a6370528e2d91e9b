"""OpenAPI post-processing: every operation documents the one error shape for the statuses it can answer."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": True},
            },
        }
    },
}
ERROR_STATUSES = {
    "400": "Invalid input; details name each field and rule",
    "401": "Not signed in",
    "403": "Signed in, but the role does not allow this",
    "404": "Not found, or not visible to the caller (or a page cursor that no page returned)",
    "405": "Method not allowed",
    "409": "Conflict with the object's state, or it already exists, or a name is ambiguous",
    "412": "If-Match does not match the current ETag",
    "413": "Request body too large",
    "414": "Request line longer than 8,190 bytes (answered by the HTTP server, in the same shape)",
    "415": "Unsupported media type",
    "429": "Too many requests",
    "431": "A header field longer than 8,190 bytes (answered by the HTTP server, in the same shape)",
}


def add_error_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_STATUSES.items():
                responses.setdefault(status, {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
    return result


def json_value_schemas(text_pattern: str, max_number: int) -> dict:
    """Metadata as the services rule it (``validation.clean_metadata``): any JSON whose strings and keys hold
    no NUL and whose numbers lie within ±max_number. Recursive, as JSON is."""
    return {
        "JsonValue": {
            "anyOf": [
                {"type": "null"},
                {"type": "string", "pattern": text_pattern},
                {"type": "number", "minimum": -max_number, "maximum": max_number},
                {"type": "boolean"},
                {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
                {"$ref": "#/components/schemas/JsonObject"},
            ],
        },
        "JsonObject": {
            "type": "object",
            "propertyNames": {"pattern": text_pattern},
            "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
        },
    }


# Rules across the fields of a body that the serializer cannot state: JSON Schema can.
BODY_RULES = {
    "RuleInRequest": {"anyOf": [{"required": ["user"]}, {"required": ["group"]}],
                      "not": {"required": ["user", "group"]}},
    "SnapshotByReferenceInRequest": {"anyOf": [{"required": ["dataset_id"]}, {"required": ["dataset_name"]}]},
    "VersionCreateInRequest": {
        "not": {"required": ["parent_version_names", "parent_version_ids"]},
        "properties": {"parent_version_names": {"uniqueItems": True}, "parent_version_ids": {"uniqueItems": True}},
    },
}


def _merge(target: dict, rules: dict) -> None:
    for key, value in rules.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def add_body_rules(result, generator, request, public):
    from hyperdatasets.validation import MAX_JSON_NUMBER, TEXT_PATTERN

    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(json_value_schemas(TEXT_PATTERN, MAX_JSON_NUMBER))
    for name, rules in BODY_RULES.items():
        _merge(schemas[name], rules)
    # A body with a rule across its fields is needed even when no single field is required.
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1] in BODY_RULES:
                    operation["requestBody"]["required"] = True
    return result
