"""The routing configuration (rules, teams, reps, hours, absences, holidays, territories) as one cached snapshot.

Routing a lead must not reload 200 rules and 100 reps every time. Each process keeps a
``config.versions.Snapshot``: saving or deleting any routing record (or a rep's user) replaces
its token, and every process rebuilds on its next lead. Rotation state and loads are *not*
here: they are read under row locks.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from config.versions import Snapshot
from integrations.outbound import SlackTarget
from leads.conditions import CompiledConditions, compile_conditions
from routing import assign, availability, engine
from routing.models import Absence, Holiday, Rep, RoutingRule, Team, Territory, WorkingHours, skill_set
from routing.models.people import login_possible

VERSION_KEY = "routing:config-version"
WATCHED = (Team, Rep, WorkingHours, Absence, Holiday, Territory, RoutingRule)


@dataclass(frozen=True)
class TeamSla:
    minutes: int | None
    action: str
    max_hops: int


@dataclass(frozen=True)
class RoutingConfig:
    rules: dict[int, RoutingRule]  # read-only copies, in priority order
    specs: tuple[engine.RuleSpec, ...]
    compiled: dict[int, CompiledConditions]
    directory: assign.Directory
    sla: dict[int, TeamSla]
    rep_by_user: dict[int, int]
    slack_urls: dict[int, str]  # team id → its Slack channel's webhook (teams without one are left out)
    first_names: dict[int, str]  # a rep's user id → how messages name them (first name, else username)


def config_changed() -> None:
    """Make every process rebuild its snapshot on its next lead."""
    _snapshot.changed()


@receiver(post_save, sender="auth.User", dispatch_uid="routing-config-user")
def _on_user_change(sender, instance, update_fields=None, **kwargs):
    # Rep names come from their user, and whether they take leads from its is_active and password;
    # a login (last_login only) changes neither.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    if Rep.objects.filter(user_id=instance.pk).exists():
        config_changed()


def _rep_info(rep: Rep, holidays: frozenset[date]) -> assign.RepInfo:
    return assign.RepInfo(
        id=rep.pk,
        name=str(rep),
        team_id=rep.team_id,
        user_id=rep.user_id,
        active=rep.active,
        can_log_in=login_possible(rep.user),
        timezone=rep.timezone,
        weight=rep.weight,
        capacity=rep.capacity,
        languages=skill_set(rep.languages),
        product_lines=skill_set(rep.product_lines),
        lead_types=skill_set(rep.lead_types),
        hours=tuple((h.weekday, h.start, h.end) for h in rep.working_hours.all()),
        absences=tuple((a.starts_at, a.ends_at) for a in rep.absences.all()),
        holidays=holidays,
        phone=rep.phone,
    )


def _build() -> RoutingConfig:
    recent = timezone.now() - timedelta(days=1)
    reps = (
        Rep.objects.select_related("user")
        .prefetch_related("working_hours")
        .prefetch_related(
            # Finished absences can't matter any more; only current and future ones are kept.
            Prefetch("absences", queryset=Absence.objects.filter(ends_at__gte=recent))
        )
    )
    rules = list(RoutingRule.objects.filter(active=True).order_by("priority", "id"))
    compiled = {}
    for rule in rules:
        try:
            compiled[rule.pk] = compile_conditions(rule.conditions)
        except ValueError:
            continue  # choose_rule re-checks it and says why it was skipped
    teams = list(Team.objects.all())
    holidays = frozenset(Holiday.objects.filter(date__gte=recent.date()).values_list("date", flat=True))
    directory = assign.Directory(
        teams={t.pk: assign.TeamInfo(id=t.pk, name=t.name, is_fallback=t.is_fallback) for t in teams},
        reps={r.pk: _rep_info(r, holidays) for r in reps},
        territories=tuple(
            assign.TerritoryInfo(kind=t.kind, code=t.code, rep_id=t.rep_id, team_id=t.team_id)
            for t in Territory.objects.all()
        ),
    )
    return RoutingConfig(
        rules={r.pk: r for r in rules},
        specs=tuple(engine.RuleSpec(id=r.pk, name=r.name, conditions=r.conditions) for r in rules),
        compiled=compiled,
        directory=directory,
        sla={t.pk: TeamSla(t.sla_minutes, t.sla_action, t.sla_max_hops) for t in teams},
        rep_by_user={r.user_id: r.id for r in directory.reps.values()},
        slack_urls={t.pk: t.slack_webhook_url for t in teams if t.slack_webhook_url},
        first_names={r.user_id: first_name(r.user) for r in reps},
    )


_snapshot = Snapshot(VERSION_KEY, _build, WATCHED)


def routing_config() -> RoutingConfig:
    """The current routing configuration, rebuilt only when a routing record changed."""
    return _snapshot.get()


def first_name(user) -> str:
    """How a message to a lead names one of our people: their first name, else their username."""
    return user.first_name or user.get_username()


def owner_first_name(user_id: int | None) -> str:
    """How a message names the lead's owner ("" when it has none): from the snapshot when they are a rep."""
    if user_id is None:
        return ""
    name = routing_config().first_names.get(user_id)
    return name if name is not None else first_name(get_user_model().objects.get(pk=user_id))


def lead_takers(lead, *, now: datetime | None = None, need_phone: bool = False) -> availability.Takers:
    """Who can take ``lead`` now (routing.availability.takers): the owner if working, else their team's reps who
    are, else the fallback team's, else nobody. The voice ring list, Slack and SLA alerts all ask here."""
    config = routing_config()
    rep_id = config.rep_by_user.get(lead.owner_id) if lead.owner_id else None
    return availability.takers(config.directory, rep_id, now or timezone.now(), need_phone=need_phone)


def team_slack_channel(*, lead) -> SlackTarget:
    """Receiver of integrations.outbound.SLACK_CHANNEL_FOR: the channel of the team of whoever can take the lead now
    (:func:`lead_takers`; the owner's team when nobody can), and who that is."""
    config = routing_config()
    found = lead_takers(lead)
    url = config.slack_urls.get(found.team_id, "") if found.team_id is not None else ""
    if found.who == availability.OWNER:
        return SlackTarget(url=url, notify=f"For {found.names}, the owner.")
    if found.reps:
        return SlackTarget(url=url, notify=f"For {found.names}: {found.reason}.")
    return SlackTarget(url=url, notify=f"Nobody can take it now: {found.reason}.")
