"""Routing's models: who gets a lead (rules.py) and how it is followed up (cadences.py)."""

from routing.models.cadences import Cadence, CadenceStep, Enrollment, Holiday, QuietHours, StepRun
from routing.models.rules import (
    Absence,
    Assignment,
    IntentExample,
    QualificationCriteria,
    Rep,
    RoutingRule,
    Team,
    Territory,
    WorkingHours,
    _time_zone_validate,
    available_time_zones,
    skill_set,
)

__all__ = [
    "Absence",
    "Assignment",
    "Cadence",
    "CadenceStep",
    "Enrollment",
    "Holiday",
    "IntentExample",
    "QualificationCriteria",
    "QuietHours",
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
