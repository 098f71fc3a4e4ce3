from datetime import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from approvals.gates import GATE_FIELDS
from approvals.models import BusinessHours, MessageTemplate, Policy, PolicyGate, Reviewer, Workflow
from integrations.models import ChatWidget
from leads.models import WebForm
from leads.permissions import MANAGER_GROUP, REP_GROUP
from routing import engine
from routing.models import QualificationCriteria, Rep, RoutingRule, Team, Territory

DEMO_PASSWORD = "demo"  # noqa: S105 - demo data only; refused when debug is off
MANAGED_APPS = ["leads", "routing", "approvals", "integrations", "audit"]

MISSED_CALL_SMS = (
    "Sorry we missed your call, {{ first_name }}! This is {{ rep_name }} at {{ business_name }}. "
    "How can we help? Reply here and we'll get right back to you."
)
FIRST_RESPONSE_SMS = (
    "Hi {{ first_name }}, thanks for reaching out to {{ business_name }}! This is {{ rep_name }}. "
    "What's the best time for a quick call about your project?"
)
FIRST_RESPONSE_EMAIL = (
    "Hi {{ first_name }},\n\nThanks for contacting {{ business_name }}. I'm {{ rep_name }} and I'll look after your "
    "request. When would suit you for a short call?\n\nBest,\n{{ rep_name }}"
)


class Command(BaseCommand):
    help = "Create demo users, a team, rules, policies, templates and a web form. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with debug off (creates known passwords).")

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Refusing to create demo users with known passwords while debug is off (use --force).")
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
        for number, first, languages, weight in ((1, "Ana", "en, es", 1), (2, "Ben", "en", 1), (3, "Cleo", "en", 2)):
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
                    "conditions": engine.parse_lines(conditions),
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
                "conditions": engine.parse_lines("vip is yes\nfirst_message is yes", fields=GATE_FIELDS),
                "reviewer": Reviewer.MANAGER,
            },
        )
        if not BusinessHours.objects.exists():
            BusinessHours.objects.bulk_create(
                BusinessHours(weekday=day, opens=time(8), closes=time(18)) for day in range(5)
            )
        MessageTemplate.objects.update_or_create(
            name="First response (SMS)",
            defaults={"workflow": Workflow.FIRST_RESPONSE, "channel": "sms", "body": FIRST_RESPONSE_SMS},
        )
        MessageTemplate.objects.update_or_create(
            name="First response (email)",
            defaults={
                "workflow": Workflow.FIRST_RESPONSE,
                "channel": "email",
                "subject": "Your request to {{ business_name }}",
                "body": FIRST_RESPONSE_EMAIL,
            },
        )
        MessageTemplate.objects.update_or_create(
            name="Missed call (SMS)",
            defaults={"workflow": Workflow.MISSED_CALL, "channel": "sms", "body": MISSED_CALL_SMS},
        )
        ChatWidget.objects.update_or_create(
            slug="website-chat", defaults={"name": "Website chat", "source": "website-chat", "active": True}
        )
        WebForm.objects.update_or_create(
            slug="website-quote", defaults={"name": "Website quote form", "source": "website-quote"}
        )
        self.stdout.write(self.style.SUCCESS("Demo data ready: manager, rep1, rep2, rep3 (password 'demo')."))

    def _user(self, User, username, first, last, *, is_staff=False):
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name, user.is_staff = first, last, is_staff
        user.email = f"{username}@example.com"
        user.set_password(DEMO_PASSWORD)
        user.save()
        return user
