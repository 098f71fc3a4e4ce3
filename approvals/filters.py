"""The one filter of action lists, shared by the portal's queue and ``GET /api/v1/actions/`` (django-filter).

The queue adds what waits for a person (approvals.selectors.action_queue) and its sort; the filters are these.
"""

import django_filters

from approvals.models import Action, Reviewer, Workflow
from approvals.selectors import ESCALATIONS
from config.filters import IdFilter


class ActionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Action.Status.choices)
    workflow = django_filters.ChoiceFilter(choices=Workflow.choices)
    lead = IdFilter(field_name="lead_id")
    escalated = django_filters.BooleanFilter()
    review_by = django_filters.ChoiceFilter(choices=Reviewer.choices)
    rep = IdFilter(field_name="lead__owner_id", help_text="The user id of the rep who owns the action's lead.")
    escalation = django_filters.ChoiceFilter(
        choices=[(value, label) for value, (label, _) in ESCALATIONS.items()], method="filter_escalation"
    )

    class Meta:
        model = Action
        fields = ["status", "workflow", "lead", "escalated", "review_by", "rep", "escalation"]

    def filter_escalation(self, queryset, name, value):
        return queryset.filter(ESCALATIONS[value][1])
