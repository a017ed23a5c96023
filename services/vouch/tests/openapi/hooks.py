"""Schemathesis hooks for Vouch's OpenAPI documents (make openapi-check).

Vouch's request bodies are binary (evidence, CoRIMs) or Rego text under
vendor media types, which schemathesis has no serializer for. Before a
document is loaded, every request media type it names gets one: bytes are
sent as they are, text as UTF-8.
"""

import schemathesis


def raw_bytes(ctx, value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return str(value).encode("utf-8")


@schemathesis.hook
def before_load_schema(context, raw_schema):
    media_types = set()
    for item in raw_schema.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict):
                body = operation.get("requestBody", {})
                media_types.update(body.get("content", {}).keys())
    media_types.discard("application/json")
    if media_types:
        schemathesis.serializer(*sorted(media_types))(raw_bytes)
