"""What every operation of the OpenAPI schema may answer besides success: the errors are part of
the contract (a client must know a refusal's shape), and schemathesis checks we keep to it."""

ERROR = {
    "type": "object",
    "description": "Field name -> its messages; `non_field_errors` for the act as a whole.",
    # A body that is not JSON at all: {"detail": "JSON parse error - ..."}.
    "properties": {"detail": {"type": "string"}},
    # A list's errors are keyed by the position of the item at fault.
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
    },
}
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}

ANSWERS = {
    "400": ("Bad input: nothing was written.", ERROR),
    "401": ("No key, or an unknown or revoked one.", DETAIL),
    "403": ("The key's scopes do not allow this.", DETAIL),
    "404": ("No such row in the key's organisation.", DETAIL),
    "429": ("Too many calls with this key; see Retry-After.", DETAIL),
}


def add_error_answers(result, generator, request, public):
    """drf-spectacular postprocessing hook."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["FieldErrors"] = ERROR
    schemas["Detail"] = DETAIL
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, (description, schema) in ANSWERS.items():
                if code == "404" and "{" not in path:
                    continue
                name = "FieldErrors" if schema is ERROR else "Detail"
                operation["responses"].setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    },
                )
    return result
