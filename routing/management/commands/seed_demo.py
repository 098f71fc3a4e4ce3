import argparse
from datetime import datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from approvals.drafting import OPT_OUT_CONFIRMATION
from approvals.gates import GATE_FIELDS
from approvals.models import BusinessHours, MessageTemplate, Policy, PolicyGate, Reviewer, Workflow
from audit.periods import business_tz
from integrations.models import ChatWidget
from leads.conditions import parse_lines
from leads.models import WebForm
from leads.permissions import MANAGER_GROUP, REP_GROUP
from routing.demo.seed import MAX_DAYS, history_seed
from routing.models import Cadence, CadenceStep, QualificationCriteria, Rep, RoutingRule, Team, Territory
from routing.voice import TEXT_BACK

DEMO_PASSWORD = "demo"  # noqa: S105 - demo data only; refused when debug is off
MANAGED_APPS = ["leads", "routing", "approvals", "integrations", "audit"]

# Every text reads well with any variable empty (tests/approvals/test_templating.py renders each so): a word the
# sentence needs stands in through `default`; the rest is left out, with its comma or preposition.
HI = 'Hi {{ first_name|default:"there" }}'
SIGNED = '\n\nBest,\n{{ rep_name|default:"The team" }}'
MISSED_CALL_SMS = TEXT_BACK
FIRST_RESPONSE_SMS = (
    HI + ', thanks for reaching out to {{ business_name|default:"us" }}! This is {{ rep_name|default:"the team" }}. '
    "What's the best time for a quick call about your project?"
)
FIRST_RESPONSE_EMAIL = (
    HI + ',\n\nThanks for contacting {{ business_name|default:"us" }}. I\'ll look after your request: when would suit '
    "you for a short call?" + SIGNED
)
# The Spanish variants: a lead who writes in Spanish is answered with them (approvals.drafting.template_pick).
# The SMS keeps to GSM-7 (no accented vowel: "¿" is in the set), so it is not counted at 70 characters a segment.
HOLA = "Hola {{ first_name }}"
FIRST_RESPONSE_SMS_ES = (
    HOLA + ', gracias por escribir a {{ business_name|default:"nuestro equipo" }}. '
    'Le escribe {{ rep_name|default:"el equipo" }}. ¿Le podemos llamar hoy para hablar de su proyecto?'
)
FIRST_RESPONSE_EMAIL_ES = (
    HOLA + ',\n\nGracias por contactar con {{ business_name|default:"nosotros" }}. Me encargo de su solicitud: '
    '¿cuándo le vendría bien una llamada corta?\n\nSaludos,\n{{ rep_name|default:"El equipo" }}'
)
# The first answer in each language the demo writes: (name, channel, language, subject, body).
FIRST_RESPONSES = (
    ("First response (SMS)", "sms", "en", "", FIRST_RESPONSE_SMS),
    ("First response (email)", "email", "en", "Your request to {{ business_name }}", FIRST_RESPONSE_EMAIL),
    ("First response (SMS, Spanish)", "sms", "es", "", FIRST_RESPONSE_SMS_ES),
    ("First response (email, Spanish)", "email", "es", "Su solicitud a {{ business_name }}", FIRST_RESPONSE_EMAIL_ES),
)

