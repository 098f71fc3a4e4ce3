"""django-q2 entry points for the pipeline: thin, they take ids and call services."""

from routing.pipeline import process_event as _process_event


def process_event(event_id: int) -> int:
    return _process_event(event_id=event_id).pk
