from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.engine import Engine
from bot.core.model import MessageKind
from bot.core.reminders import ReminderPolicy, plan
from bot.storage.base import ReminderGroup

PARIS = ZoneInfo("Europe/Paris")
POLICY = ReminderPolicy()


def test_api_reminders_fall_on_their_days_at_ten() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    planned = plan("api_end", date(2026, 5, 15), now, PARIS, POLICY)
    local = [r.due_at.astimezone(PARIS) for r in planned]
    assert [d.date().isoformat() for d in local] == [
        "2026-04-15", "2026-05-01", "2026-05-08", "2026-05-13", "2026-05-15", "2026-05-16"]
    assert {d.time() for d in local} == {time(10, 0)}
    assert all(r.topic == "api_end" for r in planned)


def test_past_reminders_are_not_planned() -> None:
    now = datetime(2026, 5, 14, 12, 0, tzinfo=UTC)
    planned = plan("api_end", date(2026, 5, 15), now, PARIS, POLICY)
    assert [dict(r.payload)["offset"] for r in planned] == ["0", "-1"]


def test_card_reminders() -> None:
    planned = plan("card_end", date(2026, 12, 31), datetime(2026, 3, 2, tzinfo=UTC), PARIS,
                   POLICY)
    assert [r.due_at.astimezone(PARIS).date().isoformat() for r in planned] == [
        "2026-09-02", "2026-10-02", "2026-10-25"]


def test_the_local_hour_holds_across_daylight_saving() -> None:
    # Summer time starts in Paris on Sunday 29 March 2026: 10:00 is 09:00 UTC before, 08:00 after.
    planned = plan("api_end", date(2026, 3, 31), datetime(2026, 3, 1, tzinfo=UTC), PARIS,
                   POLICY)
    by_offset = {dict(r.payload)["offset"]: r.due_at.astimezone(UTC) for r in planned}
    assert by_offset["7"] == datetime(2026, 3, 24, 9, 0, tzinfo=UTC)
    assert by_offset["2"] == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 3, 2, 21, 30, tzinfo=PARIS), datetime(2026, 3, 3, 9, 0, tzinfo=PARIS)),
    (datetime(2026, 3, 2, 6, 0, tzinfo=PARIS), datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)),
    (datetime(2026, 3, 2, 12, 0, tzinfo=PARIS), datetime(2026, 3, 2, 12, 0, tzinfo=PARIS)),
    (datetime(2026, 3, 28, 23, 0, tzinfo=PARIS), datetime(2026, 3, 29, 9, 0, tzinfo=PARIS)),
])
def test_nothing_in_the_quiet_hours(moment: datetime, expected: datetime) -> None:
    assert POLICY.deliverable(moment, PARIS) == expected


def test_a_night_reminder_hour_is_moved_to_the_morning() -> None:
    late = ReminderPolicy(hour=time(22, 0))
    planned = plan("api_end", date(2026, 5, 15), datetime(2026, 3, 2, tzinfo=UTC), PARIS, late)
    assert {r.due_at.astimezone(PARIS).time() for r in planned} == {time(9, 0)}


def _due(**kw: object) -> ReminderGroup:
    base: dict[str, object] = dict(slot="api_end", planned="2026-05-15", offset=7,
                                   locale="ps", count=1)
    base.update(kw)
    return ReminderGroup(**base)  # type: ignore[arg-type]


AT = datetime(2026, 5, 8, 8, 0, tzinfo=UTC)


def test_a_reminder_in_the_users_language_with_its_buttons(engine: Engine) -> None:
    message = engine.speaker.reminder(_due(), AT)
    assert message is not None
    assert message.kind is MessageKind.REMINDER
    assert message.locale == "ps"
    assert "15/05/2026" in message.text
    assert "۷" in message.text
    assert [c.id for c in message.choices] == ["new_api", "help_api", "stop"]


def test_no_text_for_an_offset_nobody_planned(engine: Engine) -> None:
    # Who may still be reminded is decided by the store's staging (tests/test_scheduler.py);
    # the engine only says nothing when no text exists for that kind of reminder.
    assert engine.speaker.reminder(_due(offset=5), AT) is None


@pytest.mark.parametrize("locale", ["fr", "fa_AF", "ps", "ar", "en"])
def test_plural_forms_in_every_locale(engine: Engine, locale: str) -> None:
    text = engine.speaker.named["reminders.api_before"]
    shown = {}
    for days in (1, 2, 3, 11, 100):
        rendered = engine.speaker.translator.render(text, locale, {"api_end": "[date]",
                                                           "api_end_days": str(days)})
        assert rendered.locale == locale
        assert str(days) in rendered.text
        shown[days] = rendered.text.replace(str(days), "N")
    forms = len(set(shown.values()))
    # Dari has one form; French, English and Pashto two; Arabic distinguishes 1, 2, 3-10,
    # 11-99 and 100-102.
    assert forms == {"fa_AF": 1, "fr": 2, "en": 2, "ps": 2, "ar": 5}[locale], shown
