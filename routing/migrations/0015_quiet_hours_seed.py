"""Seed the quiet-hours rules from the table in docs/quiet-hours.md (sources read on 2026-12-01).

Times are local on the lead's clock, the end exclusive; None on a day means nothing goes that day. A row already
present (edited by a manager) is left as it is: the admin's copy wins over the seed.
"""

from datetime import date, time

from django.db import migrations

CHECKED = date(2026, 12, 1)
H = time  # H(8) is 08:00


def every_day(start, end):
    return {"weekdays": (start, end), "saturday": (start, end), "sunday": (start, end)}


# region, name, windows, holidays closed, law, source URL, note
RULES = [
    (
        "US",
        "United States (federal)",
        every_day(H(8), H(21)),
        False,
        "47 CFR § 64.1200(c)(1) (TCPA rules); 16 CFR § 310.4(c) (FTC Telemarketing Sales Rule)",
        "https://www.ecfr.gov/current/title-47/chapter-I/subchapter-B/part-64/subpart-L/section-64.1200",
        "No telephone solicitation before 8 a.m. or after 9 p.m. local time at the called party's location. "
        "Applies to every lead; a state's rule only narrows it.",
    ),
    (
        "US-FL",
        "Florida",
        every_day(H(8), H(20)),
        False,
        "Fla. Stat. § 501.616(6)(a), as amended by SB 1120 (2021), the act that also amended § 501.059 "
        "(Florida Telephone Solicitation Act)",
        "https://flsenate.gov/Session/Bill/2021/1120/BillText/er/HTML",
        "Before 8 a.m. or after 8 p.m. local time at the called person's location (was 9 p.m. before 2021-07-01).",
    ),
    (
        "US-OK",
        "Oklahoma",
        every_day(H(8), H(20)),
        False,
        "15 O.S. § 775C.1 et seq. (Telephone Solicitation Act of 2022, HB 3168, in force 2022-11-01)",
        "https://app.legiplex.com/ok/legislature/2022/2022-r/bills/hb3168/drafts-latest",
        "8 a.m. to 8 p.m. per secondary summaries (DNC.com); the enrolled bill provides 'the time frame', but the "
        "section carrying the hours was not read in full. Not confirmed from the statute's text.",
    ),
    (
        "US-MD",
        "Maryland",
        every_day(H(8), H(20)),
        False,
        "Md. Code, Com. Law § 14-4502 (Stop the Spam Calls Act of 2023, SB 90, in force 2024-01-01)",
        "https://lexace.ai/us/statute/maryland/CL-14-4502",
        "8 a.m. to 8 p.m. in the called party's time zone per news and law-firm summaries (WMAR 2024-01-01, "
        "Kelley Drye); the hours subsection of § 14-4502 was not read in full. Not confirmed from the statute's text.",
    ),
    (
        "US-MS",
        "Mississippi",
        {"weekdays": (H(8), H(20)), "saturday": (H(8), H(20)), "sunday": None},
        False,
        "Miss. Code Ann. § 77-3-723(1)",
        "https://getpocketlaw.com/law/state_mississippi/section-77-3-723-rules-for-authorized-calls_57b73fa7ff73",
        "8:00 a.m. to 8:00 p.m. 'Central Standard Time'; no solicitations on a Sunday. Modelled on the lead's clock "
        "(read literally, CST during daylight time is 9 a.m. to 9 p.m. CDT; ask counsel). Legal holidays are no "
        "longer restricted since the PSC's rule was repealed in 2024 (DNC.com, 2024-06-03).",
    ),
    (
        "US-NJ",
        "New Jersey",
        every_day(H(8), H(21)),
        False,
        "N.J.S.A. 56:8-128(d)",
        "https://casetext.com/statute/new-jersey-statutes/title-56-trade-names-trade-marks-and-unfair-trade-practices"
        "/chapter-568/section-568-128-requirements-relative-to-telemarketing-sales-calls",
        "No unsolicited telemarketing sales call between 9 p.m. and 8 a.m. at the customer's location: the same as "
        "the federal rule. The issue listed New Jersey at 8 a.m. to 8 p.m.; no source for 8 p.m. was found.",
    ),
    (
        "US-CT",
        "Connecticut",
        every_day(H(9), H(20)),
        False,
        "Conn. Gen. Stat. § 42-288a, as amended by P.A. 23-98 (in force 2023-10-01)",
        "https://cga.ct.gov/current/pub/chap_743m.htm",
        "9 a.m. to 8 p.m. per summaries of P.A. 23-98 (DNC.com; compliance tables); the hours subsection of the "
        "statute's text was not read in the stored copy. Not confirmed from the statute's text.",
    ),
    (
        "US-RI",
        "Rhode Island",
        {"weekdays": (H(9), H(18)), "saturday": (H(10), H(17)), "sunday": None},
        True,
        "R.I. Gen. Laws § 5-61-3.6 and § 5-61-2 ('hours of operation')",
        "http://webserver.rilin.state.ri.us/Statutes/TITLE5/5-61/5-61-3.6.HTM",
        "Monday to Friday except a state or federal holiday, 9 a.m. to 6 p.m.; Saturday 10 a.m. to 5 p.m.; no "
        "Sundays. Holidays close through the business's Holidays list: add Rhode Island's state holidays there.",
    ),
    (
        "US-TX",
        "Texas",
        {"weekdays": (H(9), H(21)), "saturday": (H(9), H(21)), "sunday": (H(12), H(21))},
        False,
        "Tex. Bus. & Com. Code § 301.051 (Chapter 301, Telephone Solicitation Practices)",
        "https://statutes.capitol.texas.gov/Docs/BC/htm/BC.301.htm",
        "9 a.m. to 9 p.m. on a weekday or Saturday, noon to 9 p.m. on a Sunday, per secondary sources; the "
        "section's text was not read in the stored copies. Chapter 304 (cited in the issue) is the Texas no-call "
        "list, not the hours. Not confirmed from the statute's text.",
    ),
    (
        "US-LA",
        "Louisiana",
        {"weekdays": (H(8), H(20)), "saturday": (H(8), H(20)), "sunday": None},
        True,
        "La. R.S. 45:811(2)-(3)",
        "https://lawserver.com/?p=30183792",
        "Between 8:00 a.m. and 8:00 p.m., Monday through Saturday; not on a state holiday or a Sunday. Holidays "
        "close through the business's Holidays list. Not modelled: La. R.S. 45:844.31 bars solicitation during a "
        "declared state of emergency.",
    ),
    (
        "US-AL",
        "Alabama",
        {"weekdays": (H(8), H(20)), "saturday": (H(8), H(20)), "sunday": None},
        True,
        "Not confirmed: no statute or rule text was found (Ala. Code §§ 8-19A, 8-19C searched)",
        "https://www.dropcowboy.com/state-compliance/al",
        "8 a.m. to 8 p.m. Monday to Saturday, no Sundays or holidays, per compliance tables only (Drop Cowboy "
        "2025-11-01, G2). Kept because a stricter window only delays a text; check before relying on it.",
    ),
    (
        "US-WA",
        "Washington",
        every_day(H(8), H(20)),
        False,
        "RCW 19.158.040(2)",
        "https://app.leg.wa.gov/RCW/default.aspx?cite=19.158.040",
        "A commercial telephone solicitor shall not place calls received before 8:00 a.m. or after 8:00 p.m. at the "
        "call recipient's local time.",
    ),
]


def rules_seed(apps, schema_editor):
    QuietHoursRule = apps.get_model("routing", "QuietHoursRule")
    for region, name, windows, holidays_closed, law, url, note in RULES:
        fields = {"name": name, "holidays_closed": holidays_closed, "law": law, "source_url": url, "note": note}
        fields["checked_on"] = CHECKED
        for day in ("weekdays", "saturday", "sunday"):
            start, end = windows[day] or (None, None)
            fields[f"{day}_from"], fields[f"{day}_until"] = start, end
        QuietHoursRule.objects.get_or_create(region=region, defaults=fields)


def rules_unseed(apps, schema_editor):
    apps.get_model("routing", "QuietHoursRule").objects.filter(region__in=[r[0] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("routing", "0014_quiet_hours_rule")]

    operations = [migrations.RunPython(rules_seed, rules_unseed)]