# name: (workflow, channel, subject, body)
CADENCE_TEMPLATES = {
    "Quote check-in (SMS)": (
        Workflow.FOLLOW_UP,
        "sms",
        "",
        HI + ', it\'s {{ rep_name|default:"the team" }} at {{ business_name }}. Any questions about the quote we '
        "sent? Happy to walk you through it.",
    ),
    "Quote nudge (SMS)": (
        Workflow.FOLLOW_UP,
        "sms",
        "",
        HI + ", just checking in on your quote from {{ business_name }}. Would you like to book a time to get started?",
    ),
    "Quote last call (email)": (
        Workflow.FOLLOW_UP,
        "email",
        "Your quote from {{ business_name }}",
        HI + ",\n\nI wanted to follow up once more on your quote. If the timing isn't right, no problem: just reply "
        "and let me know." + SIGNED,
    ),
    "Still interested? (SMS)": (
        Workflow.FOLLOW_UP,
        "sms",
        "",
        HI + ', are you still looking for help with your project? Reply here and {{ rep_name|default:"we" }} will get '
        "right back to you.",
    ),
    "Appointment tomorrow (SMS)": (
        Workflow.APPOINTMENT_REMINDER,
        "sms",
        "",
        HI + ", a reminder of your appointment with {{ business_name }} on {{ appointment_time }}. "
        "Reply if you need to change it.",
    ),
    "Appointment soon (SMS)": (
        Workflow.APPOINTMENT_REMINDER,
        "sms",
        "",
        HI + ', {{ rep_name|default:"we" }} will see you on {{ appointment_time }}. Reply here if anything changes.',
    ),
    "Review request (SMS)": (
        Workflow.REVIEW_REQUEST,
        "sms",
        "",
        'Thanks for choosing {{ business_name|default:"us" }}, {{ first_name }}! Would you leave us a quick review? '
        "{{ link }}",
    ),
}
# name: (cadence fields, [(delay, unit, channel, template name or call/slack note, step options)])
CADENCES = {
    "Quote follow-up": (
        {"trigger": Cadence.Trigger.STAGE_ENTERED, "trigger_stage": "quoted", "workflow": Workflow.FOLLOW_UP},
        [
            (1, "business_days", "sms", "Quote check-in (SMS)", {}),
            (
                2,
                "business_days",
                "call",
                'Call {{ first_name|default:"the lead" }} about the quote.',
                {"only_if_no_reply": True},
            ),
            (3, "business_days", "sms", "Quote nudge (SMS)", {"only_if_stage": "quoted"}),
            (7, "business_days", "email", "Quote last call (email)", {"only_if_stage": "quoted"}),
        ],
    ),
    "Appointment reminders": (
        {"trigger": Cadence.Trigger.APPOINTMENT, "workflow": Workflow.APPOINTMENT_REMINDER, "stop_on_booking": False},
        [
            (24, "hours", "sms", "Appointment tomorrow (SMS)", {}),
            (2, "hours", "sms", "Appointment soon (SMS)", {}),
        ],
    ),
    "Review request": (
        {
            "trigger": Cadence.Trigger.STAGE_ENTERED,
            "trigger_stage": "won",
            "workflow": Workflow.REVIEW_REQUEST,
            "link": "https://g.page/r/nightshift-demo/review",
            "stop_stages": "lost",
            "stop_on_reply": False,
        },
        [(2, "business_days", "sms", "Review request (SMS)", {})],
    ),
    "Gone quiet": (
        {"trigger": Cadence.Trigger.NO_REPLY, "trigger_hours": 48, "workflow": Workflow.FOLLOW_UP},
        [
            (0, "hours", "sms", "Still interested? (SMS)", {}),
            (
                1,
                "business_days",
                "slack",
                '{{ first_name|default:"This lead" }} has gone quiet after two nudges: worth a call?',
                {},
            ),
        ],
    ),
}


def cadences_seed() -> None:
    """The demo's cadences and their templates, each validated as the admin would."""
    templates = {}
    for name, (workflow, channel, subject, body) in CADENCE_TEMPLATES.items():
        templates[name], _ = MessageTemplate.objects.update_or_create(
            name=name, defaults={"workflow": workflow, "channel": channel, "subject": subject, "body": body}
        )
    for name, (fields, steps) in CADENCES.items():
        cadence = Cadence.objects.filter(name=name).first() or Cadence(name=name)
        for key, value in fields.items():
            setattr(cadence, key, value)
        cadence.full_clean()
        cadence.save()
        cadence.steps.all().delete()
        for position, (delay, unit, channel, text, options) in enumerate(steps):
            step = CadenceStep(cadence=cadence, position=position, delay=delay, delay_unit=unit, channel=channel)
            if channel in ("sms", "email"):
                step.template = templates[text]
            else:
                step.note = text
            for key, value in options.items():
                setattr(step, key, value)
            step.full_clean()
            step.save()


# The demo's reps: (number, first name, languages, round-robin weight). A history is a 5-rep business's.
REPS = ((1, "Ana", "en, es", 1), (2, "Ben", "en", 1), (3, "Cleo", "en", 2))
HISTORY_REPS = ((4, "Dani", "en, es", 1), (5, "Eli", "en", 1))


