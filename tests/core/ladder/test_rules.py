"""The support ladder's rules, as tables, and their invariants."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.flows.definition import DefinitionError
from bot.core.ladder.rules import API_SAID, Contact, Ladder, advise, parse_ladder
from bot.settings import ROOT

LADDER: Ladder = parse_ladder(yaml.safe_load(
    (Path(ROOT) / "flows" / "knowledge" / "ladder.yaml").read_text(encoding="utf-8")))
MON = date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(("contacts", "api_end", "expected"), [
    # No contact yet: the personal space, today.
    ([], None, ("personal_space", MON, False, None)),
    # A message in the personal space, unanswered: the CCC after 10 working days.
    ([Contact("personal_space", MON)], None, ("ccc", date(2026, 3, 16), False, None)),
    # Answered: the next step at once.
    ([Contact("personal_space", MON, answered=True)], None, ("ccc", MON, False, None)),
    # CCC called, no answer: the préfecture after 10 working days.
    ([Contact("personal_space", MON), Contact("ccc", date(2026, 3, 16))], None,
     ("prefecture", date(2026, 3, 30), False, None)),
    # CCC and préfecture tried: the appointment opens after the later waiting time.
    ([Contact("ccc", MON), Contact("prefecture", date(2026, 3, 9))], None,
     ("appointment", date(2026, 3, 23), False, date(2026, 3, 23))),
    # Expired API: the next step opens at once, and so does the appointment once both tried.
    ([Contact("ccc", MON), Contact("prefecture", date(2026, 3, 3))], date(2026, 2, 20),
     ("appointment", date(2026, 3, 3), True, date(2026, 3, 3))),
    # API ending within 15 days: urgent.
    ([Contact("ccc", MON)], MON + timedelta(days=10), ("prefecture", MON, True, None)),
    # Urgency never opens the appointment before the CCC and the préfecture were tried.
    ([Contact("personal_space", MON)], MON, ("ccc", MON, True, None)),
    # The préfecture written to without calling the CCC: the CCC first.
    ([Contact("prefecture", MON)], None, ("ccc", MON, False, None)),
    # Public holidays and weekends are skipped: 1 May, 8 May and Ascension (14 May 2026).
    ([Contact("ccc", date(2026, 4, 30))], None, ("prefecture", date(2026, 5, 19), False, None)),
    # Christmas and New Year's Day.
    ([Contact("ccc", date(2026, 12, 24))], None, ("prefecture", date(2027, 1, 11), False, None)),
    # The préfecture answered but did not solve it: the appointment opens at once.
    ([Contact("ccc", date(2026, 2, 2)), Contact("prefecture", MON, answered=True)], None,
     ("appointment", MON, False, MON)),
    # Appointment asked, no answer: the Défenseur des droits after its waiting time.
    ([Contact("ccc", date(2026, 2, 2)), Contact("prefecture", date(2026, 2, 16)),
      Contact("appointment", MON)], None,
     ("defenseur_des_droits", date(2026, 3, 16), False, date(2026, 3, 2))),
    # Every step tried.
    ([Contact("ccc", MON), Contact("prefecture", MON), Contact("court", MON)], None,
     (None, None, False, MON + timedelta(days=14))),
])
def test_rules(contacts: list[Contact], api_end: date | None,
               expected: tuple[str | None, date | None, bool, date | None]) -> None:
    # The waiting times of this table apply to an API known to end later: without a date,
    # the person said so ("later"). An unknown API is the next test's subject.
    advice = advise(LADDER, contacts, MON, api_end, None if api_end else "later")
    assert (advice.next, advice.open_from, advice.urgent,
            advice.appointment_open_from) == expected, advice.reason


CONTACTS = [
    [],
    [Contact("personal_space", MON)],
    [Contact("ccc", MON)],
    [Contact("personal_space", date(2026, 2, 20)), Contact("ccc", date(2026, 2, 26))],
    [Contact("ccc", MON), Contact("prefecture", MON)],
    [Contact("ccc", date(2026, 2, 2)), Contact("prefecture", date(2026, 2, 16)),
     Contact("appointment", MON)],
]
#: (API end date, what the person said without a date, the ladder's view of the API)
API_STATES = [
    (None, None, "unknown"),  # nobody knows: it may have expired last week
    (MON - timedelta(days=7), None, "urgent"),  # expired
    (MON, None, "urgent"),  # ends today
    (MON + timedelta(days=15), None, "urgent"),  # within 15 days
    (MON + timedelta(days=16), None, "later"),
    (None, "expired", "urgent"),
    (None, "soon", "urgent"),
    (None, "later", "later"),
]


@pytest.mark.parametrize("contacts", CONTACTS)
@pytest.mark.parametrize(("api_end", "said", "standing"), API_STATES)
def test_no_waiting_unless_the_api_is_known_to_end_later(
        contacts: list[Contact], api_end: date | None, said: str | None, standing: str) -> None:
    advice = advise(LADDER, contacts, MON, api_end, said)
    assert advice.api == standing
    assert advice.may_wait is (standing == "later")
    if standing != "later":
        # Unknown, expired or within 15 days: the urgent path, every step open today.
        assert advice.urgent
        assert advice.open_from is None or advice.open_from <= MON, advice.reason
        assert advice.appointment_open_from is None or advice.appointment_open_from <= MON
    else:
        assert not advice.urgent


def test_an_api_known_to_end_later_does_wait() -> None:
    # The counterpart of the table above: the rule is not "never wait".
    advice = advise(LADDER, [Contact("ccc", MON)], MON, None, "later")
    assert advice.open_from == date(2026, 3, 16)
    assert advise(LADDER, [Contact("ccc", MON)], MON).open_from == MON


def test_where_the_ladder_starts_for_a_situation() -> None:
    assert LADDER.start_for(None, "stateless_first_card") == "prefecture"
    assert LADDER.start_for("api_short_validity") == "ccc"
    assert LADDER.start_for("login_loop", None) is None
    assert advise(LADDER, [], MON, start="prefecture").next == "prefecture"
    # Once something was tried, the ladder goes on from there.
    assert advise(LADDER, [Contact("ccc", MON)], MON, start="prefecture").next == "prefecture"
    broken = {"version": 1, "steps": [{"id": "ccc"}], "starts": {"x": "embassy"}}
    with pytest.raises(DefinitionError, match=r"starts\.x is not a step"):
        parse_ladder(broken)


steps = st.sampled_from([s.id for s in LADDER.steps])
days = st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))


@given(st.lists(st.builds(Contact, steps, days, st.booleans()), max_size=6),
       st.one_of(st.none(), days), st.one_of(st.none(), st.sampled_from(API_SAID)))
def test_no_step_opens_before_the_last_contact(contacts: list[Contact],
                                               api_end: date | None, said: str | None) -> None:
    today = max([c.on for c in contacts], default=MON)
    advice = advise(LADDER, contacts, today, api_end, said)
    if not advice.may_wait:  # never a date to wait for when the API may have expired
        assert advice.open_from is None or advice.open_from <= today
    if advice.open_from is not None and contacts:
        assert advice.open_from >= max(c.on for c in contacts)
    tried = {c.step for c in contacts}
    if advice.appointment_open_from is not None:
        assert {"ccc", "prefecture"} <= tried  # never before the support channels
        assert advice.appointment_open_from >= max(
            c.on for c in contacts if c.step in ("ccc", "prefecture"))


def test_as_json() -> None:
    data = advise(LADDER, [Contact("ccc", MON)], MON, api_said="later").as_json()
    assert data == {"next": "prefecture", "open_from": "2026-03-16", "urgent": False,
                    "api": "later", "appointment_open_from": None,
                    "reason": "10 working days without an answer"}


def test_the_command_line_gives_the_same_answer() -> None:
    import json

    from tests.conftest import run_command

    result = run_command(
        ["ladder", "--json", "--now", "2026-03-02", "--api-end", "2026-03-10",
         "--contact", "ccc:2026-02-20", "--contact", "prefecture:2026-02-25:answered"])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "next": "appointment", "open_from": "2026-02-25", "urgent": True, "api": "urgent",
        "appointment_open_from": "2026-02-25",
        "reason": "they answered"}

    def run(*extra: str) -> dict[str, object]:
        done = run_command(["ladder", "--json", "--now", "2026-03-02",
                            "--contact", "ccc:2026-03-02", *extra])
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    # No API date and nothing said: the same rule as the conversation, no step waits.
    unknown = run()
    assert unknown["api"] == "unknown"
    assert unknown["urgent"] is True
    assert unknown["open_from"] == "2026-03-02"
    assert "unknown" in str(unknown["reason"])
    assert run("--api-said", "later")["open_from"] == "2026-03-16"
    assert run("--api-said", "expired")["open_from"] == "2026-03-02"
    bad = run_command(["ladder", "--now", "2026-03-02", "--contact", "nowhere:2026-01-01"])
    assert bad.returncode == 2
    assert "the steps are" in bad.stderr
