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
    "404": "Not found, or not visible to the caller",
    "405": "Method not allowed",
    "409": "Conflict with the object's state, or it already exists",
    "413": "Request body too large",
    "415": "Unsupported media type",
    "429": "Too many requests",
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
