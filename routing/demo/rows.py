"""The rows of the demo's history, held in memory and written in bulk: the same rows the services write, with
their times in the past, and the way to take them out again.

Every generated lead is found by its first event's ``external_id`` (``MARK`` + a number), so a second run deletes
what the first wrote before writing again; the managers' policy changes it logs carry ``MARK`` in their output.
"""

from collections import Counter
from datetime import datetime

from django.db import connection, models
from django.db.models.deletion import CASCADE, DO_NOTHING, SET_NULL

from approvals.models import Action
from audit.models import Decision
from leads.models import Appointment, InboundEvent, Lead, Message
from routing.models import Assignment, Enrollment, StepRun

MARK = "demo-history-"
CHUNK = 500


class Rows:
    """What the history's services would have written, in memory until :meth:`write`.

    Model instances refer to each other as the services' rows do (an action to its lead); a Decision's output may
    hold instances where the services put primary keys, resolved once the rows have theirs.
    """

    ORDER = (Lead, InboundEvent, Assignment, Appointment, Action, Message, Enrollment, StepRun, Decision)

    def __init__(self):
        self.rows: dict[type, list] = {model: [] for model in self.ORDER}
        # (lead, when, user id, reason, the lead's fields at that moment): its history (django-simple-history).
        self.lead_history: list[tuple[Lead, datetime, int | None, str, dict]] = []

    def add(self, instance):
        self.rows[type(instance)].append(instance)
        return instance

    def decision(self, when: datetime, **fields) -> Decision:
        return self.add(Decision(created_at=when, **fields))

    def counts(self) -> Counter:
        counted = Counter({model._meta.verbose_name_plural: len(rows) for model, rows in self.rows.items()})
        counted["lead history rows"] = len(self.lead_history)
        return counted

    def write(self) -> None:
        """Insert everything, in dependency order, with the times the story gave it."""
        for model in self.ORDER:
            objects = self.rows[model]
            if model is Decision:
                for decision in objects:
                    decision.output = _keys(decision.output)
            _insert(model, objects)
        _lead_history_insert(self.lead_history)


def _keys(value):
    """``value`` with every model instance replaced by its primary key (what the services store in JSON)."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {key: _keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_keys(item) for item in value]
    return value


def _insert(model, objects: list) -> None:
    """bulk_create ``objects``, then put back the times their ``auto_now``/``auto_now_add`` fields overwrote."""
    if not objects:
        return
    stamped = [
        f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    kept = [[getattr(obj, f.attname) for f in stamped] for obj in objects]
    model.objects.bulk_create(objects, batch_size=CHUNK)
    if not stamped:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(f.column)} = %s" for f in stamped)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE {quote(model._meta.pk.column)} = %s"
    params = []
    for obj, values in zip(objects, kept, strict=True):
        for field, value in zip(stamped, values, strict=True):
            setattr(obj, field.attname, value)
        params.append([f.get_db_prep_save(v, connection) for f, v in zip(stamped, values, strict=True)] + [obj.pk])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _lead_history_insert(entries: list) -> None:
    historical = Lead.history.model
    tracked = [f.attname for f in historical._meta.concrete_fields if not f.name.startswith("history_")]
    rows = []
    for lead, when, user_id, reason, fields in entries:
        values = {name: getattr(lead, name) for name in tracked if name != "id"}
        values.update(fields)
        rows.append(
            historical(
                id=lead.pk,
                history_date=when,
                history_type="~",
                history_user_id=user_id,
                history_change_reason=reason[:100],
                **values,
            )
        )
    historical.objects.bulk_create(rows, batch_size=CHUNK)


def history_clear() -> int:
    """Delete every row an earlier run generated (the leads, all that hangs on them, their history); returns how
    many leads went.

    Deleted as the database would cascade, without Django's per-row signals: the history's own rows were written
    without them, and a "deleted" history row for each would only grow the tables.
    """
    lead_ids = sorted(set(InboundEvent.objects.filter(external_id__startswith=MARK).values_list("lead_id", flat=True)))
    for start in range(0, len(lead_ids), CHUNK):
        chunk = lead_ids[start : start + CHUNK]
        _cascade(Lead, chunk)
        Lead.history.model.objects.filter(id__in=chunk)._raw_delete(connection.alias)
    Decision.objects.filter(lead=None, output__seeded=MARK)._raw_delete(connection.alias)
    return len(lead_ids)


def _cascade(model, pks: list) -> None:
    """Delete ``model``'s rows ``pks`` and what refers to them, following each foreign key's on_delete."""
    if not pks:
        return
    for relation in model._meta.related_objects:
        if not relation.field.concrete or relation.on_delete is DO_NOTHING:
            continue  # history tables keep their own copies; nothing to follow
        related = relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": pks})
        if relation.on_delete is CASCADE:
            _cascade(relation.related_model, list(related.values_list("pk", flat=True)))
        elif relation.on_delete is SET_NULL:
            related.update(**{relation.field.name: None})
        elif related.exists():
            raise RuntimeError(f"{relation.related_model.__name__} rows protect {model.__name__} rows {pks[:5]}…")
    model._base_manager.filter(pk__in=pks)._raw_delete(connection.alias)