def _moment(text: str) -> datetime:
    """An ISO 8601 date and time; one without a zone is on the business's clock (TIME_ZONE)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a date and time like 2026-11-30T15:00, not {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=business_tz())


class Command(BaseCommand):
    help = (
        "Create demo users, a team, rules, policies, templates and a web form; with --history DAYS, also a 5-rep "
        "business's leads over those days (the first third before automation). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with debug off (creates known passwords).")
        parser.add_argument(
            "--history",
            type=int,
            metavar="DAYS",
            help="Also seed DAYS days of leads, answers, cadences and decisions ending now (replaces an earlier one).",
        )
        parser.add_argument(
            "--until",
            type=_moment,
            metavar="ISO_DATETIME",
            help="End the history at this hour instead of now (the same DAYS and --until give the same rows).",
        )

    def handle(self, *args, force=False, history=None, until=None, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo users with known passwords while debug is off (use --force).")
        if history is not None and not 3 <= history <= MAX_DAYS:
            raise CommandError(f"--history: give 3 to {MAX_DAYS} days, not {history}.")
        usernames = self._demo_seed(history is not None)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {', '.join(usernames)} (password 'demo')."))
        if history is not None:
            try:
                summary = history_seed(days=history, now=until)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self._summary_write(summary)

    def _summary_write(self, summary) -> None:
        counts = ", ".join(f"{n:,} {kind}" for kind, n in summary.counts.items() if n)
        self.stdout.write(
            f"History: {summary.days} days (baseline {summary.baseline.label}, automation from "
            f"{summary.automation:%b %-d}): {counts}."
        )
        if summary.replaced:
            self.stdout.write(f"Replaced the earlier history's {summary.replaced:,} leads.")
        self.stdout.write(self.style.SUCCESS(f"History seeded in {summary.seconds:.1f} s."))

    @transaction.atomic
    def _demo_seed(self, five_reps: bool) -> list[str]:
        User = get_user_model()
        managers, _ = Group.objects.get_or_create(name=MANAGER_GROUP)
        reps_group, _ = Group.objects.get_or_create(name=REP_GROUP)
        managers.permissions.set(Permission.objects.filter(content_type__app_label__in=MANAGED_APPS))

        manager = self._user(User, "manager", "Morgan", "Manager", is_staff=True)
        manager.groups.add(managers)
        team, _ = Team.objects.update_or_create(
            name="Sales", defaults={"is_fallback": True, "sla_minutes": 15, "sla_action": Team.SlaAction.BOTH}
        )
        reps = {}
        for number, first, languages, weight in REPS + (HISTORY_REPS if five_reps else ()):
            user = self._user(User, f"rep{number}", first, "Rep")
            user.groups.add(reps_group)
            reps[first], _ = Rep.objects.update_or_create(
                user=user,
                defaults={
                    "team": team,
                    "active": True,
                    "languages": languages,
                    "weight": weight,
                    "phone": f"+1512555010{number}",
                },
            )
        Territory.objects.get_or_create(kind=Territory.Kind.REGION, code="US-TX", rep=reps["Ana"])

        QualificationCriteria.objects.update_or_create(
            name="Home services",
            defaults={
                "services": "roof\nroofing\ngutter\nsiding\nwindow\nrepair\ninstall",
                "service_area": "",
                "disqualifiers": "diy only\nout of state",
                "intent_phrases": "quote_request: ballpark, rough number\nappointment: stop by",
                "budget_bands": "small: 0-5000\nmedium: 5000-20000\nlarge: 20000+",
                "required_facts": "postal_code",
                "qualify_threshold": 50,
                "voice": "friendly and plain, no jargon",
            },
        )
        for name, priority, conditions, extra in (
            ("Existing accounts", 10, "company is not empty", {"by_account_owner": True}),
            ("Spanish speakers", 20, "language is es", {"by_skills": True, "strategy": "least_loaded"}),
            ("Texas", 30, "region is US-TX", {"by_territory": True, "strategy": "least_loaded"}),
            ("Every lead to Sales", 1000, "", {}),
        ):
            RoutingRule.objects.update_or_create(
                name=name,
                defaults={
                    "priority": priority,
                    "team": team,
                    "active": True,
                    "conditions": parse_lines(conditions),
                    **extra,
                },
            )
        for workflow in Workflow.values:
            # A missed call is answered at once: the text-back is fixed text, nothing to review.
            mode = Policy.Mode.AUTO if workflow == Workflow.MISSED_CALL else Policy.Mode.DRAFT
            Policy.objects.update_or_create(workflow=workflow, defaults={"mode": mode})
        for workflow, name in ((Workflow.REFUND, "Any refund"), (Workflow.CONTRACT, "Any contract")):
            PolicyGate.objects.get_or_create(
                policy=Policy.objects.get(workflow=workflow), name=name, defaults={"reviewer": Reviewer.MANAGER}
            )
        PolicyGate.objects.get_or_create(
            policy=Policy.objects.get(workflow=Workflow.FIRST_RESPONSE),
            name="First message to a VIP account",
            defaults={
                "conditions": parse_lines("vip is yes\nfirst_message is yes", fields=GATE_FIELDS),
                "reviewer": Reviewer.MANAGER,
            },
        )
        if not BusinessHours.objects.exists():
            BusinessHours.objects.bulk_create(
                BusinessHours(weekday=day, opens=time(8), closes=time(18)) for day in range(5)
            )
        for name, channel, language, subject, body in FIRST_RESPONSES:
            MessageTemplate.objects.update_or_create(
                name=name,
                defaults={
                    "workflow": Workflow.FIRST_RESPONSE,
                    "channel": channel,
                    "language": language,
                    "subject": subject,
                    "body": body,
                },
            )
        MessageTemplate.objects.update_or_create(
            name="Missed call (SMS)",
            defaults={"workflow": Workflow.MISSED_CALL, "channel": "sms", "body": MISSED_CALL_SMS},
        )
        # The one text after an opt-out: who we are, that it worked, how to undo it; nothing to sell.
        MessageTemplate.objects.update_or_create(
            name="Opt-out confirmation (SMS)",
            defaults={"workflow": Workflow.OPT_OUT_CONFIRMATION, "channel": "sms", "body": OPT_OUT_CONFIRMATION},
        )
        cadences_seed()
        ChatWidget.objects.update_or_create(
            slug="website-chat", defaults={"name": "Website chat", "source": "website-chat", "active": True}
        )
        WebForm.objects.update_or_create(
            slug="website-quote", defaults={"name": "Website quote form", "source": "website-quote"}
        )
        demo_reps = Rep.objects.filter(user__username__regex=r"^rep\d$").order_by("user__username")
        return ["manager", *demo_reps.values_list("user__username", flat=True)]

    def _user(self, User, username, first, last, *, is_staff=False):
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.is_staff = first, last, is_staff
        user.email = f"{username}@example.com"
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user
