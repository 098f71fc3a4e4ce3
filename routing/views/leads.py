"""The portal's lead screens: the list (with the Noise view) and a lead's page, where a person acts on the lead.

The page spans the house (messages through approvals, reassigning through routing, cadences, appointments),
so it lives on the top floor. Thin: validation here, work in services.
"""

import csv
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from approvals.drafting import channel_for
from approvals.models import Action, Workflow
from approvals.services import message_propose
from approvals.sms import sms_segment_limit
from config.exceptions import ApplicationError, Forbidden
from config.spreadsheets import csv_row
from integrations.sms_segments import segment
from leads.choices import INTENTS, Stage
from leads.filters import STAGE_CHOICES, LeadFilter
from leads.models import Appointment, ConsentRecord
from leads.permissions import is_manager
from leads.selectors import lead_links, lead_list, lead_timeline
from leads.services import (
    Evidence,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    consent_hold_resolve,
    consent_opt_out,
    lead_call_log,
    lead_contact_fix,
    lead_stage_set,
    lead_touch,
)
from routing.models import Rep
from routing.services import lead_reassign, lead_relabel
from routing.views.cadences import enrollments_context


@login_required
@require_GET
def lead_index(request: HttpRequest) -> HttpResponse:
    manager = is_manager(request.user)
    data = request.GET.copy()
    if not manager:
        data.pop("owner", None)  # a rep's list is their own
    queryset = LeadFilter(data, queryset=lead_list(user=request.user)).qs
    stage, search, owner = data.get("stage", ""), data.get("q", "").strip(), data.get("owner", "")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "leads/index.html",
        {
            "page": page,
            "stages": STAGE_CHOICES,
            "stage": stage,
            "q": search,
            "owner": owner,
            "owners": _reps() if manager else [],
            "query": query.urlencode(),
            "is_manager": manager,
        },
    )


def _reps():
    return Rep.objects.assignable().select_related("user").order_by("user__first_name", "user__username")


def _lead_for(request: HttpRequest, lead_id: int):
    lead = lead_list(user=request.user).filter(pk=lead_id).first()
    if lead is None:
        raise Http404("Lead not found.")
    return lead


def _lead_page(request: HttpRequest, lead, *, errors=None, values=None, status=200) -> HttpResponse:
    manager = is_manager(request.user)
    reach = channel_for(lead)
    texted = reach is not None and reach[1] == Action.Kind.SEND_SMS
    context = {
        "lead": lead,
        "timeline": lead_timeline(lead=lead),
        "can_accept": lead.owner_id == request.user.pk and lead.first_touch_at is None,
        "intents": INTENTS,
        "stages": Stage.choices,
        "is_manager": manager,
        "reps": _reps() if manager else [],
        # What waits: for a person (pending, failed sends) or for quiet hours to end (approved texts held).
        "open_actions": lead.actions.filter(
            Q(status__in=[Action.Status.PENDING, Action.Status.FAILED])
            | Q(status=Action.Status.APPROVED, not_before__gt=timezone.now())
        ),
        "appointments": lead.appointments.filter(status=Appointment.Status.BOOKED).select_related("host"),
        "now": timezone.now(),
        "calendar_attempts": settings.CALENDAR_WRITE_ATTEMPTS,
        "reach": reach,
        # The reply box's live count, when the reply goes by SMS.
        "reply_segments": segment((values or {}).get("body", "").strip()) if texted else None,
        "sms_limit": sms_segment_limit(),
        "time_zone": lead.timezone or settings.TIME_ZONE,
        "consent_records": lead.consent_records.select_related("actor"),
        # Other people who gave the same phone or email; the correction form for what capture could not read.
        "links": lead_links(lead=lead) if manager else [],
        "can_fix_contact": request.user.has_perm("leads.change_lead"),
        "errors": errors or {},
        "values": values or {},
        **enrollments_context(lead),
    }
    return render(request, "leads/detail.html", context, status=status)


