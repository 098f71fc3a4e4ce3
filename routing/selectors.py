from routing.models import QualificationCriteria, RoutingRule


def rule_list_active() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(active=True).select_related("team").order_by("priority", "id"))


def criteria_get_active() -> QualificationCriteria | None:
    return QualificationCriteria.objects.filter(active=True).order_by("-updated_at").first()
