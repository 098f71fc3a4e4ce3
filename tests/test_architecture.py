"""The house's floors hold: the import contract passes, breaks on an upward import, and every module has a floor.

Also pins the one seam between floors (config.reactions): which receivers react to what, in which order.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

from config.reactions import REACTIONS

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contract_holds():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" not in result.stdout.split("Contracts:")[-1].replace("0 broken", "")


@pytest.fixture(scope="module")
def copy_of_the_house(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("house")
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # A function-local import counts: it is the usual way to hide an upward import.
        ("leads/normalize.py", "def _hidden():\n    from routing import pipeline  # noqa\n", "leads is not allowed"),
        ("audit/services.py", "from audit import reports  # noqa\n", "audit.services is not allowed"),
        ("approvals/models.py", "import routing.engine  # noqa\n", "approvals is not allowed"),
    ],
)
def test_an_upward_import_breaks_the_contract(copy_of_the_house, module, line, broken):
    path = copy_of_the_house / module
    original = path.read_text()
    try:
        path.write_text(original + "\n" + line)
        result = lint_imports(copy_of_the_house)
    finally:
        path.write_text(original)
    assert result.returncode != 0
    assert broken in result.stdout


def _floors() -> list[set[str]]:
    contract = next(c for c in CONFIG["contracts"] if c["id"] == "floors")
    return [{m.strip() for m in layer.replace("|", ":").split(":")} for layer in contract["layers"]]


def test_every_module_stands_on_exactly_one_floor():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    floors = _floors()

    def floors_of(module: str) -> list[int]:
        return [i for i, floor in enumerate(floors) if any(module == m or module.startswith(m + ".") for m in floor)]

    homeless = sorted(m for m in graph.modules if m not in PACKAGES and not floors_of(m))
    assert homeless == [], "add these modules to a floor in pyproject.toml (and docs/architecture.md)"
    twice = sorted(m for m in graph.modules if len(floors_of(m)) > 1)
    assert twice == []


def test_no_module_outside_migrations_is_over_450_lines():
    long = [
        (str(path.relative_to(ROOT)), n)
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts and (n := len(path.read_text().splitlines())) > 450
    ]
    assert long == [], "split these by responsibility"


def test_the_reactions_are_wired_in_order():
    """Receivers run in the sender's transaction in this order; changing it changes behaviour, so it is pinned."""
    wiring = {name: reaction.receivers for name, reaction in REACTIONS.items()}
    assert wiring == {
        "lead.replied": ["routing.cadences.triggers.cadences_on_reply"],
        "lead.stage_changed": [
            "integrations.outbound.crm_stage_announce",
            "routing.cadences.triggers.cadences_on_stage",
        ],
        "lead.closed": ["approvals.services.proposing.actions_cancel_waiting"],
        "lead.first_touch": ["routing.sla.sla_on_first_touch"],
        "lead.opted_out": [
            "approvals.services.proposing.actions_cancel_on_opt_out",
            "approvals.services.proposing.opt_out_confirm",
            "routing.cadences.triggers.cadences_on_opt_out",
            "routing.booking.conversation.offers_close_on_opt_out",
        ],
        "appointment.booked": ["routing.cadences.triggers.cadences_on_booking"],
        "appointment.announced": ["integrations.outbound.crm_appointment_announce"],
        "appointment.moved": ["routing.cadences.triggers.cadences_on_appointment_moved"],
        "appointment.cancelled": ["routing.cadences.triggers.cadences_on_appointment_cancelled"],
        "message.undelivered": ["approvals.services.delivery.action_undelivered"],
        "action.sent": ["routing.cadences.triggers.cadences_on_sent"],
        "action.quiet_hours": ["routing.quiet.action_quiet_hours"],
        "action.book": ["routing.booking.actions.booking_action_carry"],
        "slack.channel_for": ["routing.directory.team_slack_channel"],
        "person.forget": [
            "integrations.privacy.integrations_forget",
            "approvals.services.privacy.actions_forget",
            "routing.privacy.routing_forget",
        ],
        "person.export": [
            "integrations.privacy.integrations_export",
            "approvals.services.privacy.actions_export",
            "routing.privacy.routing_export",
        ],
    }


def test_a_reaction_refuses_an_app_it_does_not_name():
    from django.core.exceptions import ImproperlyConfigured

    from leads.reactions import LEAD_REPLIED

    with pytest.raises(ImproperlyConfigured, match="integrations may not react to lead.replied"):
        LEAD_REPLIED.connect(print, app="integrations")
