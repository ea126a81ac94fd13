"""Which observations a turn yields: from events and session changes, with consent only."""

from __future__ import annotations

import json
from datetime import date
from types import MappingProxyType

from bot.core.events import ProblemRecognised
from bot.core.model import Session
from bot.core.observation import observe

TODAY = date(2026, 11, 20)


def _session(consent: bool | None = True, **slots: str) -> Session:
    return Session(user="web:x", flow="ladder", state="overview", consent=consent,
                   slots=MappingProxyType(slots))


def _contacts(*rows: tuple[str, str, bool]) -> str:
    return json.dumps([[step, day, answered, ""] for step, day, answered in rows])


def test_a_problem_with_the_persons_situation() -> None:
    after = _session(status="refugee", request="first", departement="06")
    found = observe(after, after, [ProblemRecognised("scam")], TODAY)
    assert [(o.kind, o.value, o.status, o.request, o.departement) for o in found] == [
        ("problem", "scam", "refugee", "first", "06")]


def test_nothing_without_consent() -> None:
    before = _session(consent=False)
    after = _session(consent=False, api_end="2027-01-01")
    assert observe(before, after, [ProblemRecognised("scam")], TODAY) == []


def test_contacts_and_the_answer_days() -> None:
    before = _session(contacts=_contacts(("ccc", "2026-11-02", False)))
    after = _session(contacts=_contacts(("ccc", "2026-11-02", True),
                                        ("prefecture", "2026-11-19", False)))
    found = {(o.kind, o.value, o.on_day, o.days) for o in observe(before, after, [], TODAY)}
    # Marked answered today: 18 days after the first CCC contact.
    assert found == {("answer", "ccc", TODAY, 18),
                     ("contact", "prefecture", date(2026, 11, 19), None)}


def test_a_contact_recorded_already_answered() -> None:
    before = _session(contacts=_contacts(("ccc", "2026-11-02", False)))
    after = _session(contacts=_contacts(("ccc", "2026-11-02", False),
                                        ("ccc", "2026-11-09", True)))
    found = {(o.kind, o.on_day, o.days) for o in observe(before, after, [], TODAY)}
    assert found == {("contact", date(2026, 11, 9), None), ("answer", date(2026, 11, 9), 7)}


def test_a_renewed_api_and_the_days_without_a_document() -> None:
    before = _session(api_end="2026-11-10", status="subsidiary", request="first")
    after = _session(api_end="2027-02-10", status="subsidiary", request="first")
    found = {(o.kind, o.days) for o in observe(before, after, [], TODAY)}
    assert found == {("api_renewed", 92), ("without_document", 10)}
    # A date corrected to an earlier one is not a renewal.
    assert observe(after, before, [], TODAY) == []
