"""What the managers' reports read: speed to lead, follow-up, funnel, leaks, AI quality, booking and ROI. Reads only.

Every report takes a Period (leads by when they arrived) and answers from indexed, grouped
queries, so its cost follows the period's rows (bench/reports.py: 1,000,000 leads). Percentiles
are linear interpolation between the nearest ranks: PostgreSQL's ``percentile_cont``, computed
the same way in Python on SQLite. Hours and weekdays are on the business's clock (TIME_ZONE).

One module a report (speed, funnel, leaks, followup, quality, booking, roi) over what they share (common);
periods and the baseline live low in audit.periods, which the audit trail's writers use too.
Callers import this package (``from audit import reports``) and find every name here.
"""

from audit.periods import Period, baseline_period, business_tz
from audit.reports.booking import Attendance, BookedShare, BookingReport, booked_rate, booking_report
from audit.reports.common import (
    FAST,
    NOISE_STAGES,
    SLOW,
    Percentile,
    answered_in_time,
    percentile,
    period_leads,
    period_weeks,
    slow_response,
)
from audit.reports.followup import FollowUp, follow_up
from audit.reports.funnel import FunnelRow, funnel
from audit.reports.leaks import DATED, LEAKS, leak_leads, leaks, leaks_by_week
from audit.reports.quality import AiQuality, ModelUse, WorkflowQuality, ai_quality
from audit.reports.roi import Lost, Roi, lost_leads, roi
from audit.reports.speed import FRACTIONS, RESPONSE, WEEKDAYS, Speed, SpeedReport, speed_by_week, speed_to_lead

__all__ = [
    "DATED",
    "FAST",
    "FRACTIONS",
    "LEAKS",
    "NOISE_STAGES",
    "RESPONSE",
    "SLOW",
    "WEEKDAYS",
    "AiQuality",
    "Attendance",
    "BookedShare",
    "BookingReport",
    "FollowUp",
    "FunnelRow",
    "Lost",
    "ModelUse",
    "Percentile",
    "Period",
    "Roi",
    "Speed",
    "SpeedReport",
    "WorkflowQuality",
    "ai_quality",
    "answered_in_time",
    "baseline_period",
    "booked_rate",
    "booking_report",
    "business_tz",
    "follow_up",
    "funnel",
    "leak_leads",
    "leaks",
    "leaks_by_week",
    "lost_leads",
    "percentile",
    "period_leads",
    "period_weeks",
    "roi",
    "slow_response",
    "speed_by_week",
    "speed_to_lead",
]
