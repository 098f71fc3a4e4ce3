"""The charts module draws valid, named SVG from numbers alone; no data is an empty state, never a division by zero."""

import xml.etree.ElementTree as ET

import pytest

from audit import charts
from audit.periods import Period
from audit.tables import duration_text, in_baseline

NS = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby"), root.get("aria-describedby")
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert (title.get("id"), desc.get("id")) == (title_id, desc_id)
    assert title.text and desc.text
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text")]


def test_a_line_chart_names_its_weeks_its_lines_and_shades_the_baseline():
    svg = charts.line_chart(
        title="Speed to lead by week",
        labels=["Sep 1", "Sep 8", "Sep 15", "Sep 22"],
        series=[charts.Series("p50", [14000, 9000, 2.1, 2.4]), charts.Series("p90", [90000, None, 200, 3.2])],
        marked=[True, True, False, False],
        mark_label="Baseline",
        log=True,
        value_text=duration_text,
    )
    root = parsed(svg)
    assert root.find(f"{NS}title").text == "Speed to lead by week"
    assert {"Sep 1", "Sep 22", "p50", "p90", "Baseline", "1 s", "1 h", "1 d"} <= set(texts(root))
    assert len(root.findall(f"{NS}polyline")) == 2
    points = root.findall(f"{NS}circle")
    assert len(points) == 7, "a missing value draws no point"
    assert points[0].find(f"{NS}title").text == "Sep 1: p50 3.9 h"
    (shade,) = [r for r in root.findall(f"{NS}rect") if r.get("fill") == charts.SHADE]
    assert float(shade.get("width")) == pytest.approx((charts.WIDTH - 72) / 2, abs=0.2)
    assert "p50 from 3.9 h (Sep 1) to 2.4 s (Sep 22)" in root.find(f"{NS}desc").text


def test_the_log_axis_puts_slower_higher_and_zero_on_its_floor():
    svg = charts.line_chart(title="t", labels=["a", "b", "c"], series=[charts.Series("s", [0, 60, 3600])], log=True)
    ys = [float(c.get("cy")) for c in parsed(svg).findall(f"{NS}circle")]
    assert ys[0] > ys[1] > ys[2]


def test_labels_are_escaped():
    svg = charts.line_chart(title='<b>"x" & y</b>', labels=["<w>"], series=[charts.Series("a&b", [1])])
    root = parsed(svg)
    assert root.find(f"{NS}title").text == '<b>"x" & y</b>'
    assert "<w>" in texts(root) and "<b>" not in str(svg).replace("&lt;b&gt;", "")


@pytest.mark.parametrize(
    "svg",
    [
        charts.line_chart(title="Leaks by week", labels=[], series=[]),
        charts.line_chart(title="Leaks by week", labels=["Sep 1"], series=[charts.Series("slow", [None])]),
        charts.funnel_chart(title="Funnel", stages=[]),
        charts.funnel_chart(title="Funnel", stages=[("New", 0), ("Won", 0)]),
        charts.stacked_bars(title="AI", parts=["a", "b"], rows=[]),
        charts.stacked_bars(title="AI", parts=["a", "b"], rows=[("First response", [0, None])]),
    ],
)
def test_no_data_draws_an_empty_state(svg):
    root = parsed(svg)
    assert "No data in this period." in texts(root)
    assert not root.findall(f"{NS}polyline") and not root.findall(f"{NS}circle")


def test_all_zero_values_on_a_line_chart_do_not_divide_by_zero():
    root = parsed(charts.line_chart(title="t", labels=["a", "b"], series=[charts.Series("s", [0, 0])]))
    assert len(root.findall(f"{NS}circle")) == 2


def test_the_funnel_narrows_by_share_and_says_it():
    root = parsed(charts.funnel_chart(title="Funnel", stages=[("New", 200), ("Quoted", 50), ("Won", 0)]))
    bars = [r for r in root.findall(f"{NS}rect") if r.find(f"{NS}title") is not None]
    widths = [float(r.get("width")) for r in bars]
    assert widths[0] > widths[1] > widths[2] > 0, "an empty stage is still drawn, as a sliver"
    assert widths[1] == pytest.approx(widths[0] / 4, rel=0.01)
    assert {"100%", "25%", "0%"} <= set(texts(root))
    assert bars[1].find(f"{NS}title").text == "Quoted: 50 (25% of new)"


def test_stacked_bars_share_one_scale_and_a_legend():
    root = parsed(
        charts.stacked_bars(
            title="What happened",
            parts=["Sent", "Approved", "Rejected"],
            rows=[("First response", [30, 10, 0]), ("Follow-up", [0, 15, 5])],
        )
    )
    segments = [r for r in root.findall(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert [s.find(f"{NS}title").text for s in segments] == [
        "First response: Sent 30 of 40",
        "First response: Approved 10 of 40",
        "Follow-up: Approved 15 of 20",
        "Follow-up: Rejected 5 of 20",
    ]
    first_total = float(segments[0].get("width")) + float(segments[1].get("width"))
    second_total = float(segments[2].get("width")) + float(segments[3].get("width"))
    assert first_total == pytest.approx(2 * second_total)
    assert {"Sent", "Approved", "Rejected", "40", "20"} <= set(texts(root))


def test_duration_text_and_baseline_weeks():
    assert [duration_text(s) for s in (0, 2.4, 45, 60, 600, 5400, 36000, 86400, 604800)] == [
        "0 s", "2.4 s", "45 s", "1 min", "10 min", "1.5 h", "10 h", "1 d", "7 d",
    ]  # fmt: skip
    from datetime import date

    baseline = Period.dates(date(2026, 9, 3), date(2026, 10, 2))
    assert [in_baseline(date(2026, 8, m), baseline) for m in (31,)] == [True]
    assert in_baseline(date(2026, 9, 28), baseline) is True
    assert in_baseline(date(2026, 10, 5), baseline) is False
    assert in_baseline(date(2026, 9, 28), None) is False
