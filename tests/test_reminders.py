"""Reminders through the simulator: time travel, quiet hours, daylight saving, /stop, a new
date replacing the old reminders, downtime, and a crash between taking and sending."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import outputs, run_simulate

pytestmark = pytest.mark.slow

NOW = "2026-03-02T10:00:00+01:00"
BUTTON = {"fr": "fr", "fa_AF": "fa_af", "ps": "ps", "ar": "ar", "en": "en"}


def onboarding(locale: str, api_end: str = "15/05/2026") -> list[dict[str, Any]]:
    return [{"user": "u1", "text": "/start"}, {"user": "u1", "choice": BUTTON[locale]},
            {"user": "u1", "choice": "agree"}, {"user": "u1", "text": f"/api {api_end}"}]


def reminders(result: Any) -> list[dict[str, Any]]:
    return [line for line in outputs(result) if line["kind"] == "reminder"]


@pytest.mark.parametrize("locale", list(BUTTON))
def test_each_api_reminder_on_its_day_at_ten(locale: str) -> None:
    result = run_simulate([*onboarding(locale), {"clock": "2026-05-20T12:00:00+02:00"}])
    got = reminders(result)
    assert [r["at"] for r in got] == [
        "2026-04-15T10:00:00+02:00", "2026-05-01T10:00:00+02:00", "2026-05-08T10:00:00+02:00",
        "2026-05-13T10:00:00+02:00", "2026-05-15T10:00:00+02:00", "2026-05-16T10:00:00+02:00"]
    assert {r["locale"] for r in got} == {locale}
    assert all([c["id"] for c in r["choices"]] == ["new_api", "help_api", "stop"] for r in got)


def test_the_buttons_of_a_reminder_work_later_from_anywhere() -> None:
    result = run_simulate([*onboarding("en"), {"clock": "2026-05-08T12:00:00+02:00"},
                           {"user": "u1", "text": "/help"},
                           {"user": "u1", "choice": "new_api"},
                           {"user": "u1", "text": "15/08/2026"},
                           {"clock": "2026-06-01T12:00:00+02:00"}])
    lines = outputs(result)
    assert any("Which end date" in line["text"] or "end date" in line["text"]
               for line in lines)
    # The new date replaced the old reminders: none about 15/05 after the change.
    after = [r for r in reminders(result) if r["at"] > "2026-05-08T12:00:00+02:00"]
    assert after == []
    result = run_simulate([*onboarding("en"), {"user": "u1", "text": "/api 15/08/2026"},
                           {"clock": "2026-08-20T12:00:00+02:00"}])
    assert all("15/08/2026" in r["text"] for r in reminders(result))
    assert [r["at"][:10] for r in reminders(result)] == [
        "2026-07-16", "2026-08-01", "2026-08-08", "2026-08-13", "2026-08-15", "2026-08-16"]


def test_daylight_saving_weekend_keeps_ten_oclock() -> None:
    result = run_simulate([*onboarding("fa_AF", "31/03/2026"),
                           {"clock": "2026-04-02T12:00:00+02:00"}])
    ats = [r["at"] for r in reminders(result)]
    assert "2026-03-24T10:00:00+01:00" in ats  # winter time
    assert "2026-03-29T10:00:00+02:00" in ats  # the Sunday summer time starts
    assert "2026-03-31T10:00:00+02:00" in ats


def test_a_reminder_due_at_night_waits_for_nine(tmp_path: Path) -> None:
    # The association set REMINDER_HOUR in the quiet hours: reminders go out at 09:00.
    result = run_simulate([*onboarding("ar"), {"clock": "2026-04-16T12:00:00+02:00"}],
                          env={"REMINDER_HOUR": "22:30"})
    assert [r["at"] for r in reminders(result)] == ["2026-04-16T09:00:00+02:00"]


def test_stop_means_no_more_reminders() -> None:
    result = run_simulate([*onboarding("ps"), {"clock": "2026-04-16T12:00:00+02:00"},
                           {"user": "u1", "text": "/stop"},
                           {"clock": "2026-05-20T12:00:00+02:00"}])
    assert [r["at"][:10] for r in reminders(result)] == ["2026-04-15"]
    restarted = run_simulate([*onboarding("ps"), {"user": "u1", "text": "/stop"},
                              {"user": "u1", "text": "/reminders"},
                              {"clock": "2026-04-16T12:00:00+02:00"}])
    assert [r["at"][:10] for r in reminders(restarted)] == ["2026-04-15"]


def test_after_two_days_down_the_latest_reminder_goes_out(tmp_path: Path) -> None:
    db = tmp_path / "down.sqlite3"
    run_simulate([*onboarding("fr", "15/05/2026"), {"clock": "2026-05-12T12:00:00+02:00"}],
                 db=db)
    # The process was down from 12 May to 16 May noon: the reminders of 13, 15 and 16 May are
    # due; the 16 May one ("ended yesterday") supersedes the others of the same date.
    result = run_simulate([], db=db, now="2026-05-16T12:00:00+02:00")
    got = reminders(result)
    assert len(got) == 1  # sent at the restart, saying the API ended yesterday
    assert got[0]["at"] == "2026-05-16T12:00:00+02:00"
    assert "yesterday" in got[0]["text"] or "hier" in got[0]["text"]


def test_no_reminder_without_consent_or_after_delete() -> None:
    declined = [{"user": "u1", "text": "/start"}, {"user": "u1", "choice": "fr"},
                {"user": "u1", "choice": "decline"}, {"user": "u1", "text": "/api 15/05/2026"},
                {"clock": "2026-05-20T12:00:00+02:00"}]
    assert reminders(run_simulate(declined)) == []
    deleted = [*onboarding("fr"), {"user": "u1", "text": "/delete"},
               {"user": "u1", "choice": "erase"}, {"clock": "2026-05-20T12:00:00+02:00"}]
    assert reminders(run_simulate(deleted)) == []


def test_a_crash_between_taking_and_sending_sends_exactly_one(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    lines = [*onboarding("en"), {"clock": "2026-04-15T12:00:00+02:00"},
             {"clock": "2026-05-02T12:00:00+02:00"}]
    killed = run_simulate(lines, db=db, env={"RELAIS_SIM_KILL_AFTER_CLOCK": "1"})
    assert killed.returncode == -signal.SIGKILL
    assert reminders(killed) == []  # taken and written to the outbox, not yet sent
    again = run_simulate(lines, db=db)
    got = reminders(again)
    assert [r["at"][:10] for r in got] == ["2026-04-15", "2026-05-01"]