def lead_change(request: HttpRequest, lead_id: int, change, *, fields: tuple[str, ...] = ()) -> HttpResponse:
    """Run one change on a lead the person may see; errors re-render the page with the input kept."""
    lead = _lead_for(request, lead_id)
    try:
        change(lead)
    except ValidationError as exc:
        values = {name: request.POST.get(name, "") for name in fields}
        return _lead_page(request, lead, errors=exc.message_dict, values=values, status=422)
    except ApplicationError as exc:
        return _lead_page(request, lead, errors={"general": [exc.message]}, status=exc.status_code)
    return HttpResponseRedirect(reverse("portal:lead-detail", args=[lead.pk]))


@login_required
@require_GET
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _lead_page(request, _lead_for(request, lead_id))


@login_required
@require_POST
def lead_accept(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The owner takes the lead on: their first touch, which stops the SLA clock."""
    lead = _lead_for(request, lead_id)
    if lead.owner_id != request.user.pk:
        return _lead_page(request, lead, errors={"accept": ["Only the lead's owner can accept it."]}, status=403)
    lead_touch(lead=lead, how="accepted in the portal", actor=request.user)
    return HttpResponseRedirect(reverse("portal:lead-detail", args=[lead.pk]))


@login_required
@require_POST
def lead_call(request: HttpRequest, lead_id: int) -> HttpResponse:
    note = request.POST.get("note", "")
    return lead_change(
        request, lead_id, lambda lead: lead_call_log(lead=lead, user=request.user, note=note), fields=("note",)
    )


@login_required
@require_POST
def lead_relabel_view(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Correct the lead's intent; the correction teaches the embedding classifier."""
    # Reps see only their own leads, managers all: whoever can see the lead may correct it.
    intent = request.POST.get("intent", "")
    return lead_change(request, lead_id, lambda lead: lead_relabel(lead_id=lead.pk, intent=intent, user=request.user))


@login_required
@require_POST
def lead_reply(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The rep's own message (SMS when the lead can be texted, else email); a gate may hold it for review."""
    body = request.POST.get("body", "")
    return lead_change(
        request, lead_id, lambda lead: message_propose(lead_id=lead.pk, user=request.user, body=body), fields=("body",)
    )


@login_required
@require_POST
def lead_quote(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Send the lead a quote: the quote workflow's gates (amount over a limit…) may hold it for a manager."""

    def change(lead):
        message_propose(
            lead_id=lead.pk,
            user=request.user,
            body=request.POST.get("quote_body", ""),
            workflow=Workflow.QUOTE,
            amount=_amount(request.POST.get("amount", "")),
        )

    return lead_change(request, lead_id, change, fields=("amount", "quote_body"))


def _amount(raw: str) -> Decimal:
    try:
        amount = Decimal(raw.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise ValidationError({"amount": "Give the quote's amount as a number, like 7500."}) from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e10"):
        raise ValidationError({"amount": "Give an amount above zero."})
    return amount.quantize(Decimal("0.01"))


@login_required
@require_POST
def lead_stage(request: HttpRequest, lead_id: int) -> HttpResponse:
    stage = request.POST.get("stage", "")
    return lead_change(request, lead_id, lambda lead: lead_stage_set(lead_id=lead.pk, stage=stage, user=request.user))


@login_required
@require_POST
def lead_book(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Book an appointment; the time is read on the lead's clock."""
    post = request.POST

    def change(lead):
        if not post.get("starts_at", "").strip():
            raise ValidationError({"starts_at": "Pick a date and time."})
        appointment_book(
            lead_id=lead.pk,
            user=request.user,
            starts_at=post["starts_at"],
            duration_minutes=post.get("duration_minutes", "60"),
            location=post.get("location", ""),
            note=post.get("note_appointment", ""),
        )

    return lead_change(request, lead_id, change, fields=("starts_at", "duration_minutes", "location"))


@login_required
@require_POST
def appointment_move(request: HttpRequest, lead_id: int, appointment_id: int) -> HttpResponse:
    """Move an appointment; the guests get an updated invite."""
    starts_at = request.POST.get(f"starts_at_{appointment_id}", "").strip()

    def change(lead):
        if not starts_at:
            raise ValidationError({"starts_at": "Pick the new date and time."})
        appointment_reschedule(appointment_id=appointment_id, lead_id=lead.pk, user=request.user, starts_at=starts_at)

    return _appointment_change(request, lead_id, change)


@login_required
@require_POST
def appointment_cancel_view(request: HttpRequest, lead_id: int, appointment_id: int) -> HttpResponse:
    """Cancel an appointment; the guests' calendars remove it."""
    return _appointment_change(
        request,
        lead_id,
        lambda lead: appointment_cancel(appointment_id=appointment_id, lead_id=lead.pk, user=request.user),
    )


def _appointment_change(request: HttpRequest, lead_id: int, change) -> HttpResponse:
    try:
        return lead_change(request, lead_id, change)
    except Appointment.DoesNotExist:
        raise Http404("No such appointment for this lead.") from None


@login_required
@require_POST
def lead_contact(request: HttpRequest, lead_id: int) -> HttpResponse:
    """A manager corrects the phone or email capture could not read (or any other): validated, kept in history."""
    phone, email = request.POST.get("phone", ""), request.POST.get("email", "")
    return lead_change(
        request,
        lead_id,
        lambda lead: lead_contact_fix(lead_id=lead.pk, user=request.user, phone=phone, email=email),
        fields=("phone", "email"),
    )


@login_required
@require_POST
def lead_reassign_view(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Managers give the lead to another rep."""
    rep = request.POST.get("rep", "")

    def change(lead):
        if not is_manager(request.user):
            raise Forbidden("Only managers can reassign leads.")
        if not rep.isdigit():
            raise ValidationError({"rep": "Choose a rep."})
        lead_reassign(lead_id=lead.pk, rep_id=int(rep), user=request.user)

    return lead_change(request, lead_id, change)


@login_required
@require_POST
def lead_do_not_contact(request: HttpRequest, lead_id: int) -> HttpResponse:
    """A person marks the lead "do not contact": the one opt-out road, every channel, with who and why."""
    reason = request.POST.get("reason", "").strip()[:300]

    def change(lead):
        consent_opt_out(
            channel=ConsentRecord.Channel.ALL,
            how=ConsentRecord.How.PERSON,
            lead=lead,
            evidence=Evidence(words=reason or "Do not contact (lead page)", actor=request.user),
        )

    return lead_change(request, lead_id, change)


@login_required
@require_POST
def lead_consent_hold(request: HttpRequest, lead_id: int) -> HttpResponse:
    """A person settles what a model read as an opt-out: confirm it, or dismiss it and let sending go on."""
    decision = request.POST.get("decision", "")

    def change(lead):
        if decision not in ("opt_out", "dismiss"):
            raise ValidationError({"consent": "Choose: it is an opt-out, or it is not."})
        consent_hold_resolve(lead_id=lead.pk, user=request.user, opt_out=decision == "opt_out")

    return lead_change(request, lead_id, change)


CONSENT_COLUMNS = (
    "created_at",
    "kind",
    "channel",
    "how",
    "phone",
    "email",
    "words",
    "disclosure_version",
    "evidence_event",
    "evidence_message",
    "evidence_ref",
    "ip",
    "user_agent",
    "page_url",
    "actor",
    "actor_label",
)


@login_required
@require_GET
def lead_consent_csv(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The lead's consent ledger as CSV, to answer a dispute; cells a spreadsheet would run are made text."""
    lead = _lead_for(request, lead_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="consent-lead-{lead.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(CONSENT_COLUMNS)
    for record in lead.consent_records.select_related("actor"):
        writer.writerow(
            csv_row(
                [
                    record.created_at.isoformat(),
                    record.kind,
                    record.channel,
                    record.how,
                    record.phone,
                    record.email,
                    record.words,
                    record.disclosure_version,
                    record.evidence_event_id or "",
                    record.evidence_message_id or "",
                    record.evidence_ref,
                    record.ip or "",
                    record.user_agent,
                    record.page_url,
                    record.actor.get_username() if record.actor_id else "",
                    record.actor_label,
                ]
            )
        )
    return response
