"""The one filter of lead lists, shared by the portal's Leads page and ``GET /api/v1/leads/`` (django-filter).

A parameter the portal sends and the API documents means the same in both; a bad value is a 400 naming the
parameter over the API and is left out of the portal's filtering (the page shows the list unfiltered by it).
"""

import django_filters
from django import forms
from django.db.models import Q

from config.filters import IdFilter, UtcDateTimeFilter
from leads.choices import NOISE_INTENTS, Channel, Stage
from leads.models import InboundEvent, Lead

NOISE = "noise"
STAGE_CHOICES = [*Stage.choices, (NOISE, "Noise: spam, job seekers, vendors, opt-outs")]
UNOWNED = "none"


class OwnerField(forms.IntegerField):
    """An owner's user id, or "none" for leads nobody owns."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip().lower() == UNOWNED:
            return UNOWNED
        return super().to_python(value)

    def validate(self, value):
        if value != UNOWNED:
            super().validate(value)

    def run_validators(self, value):
        if value != UNOWNED:
            super().run_validators(value)


class OwnerFilter(IdFilter):
    field_class = OwnerField

    def filter(self, qs, value):
        if value == UNOWNED:
            return qs.filter(owner__isnull=True)
        return super().filter(qs, value)


class LeadFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(
        choices=STAGE_CHOICES, method="filter_stage", help_text="A stage, or 'noise' for what never reaches a queue."
    )
    owner = OwnerFilter(field_name="owner_id", help_text="The owner's user id, or 'none' for unassigned leads.")
    channel = django_filters.ChoiceFilter(choices=Channel.choices, method="filter_channel")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="filter_search", help_text="Words in the name, email or phone.")

    class Meta:
        model = Lead
        fields = ["stage", "owner", "channel", "created_after", "created_before", "q"]

    def filter_stage(self, queryset, name, value):
        if value == NOISE:
            # Spam, job seekers, vendors and opt-outs never reach a queue; this is where they can be seen.
            return queryset.filter(qualification__intent__in=sorted(NOISE_INTENTS))
        return queryset.filter(stage=value)

    def filter_channel(self, queryset, name, value):
        return queryset.filter(pk__in=InboundEvent.objects.filter(channel=value).values("lead_id"))

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value) | Q(phone__icontains=value))
