"""Routing's models: who can take leads (people.py), what qualification reads (reasoning.py), who gets a
lead (rules.py), how it is followed up (cadences.py) and when the law lets it be texted or called (quiet.py)."""

from routing.models.booking import BookingOffer, BookingType
from routing.models.cadences import Cadence, CadenceStep, Enrollment, Holiday, QuietHours, StepRun
from routing.models.people import (
    Absence,
    Rep,
    Team,
    Territory,
    WorkingHours,
    _time_zone_validate,
    available_time_zones,
    skill_set,
)
from routing.models.quiet import QuietHoursRule
from routing.models.reasoning import IntentExample, LabelDefinition, QualificationCriteria
from routing.models.rules import Assignment, RoutingRule

__all__ = [
    "Absence",
    "Assignment",
    "BookingOffer",
    "BookingType",
    "Cadence",
    "CadenceStep",
    "Enrollment",
    "Holiday",
    "IntentExample",
    "LabelDefinition",
    "QualificationCriteria",
    "QuietHours",
    "QuietHoursRule",
    "Rep",
    "RoutingRule",
    "StepRun",
    "Team",
    "Territory",
    "WorkingHours",
    "_time_zone_validate",
    "available_time_zones",
    "skill_set",
]
