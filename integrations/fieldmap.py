"""A generic lead source's field map: which JSONPath gives each lead field. Checked when a manager saves it."""

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as jsonpath

MAPPED_FIELDS = ("name", "email", "phone", "company", "message", "postal_code", "external_id")


def field_map_errors(field_map) -> list[str]:
    """What is wrong with a generic source's mapping (unknown fields, paths that do not parse); empty when fine."""
    if not isinstance(field_map, dict) or not field_map:
        return ['Map at least "email" or "phone", e.g. {"email": "$.email"}.']
    errors = [f"'{name}' is not one of: {', '.join(MAPPED_FIELDS)}." for name in field_map if name not in MAPPED_FIELDS]
    for name, path in field_map.items():
        try:
            jsonpath(str(path))
        except (JsonPathParserError, Exception) as exc:  # noqa: BLE001 - the parser raises several kinds
            errors.append(f"{name}: '{path}' is not a JSONPath ({exc}).")
    if not {"email", "phone"} & set(field_map):
        errors.append('Map "email" or "phone": a lead needs a way to be reached.')
    return errors
