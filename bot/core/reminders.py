"""Reminders before an end date: when they fall due, and what they say. Pure.

API end date: 30, 14, 7 and 2 days before, on the day, and the day after (which only goes out
if the date is still the same: giving the new API's date replaces every pending reminder).
Residence card: when the renewal window opens (120 days before the end), at 90 days, and a
week before it closes (60 days before the end; the late fee applies after).

Reminders go out at a set hour of the association's day, never in the quiet hours: a due
time in the night moves to the end of the quiet hours. Times are computed with zoneinfo in the
association's zone, so daylight-saving changes keep the local hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.core.events import ReminderScheduled

REMINDER = "reminder"  # the timer name of every date reminder

#: Days before the end date (negative: after) -> the text said.
OFFSETS = {
    "api_end": {30: "reminders.api_before", 14: "reminders.api_before",
                7: "reminders.api_before", 2: "reminders.api_before", 0: "reminders.api_today",
                -1: "reminders.api_after"},
    "card_end": {120: "reminders.card_opens", 90: "reminders.card_reminder",
                 67: "reminders.card_closing"},
}
#: The buttons under each reminder: global buttons (bot.core.commands), valid from anywhere.
BUTTONS = {
    "api_end": (("new_api", "reminders.button_new_api"), ("help_api", "reminders.button_help"),
                ("stop", "reminders.button_stop")),
    "card_end": (("new_card", "reminders.button_new_card"),
                 ("help_card", "reminders.button_help"), ("stop", "reminders.button_stop")),
}

#: Follow-ups of the support ladder (bot.core.ladder): on the day the next step opens, "Did the
#: CCC answer?", about the contact made on {contact_date}. Timer name, and one text per step.
LADDER_FOLLOWUP = "ladder_followup"
FOLLOWUP_TEXTS = {
    "personal_space": "reminders.ladder_personal_space",
    "ccc": "reminders.ladder_ccc",
    "prefecture": "reminders.ladder_prefecture",
    "appointment": "reminders.ladder_appointment",
    "defenseur_des_droits": "reminders.ladder_defenseur_des_droits",
}
FOLLOWUP_BUTTONS = (("ladder_answered", "reminders.button_answered"),
                    ("ladder_no_answer", "reminders.button_no_answer"),
                    ("stop", "reminders.button_stop"))


def reminder_types() -> dict[str, str]:
    """Every kind of reminder, by the template name a channel may need for it ("api_end:30",
    "ladder:ccc"), with its text key."""
    types = {f"{slot}:{offset}": key for slot, texts in OFFSETS.items()
             for offset, key in texts.items()}
    types.update({f"ladder:{step}": key for step, key in FOLLOWUP_TEXTS.items()})
    return types


@dataclass(frozen=True)
class ReminderPolicy:
    hour: time = time(10, 0)  # when, on the due day, reminders go out
    quiet_start: time = time(20, 0)  # nothing from this hour...
    quiet_end: time = time(9, 0)  # ...until this one

    def in_quiet_hours(self, moment: time) -> bool:
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= moment < self.quiet_end
        return moment >= self.quiet_start or moment < self.quiet_end

    def deliverable(self, moment: datetime, tz: tzinfo) -> datetime:
        """The first moment at or after `moment` outside the quiet hours, in `tz`."""
        local = moment.astimezone(tz)
        if not self.in_quiet_hours(local.time().replace(tzinfo=None)):
            return local
        day = local.date() if local.time() < self.quiet_end else local.date() + timedelta(1)
        return datetime.combine(day, self.quiet_end, tzinfo=tz)


def plan(slot: str, end: date, now: datetime, tz: tzinfo, policy: ReminderPolicy
         ) -> list[ReminderScheduled]:
    """The reminders for an end date that are still to come, in due order."""
    out = []
    for offset in sorted(OFFSETS[slot], reverse=True):
        day = end - timedelta(days=offset)
        due = policy.deliverable(datetime.combine(day, policy.hour, tzinfo=tz), tz)
        if due <= now:
            continue
        out.append(ReminderScheduled(name=REMINDER, due_at=due, topic=slot,
                                     payload=(("slot", slot), ("date", end.isoformat()),
                                              ("offset", str(offset)))))
    return out


def text_key(slot: str, offset: int) -> str | None:
    return OFFSETS.get(slot, {}).get(offset)
