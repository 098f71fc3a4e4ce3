"""A generic lead source's field map: which JSONPath gives each lead field. Checked when a manager saves it.

A field maps to one JSONPath, or to a list of them read in turn ({"name": ["$.first_name", "$.last_name"]}).
Reading one lead (``field_map_read``):
- ``message`` keeps every value every path finds (a wildcard into an array gives them all), one a line;
- any other field takes the first non-empty value of each path, and a list of paths joins those with a space
  (so a name asked in parts reads whole); a wildcard path into an array gives its first value;
- a path that finds nothing gives '' (an optional field left out of a lead is not an error); one that finds an
  object where a value belongs raises ValueError naming the field and the path.
"""

import json
from functools import lru_cache

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as jsonpath

MAPPED_FIELDS = ("name", "email", "phone", "company", "message", "postal_code", "country", "external_id")
CONTACT_FIELDS = ("email", "phone")


def field_map_errors(field_map) -> list[str]:
    """What is wrong with a generic source's mapping (unknown fields, paths that do not parse); empty when fine."""
    if not isinstance(field_map, dict) or not field_map:
        return ['Map at least "email" or "phone", e.g. {"email": "$.email"}.']
    errors = [f"'{name}' is not one of: {', '.join(MAPPED_FIELDS)}." for name in field_map if name not in MAPPED_FIELDS]
    for name, paths in field_map.items():
        if not _is_paths(paths):
            errors.append(f'{name}: give a JSONPath ("$.email") or a list of them (["$.first", "$.last"]).')
            continue
        for path in _as_list(paths):
            try:
                _parsed(path)
            except (JsonPathParserError, Exception) as exc:  # noqa: BLE001 - the parser raises several kinds
                errors.append(f"{name}: '{path}' is not a JSONPath ({exc}).")
    if not set(CONTACT_FIELDS) & set(field_map):
        errors.append('Map "email" or "phone": a lead needs a way to be reached.')
    return errors


def field_map_read(field_map: dict, lead) -> dict[str, str]:
    """Each mapped field's text in one lead (a JSON object), by the rules above; '' where a path finds nothing.

    Raises ValueError naming the field and its path when a path finds an object or array of objects where a value
    belongs (the map should point inside it, e.g. "$.contact.phones[0].number").
    """
    read = {}
    for name, paths in field_map.items():
        found = [(path, _found(path, lead)) for path in _as_list(paths)]
        if name == "message":
            read[name] = "\n".join(_text(v) for _, values in found for v in values)
            continue
        parts = []
        for path, values in found:
            if values and not _is_scalar(values[0]):
                raise ValueError(f"'{name}' ({path}) finds an object, not a value: map a field inside it")
            if values:
                parts.append(_text(values[0]))
        read[name] = " ".join(parts)
    return read


def _is_paths(paths) -> bool:
    if isinstance(paths, str):
        return bool(paths.strip())
    return isinstance(paths, list) and bool(paths) and all(isinstance(p, str) and p.strip() for p in paths)


def _as_list(paths) -> list[str]:
    return [paths] if isinstance(paths, str) else list(paths)


@lru_cache(maxsize=256)
def _parsed(path: str):
    return jsonpath(path)


def _found(path: str, data) -> list:
    """Every non-empty value the path finds, arrays opened (a path ending on an array gives its items)."""
    values = []
    for match in _parsed(path).find(data):
        items = match.value if isinstance(match.value, list) else [match.value]
        values += [v for v in items if v is not None and (not isinstance(v, str) or v.strip())]
    return values


def _is_scalar(value) -> bool:
    return isinstance(value, (str, int, float, bool))


def _text(value) -> str:
    return str(value).strip() if _is_scalar(value) else json.dumps(value, ensure_ascii=False, sort_keys=True)
