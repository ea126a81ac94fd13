"""The store's statements that read the same in SQLite and PostgreSQL, written once.

Each backend keeps its own role modules (its transactions, locks and bulk paths differ), and
takes these methods from here. They go only through the small portable seam both backends
offer: `one`/`run`/`insert` on a transaction, `_all`/`_write` on the store, with `?`
placeholders (PostgreSQL's connection turns them into `%s` in one place).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.storage.base import InFlight, Timer
from bot.storage.rows import USER_TABLES, iso, when

TIMER_COLUMNS = "id, user_key, name, topic, due_at, payload"


def timer_from_row(row: Any) -> Timer:
    """A `scheduled` row read with TIMER_COLUMNS."""
    return Timer(id=row[0], user=row[1], name=row[2], topic=row[3], due_at=when(row[4]),
                 payload=json.loads(row[5]))


def reminder_may_go(kept_date: str, planned_date: str, until: str) -> str:
    """Whether a staged date reminder may still go: the one place this rule is written, as an
    SQL condition each backend's staging selects (bot/storage/*/reminders.py). The row is the
    timer `s`, joined to the person's session `ses` and user `u` (either may be missing: an
    erased person). It goes if the person is known, consented, has reminders on, still keeps
    the date it was planned for, is reachable, and no later reminder of the same topic is
    due by `until` too (that one goes instead). The dialect writes the JSON reads:
    `kept_date`, the session's date for the timer's topic; `planned_date`, the timer's; and
    `until`, its placeholder for the due limit."""
    return ("(ses.user_key IS NOT NULL AND ses.consent = 1 AND ses.reminders = 1 "
            f"AND {kept_date} = {planned_date} "
            "AND COALESCE(u.reachable, 1) = 1 "
            "AND NOT EXISTS (SELECT 1 FROM scheduled l WHERE l.user_key = s.user_key "
            "  AND l.topic = s.topic AND l.status = 'pending' AND l.id != s.id "
            f"  AND l.due_at > s.due_at AND l.due_at <= {until}))")


class TimerScheduling:
    """Within a turn's transaction: timers set and cancelled."""

    if TYPE_CHECKING:
        async def run(self, sql: str, *args: Any) -> int: ...
        async def insert(self, sql: str, *args: Any) -> int: ...

    async def schedule(self, user: str, name: str, topic: str, due_at: datetime,
                       payload: Mapping[str, str], now: datetime) -> int:
        return await self.insert(
            "INSERT INTO scheduled (user_key, name, topic, due_at, payload, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            user, name, topic, iso(due_at), json.dumps(dict(payload)), iso(now))

    async def cancel_timers(self, user: str, topic: str | None) -> int:
        if topic is None:
            return await self.run("UPDATE scheduled SET status = 'cancelled' WHERE user_key = ? "
                                  "AND status = 'pending'", user)
        return await self.run("UPDATE scheduled SET status = 'cancelled' WHERE user_key = ? "
                              "AND topic = ? AND status = 'pending'", user, topic)


class _Store:
    if TYPE_CHECKING:
        async def _all(self, sql: str, *args: Any) -> list[Any]: ...
        async def _write(self, sql: str, *args: Any) -> int: ...


class UserReads(_Store):
    """What the store knows of a user outside a turn, and the housekeeping of users."""

    if TYPE_CHECKING:
        async def tables_with_user_key(self) -> list[str]: ...

    async def set_reachable(self, user: str, reachable: bool) -> None:
        await self._write("UPDATE users SET reachable = ? WHERE user_key = ?", int(reachable),
                          user)

    async def is_reachable(self, user: str) -> bool:
        rows = await self._all("SELECT reachable FROM users WHERE user_key = ?", user)
        return bool(rows[0][0]) if rows else True

    async def transcript(self, user: str) -> list[tuple[str, str, str]]:
        rows = await self._all(
            "SELECT direction, at, text FROM transcript WHERE user_key = ? ORDER BY id", user)
        return [(r[0], r[1], r[2]) for r in rows]

    async def inactive_users(self, before: datetime) -> list[str]:
        rows = await self._all("SELECT user_key FROM users WHERE last_seen_at < ?", iso(before))
        return [r[0] for r in rows]

    async def prune_inbound(self, before: datetime) -> int:
        return await self._write("DELETE FROM inbound WHERE received_at < ?", iso(before))

    async def rows_about(self, user: str) -> dict[str, int]:
        """How many rows each table holds about a user (used to prove erasure)."""
        out = {}
        for table in await self.tables_with_user_key():
            rows = await self._all(f"SELECT COUNT(*) FROM {table} WHERE user_key = ?", user)
            out[table] = int(rows[0][0])
        return out


class OutboxRescheduling(_Store):
    """The sender putting a row back for later: after a failure that may pass, under a rate
    limit, or until a web chat user comes back."""

    async def mark_retry(self, message_id: int, available_at: datetime, error: str,
                         claim: int) -> None:
        """Back to pending after a failure that may pass, if `claim` still holds the row: one a
        recovery marked uncertain meanwhile (its text gone) stays so."""
        await self._write("UPDATE outbox SET status = 'pending', available_at = ?, "
                          "last_error = ? WHERE id = ? AND claim_token = ? "
                          "AND status = 'sending'", iso(available_at), error[:200],
                          message_id, claim)

    async def defer(self, message_id: int, available_at: datetime, claim: int) -> None:
        """Back to pending, later, without counting an attempt (a rate limit, not a fault), if
        `claim` still holds the row: one a recovery put back and another claim took is not
        touched."""
        await self._write("UPDATE outbox SET status = 'pending', available_at = ?, "
                          "attempts = attempts - 1 WHERE id = ? AND claim_token = ? "
                          "AND status = 'sending'", iso(available_at), message_id, claim)

    async def release_waiting(self, user: str, now: datetime) -> int:
        """The user is back: their waiting messages are ready now."""
        return await self._write("UPDATE outbox SET available_at = ? WHERE user_key = ? "
                                 "AND status = 'pending' AND available_at > ?",
                                 iso(now), user, iso(now))


class OutboxReads(_Store):
    """The outbox seen from outside the sender: status, counts, how a row went out."""

    async def recover_in_flight(self, claimed_before: datetime | None = None) -> InFlight:
        """At start-up, or when an instance is elected to send (PostgreSQL): rows a crash left
        'sending'. One whose request had not started (no `posted_at`: the sender died between
        claiming it and posting it) goes back to 'pending', where it was in its user's queue
        (its id), the claim not counted as an attempt. One whose request may have reached the
        user is never sent again: 'uncertain'. `claimed_before`: only the rows claimed before
        that moment (a sender that died with no election following: `recover_abandoned`).

        On PostgreSQL, other instances may be sending meanwhile (the web chat's relay, or a
        leader that lost its lock and has not stopped yet). A row of theirs put back here is
        not posted by them (`mark_posted` finds it no longer theirs); one they posted already
        is marked uncertain, and their `mark_sent` still records it as sent. The rows put back
        go first: a row posted between the two statements is then caught by the second, and
        a row claimed between them (no `posted_at`) is left to its live sender."""
        scope, args = ("", ()) if claimed_before is None else (
            " AND claimed_at < ?", (iso(claimed_before),))
        resent = await self._write(
            "UPDATE outbox SET status = 'pending', attempts = attempts - 1 "
            f"WHERE status = 'sending' AND posted_at IS NULL{scope}", *args)
        uncertain = await self._write(
            "UPDATE outbox SET status = 'uncertain', body = '{}' "
            f"WHERE status = 'sending' AND posted_at IS NOT NULL{scope}", *args)
        return InFlight(resent, uncertain)

    async def outbox_status(self, message_id: int) -> str | None:
        rows = await self._all("SELECT status FROM outbox WHERE id = ?", message_id)
        return str(rows[0][0]) if rows else None

    async def pending_count(self) -> int:
        rows = await self._all("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sending')")
        return int(rows[0][0])

    async def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for table in USER_TABLES:
            rows = await self._all(f"SELECT COUNT(*) FROM {table}")
            out[table] = rows[0][0]
        # Messages sent as another language's template because the user's had none approved.
        rows = await self._all("SELECT COUNT(*) FROM outbox WHERE fallback_from IS NOT NULL")
        out["template_fallbacks"] = rows[0][0]
        return out

    async def delivery(self, message_id: int) -> dict[str, Any] | None:
        """How an outbox row went out, as the channel reported it (for tests and admins)."""
        rows = await self._all(
            "SELECT status, channel_ref, peer_status, peer_status_at, sent_as, fallback_from, "
            "last_error FROM outbox WHERE id = ?", message_id)
        if not rows:
            return None
        keys = ("status", "channel_ref", "peer_status", "peer_status_at", "sent_as",
                "fallback_from", "last_error")
        return dict(zip(keys, rows[0], strict=True))
