"""OpenAPI post-processing: every operation documents the errors every endpoint can answer."""

ERROR = {
    "type": "object",
    "description": "A refusal: 'detail' in words, or each bad field with its messages.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid input: the body names each bad field.",
    "401": "No valid credentials.",
    "403": "Not allowed for these credentials.",
    "404": "Not found, or not yours to see.",
    "405": "Method not allowed.",
    "409": "The object's state does not allow this (already decided, already enrolled).",
    "415": "Unsupported media type.",
    "503": "The database is unavailable for a moment; nothing was stored.",
}


def error_responses(result, generator, request, public):
    """drf-spectacular hook: add the shared error responses (and their schema) to every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
