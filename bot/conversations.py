"""One inbound message end to end: lock the user, drop duplicates, load, step, save + outbox.

Everything a turn changes is written in ONE transaction: the inbound id, the session, the
outgoing messages (the outbox), timers, the transcript and, for `/delete`, the erasure. A crash
at any point leaves either the whole turn or none of it; a redelivered message is answered once.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from types import MappingProxyType

from bot.core.engine import Engine, Turn
from bot.core.events import (
    CaseClosed,
    ConsentRecorded,
    DocumentRequested,
    FlowFailed,
    HandoffRequested,
    InputRejected,
    MessageCreated,
    OrganisationChosen,
    RelayedToCaseworker,
    RemindersCancelled,
    ReminderScheduled,
    UserErased,
)
from bot.core.gloss import Gloss
from bot.core.model import SOURCE_LOCALE, Choice, Inbound, InboundKind, MessageKind, Session
from bot.core.observation import observe
from bot.core.text import fold
from bot.core.understand import match_offered
from bot.documents.delivery import LIFETIME, new_token
from bot.documents.note import NoteFacts, NoteKnowledge
from bot.locks import UserLocks
from bot.storage.base import AlreadyAnswered, Storage, Timer, Transaction, VersionConflict

log = logging.getLogger(__name__)

#: Another process may win the race for a session; the turn is then run again on the new state.
MAX_ATTEMPTS = 3


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # this channel message id was already answered
    STALE_TIMER = "stale_timer"  # the timer was already handled or cancelled
    SKIPPED_TIMER = "skipped_timer"  # a later timer on the same topic replaces it


class Conversations:
    def __init__(self, storage: Storage, engine: Engine,
                 on_committed: Callable[[], None] | None = None,
                 notes: NoteKnowledge | None = None) -> None:
        self.storage = storage
        self.engine = engine
        self.notes = notes  # the note about the API's sentences (flows/knowledge/note.yaml)
        self.locks = UserLocks()
        self._on_committed = on_committed or (lambda: None)
        self.gloss = gloss_of(engine)
        #: Told of every committed turn: the golden tests record its events and session.
        self.on_turn: Callable[[Inbound, Turn], None] | None = None

    def committed(self) -> None:
        """New outbox rows were written outside a turn (bulk reminders): wake the sender."""
        self._on_committed()

    async def handle(self, inbound: Inbound, now: datetime) -> Outcome:
        """Run one user message as one turn.

        The session is read first (from memory when it can) and the engine runs outside any
        transaction; then all that the turn writes (the message id, the session, the
        outbox...) is committed at once, all or nothing, with the other turns ready at that
        moment (storage/group_commit.py). The user's lock keeps their own turns in order; the
        session's version and the message id settle a race with another process, or a
        message delivered twice."""
        if self.storage.locks_users:
            return await self._handle_locked(inbound, now)
        async with self.locks.hold(inbound.user):
            for attempt in range(MAX_ATTEMPTS):
                fresh, session = await self.storage.load_turn(inbound.user, inbound.message_id)
                if not fresh:
                    return Outcome.DUPLICATE
                turn = self.engine.step(session, inbound, now)
                try:
                    async with self.storage.transaction(lazy=True) as tx:
                        await tx.claim_inbound(inbound.user, inbound.message_id, now)
                        await tx.touch_user(inbound.user, now)
                        await self._apply(tx, inbound, session, turn, now)
                    break
                except AlreadyAnswered:
                    return Outcome.DUPLICATE
                except VersionConflict:
                    if attempt == MAX_ATTEMPTS - 1:
                        raise
        self._committed_turn(inbound, turn)
        return Outcome.ACCEPTED

    async def _handle_locked(self, inbound: Inbound, now: datetime) -> Outcome:
        """A backend shared by several instances (PostgreSQL): the turn reads, runs and
        writes inside one transaction that holds the user's lock in the database (taken by
        `claim_inbound`), so another instance's turn for the same person waits for this one
        and starts from what it saved. The version check stays as a last guard."""
        async with self.locks.hold(inbound.user):
            try:
                async with self.storage.transaction() as tx:
                    await tx.claim_inbound(inbound.user, inbound.message_id, now)
                    session = await tx.load_session(inbound.user)
                    turn = self.engine.step(session, inbound, now)
                    await tx.touch_user(inbound.user, now)
                    await self._apply(tx, inbound, session, turn, now)
            except AlreadyAnswered:
                return Outcome.DUPLICATE
        self._on_committed()
        return Outcome.ACCEPTED

    async def staff(self, user: str, action: str, text: str, canned: str,
                    now: datetime | None = None) -> None:
        """A caseworker's action from the inbox ("reply", "canned" or "close"), run as a turn
        of the user's conversation: the engine says it in the user's language. It is not the
        user's own activity, so their last-seen time is left alone."""
        moment = now or datetime.now(UTC)
        inbound = Inbound(user=user, message_id=f"staff:{uuid.uuid4().hex}",
                          kind=InboundKind.STAFF,
                          payload=MappingProxyType({"action": action, "text": text,
                                                    "canned": canned}))
        async with self.locks.hold(user), self.storage.transaction() as tx:
            if await tx.load_session(user) is None:
                raise LookupError("this person erased their data")
            turn = await self._turn(tx, inbound, moment)
        self._committed_turn(inbound, turn)

    async def fire_timer(self, timer: Timer, now: datetime) -> Outcome:
        """Bring a due timer back into the engine; taking it and its turn are one transaction,
        so a timer becomes exactly one set of messages, even across a crash."""
        async with self.locks.hold(timer.user), self.storage.transaction() as tx:
            taken = await tx.take_timer(timer.id, now)
            if taken is None:
                return Outcome.STALE_TIMER
            if await tx.superseded(taken, now) or not await tx.reachable(taken.user):
                await tx.skip_timer(taken.id, now)
                return Outcome.SKIPPED_TIMER
            inbound = Inbound(user=taken.user, message_id=f"timer:{taken.id}",
                              kind=InboundKind.TIMER, timer=taken.name, payload=taken.payload)
            turn = None
            if await tx.load_session(taken.user) is not None:  # erased users get nothing
                turn = await self._turn(tx, inbound, now)
        self._committed_turn(inbound, turn)
        return Outcome.ACCEPTED

    @staticmethod
    def _tapped(before: Session | None, inbound: Inbound) -> Choice | None:
        """The offered button this message chose: tapped, or typed by number or label."""
        if before is None:
            return None
        if inbound.kind is InboundKind.CHOICE:
            return next((c for c in before.offered if c.id == inbound.choice), None)
        if inbound.kind is InboundKind.TEXT and inbound.text and before.offered:
            return match_offered(before.offered, inbound.text)
        return None

    def _committed_turn(self, inbound: Inbound, turn: Turn | None) -> None:
        self._on_committed()
        if turn is not None and self.on_turn is not None:
            self.on_turn(inbound, turn)

    async def _turn(self, tx: Transaction, inbound: Inbound, now: datetime) -> Turn:
        session = await tx.load_session(inbound.user)
        turn = self.engine.step(session, inbound, now)
        await self._apply(tx, inbound, session, turn, now)
        return turn

    async def _apply(self, tx: Transaction, inbound: Inbound, before: Session | None, turn: Turn,
                     now: datetime) -> None:
        user = inbound.user
        erased = any(isinstance(e, UserErased) for e in turn.events)
        if erased:
            await tx.erase_user(user)
            fold.cache_clear()  # the last messages folded may be theirs
        else:
            saved = turn.session.evolve(version=before.version if before else 0)
            await tx.save_session(saved, now)
        # With consent, or while a caseworker has the conversation (the user agreed to share
        # it): the caseworker reads it in the inbox.
        shared = turn.session.case_open or (before is not None and before.case_open)
        keep_transcript = not erased and (turn.session.consent is True or shared)
        # A password or code the user sent by mistake is answered, never written down.
        secret = any(isinstance(e, InputRejected) and e.reason == "secret" for e in turn.events)
        tapped = self._tapped(before, inbound)
        if keep_transcript and not secret and (inbound.text or tapped) and inbound.kind in (
                InboundKind.TEXT, InboundKind.CHOICE):
            # Beside the person's words (or the button as they saw it), what the assistant
            # understood, in French, for the caseworker.
            await tx.append_transcript(
                user, "in", inbound.text or (tapped.label if tapped else ""), now,
                self.gloss.notes(before, inbound, turn.session, turn.events, tapped))
        relayed = any(isinstance(e, RelayedToCaseworker) for e in turn.events)
        if relayed and inbound.kind is InboundKind.PHOTO and not erased:
            # The screenshot's text, read and redacted at the edge; the image is not kept.
            await tx.append_transcript(
                user, "in", f"[capture d'écran] {inbound.text}", now,
                self.gloss.notes(before, inbound, turn.session, turn.events, None))
        # After an erasure, the goodbye's last message says so to the channel (the web chat
        # then deletes the copy kept in the browser): see MessageKind.FAREWELL.
        farewell = _last_message(turn) if erased else None
        for event in turn.events:
            if isinstance(event, MessageCreated):
                kind = MessageKind.FAREWELL if event is farewell else event.kind
                await tx.enqueue(user, kind, event.locale, event.text, event.choices, now,
                                 event.template, event.template_params)
                if keep_transcript:
                    await tx.append_transcript(user, "out", event.text, now)
            elif isinstance(event, ReminderScheduled) and not erased:
                await tx.schedule(user, event.name, event.topic, event.due_at,
                                  dict(event.payload), now)
            elif isinstance(event, RemindersCancelled) and not erased:
                await tx.cancel_timers(user, event.topic)
            elif isinstance(event, HandoffRequested) and not erased:
                await tx.record_handoff_request(user, event.reason, now)
                await tx.open_case(user, event.reason, event.summary, event.api_end,
                                   event.locale, now)
            elif isinstance(event, CaseClosed) and not erased:
                await tx.close_cases(user, now)
            elif isinstance(event, OrganisationChosen) and not erased:
                if not await tx.set_organisation(user, event.code):
                    log.info("a start link named an unknown organisation")
            elif isinstance(event, DocumentRequested) and not erased:
                await self._document(tx, user, event, now, keep_transcript)
            elif isinstance(event, FlowFailed):
                # No user text in logs: the flow, the state and the error's type are enough.
                log.warning("flow failed in %s.%s: %s", event.flow, event.state,
                            event.error.split(":", 1)[0])
        if any(isinstance(e, ConsentRecorded) and not e.given for e in turn.events):
            # Consent withdrawn: like the dates, the person's observations are forgotten.
            await tx.forget_observations(user)
        elif not erased:
            # The observatory's anonymous facts (with consent only): from the events and the
            # session's changes, never from what the person wrote.
            found = observe(before, turn.session, turn.events,
                            now.astimezone(self.engine.tz).date())
            if found:
                await tx.record_observations(user, found)

    async def _document(self, tx: Transaction, user: str, event: DocumentRequested,
                        now: datetime, keep_transcript: bool) -> None:
        """The note (or the complaint): its facts kept until it is delivered or its link
        expires, a message that carries it as a PDF, then the same text as a message."""
        if self.notes is None:
            log.warning("a document was asked but no note knowledge is loaded")
            return
        facts = NoteFacts(
            kind=event.kind, organisation=event.organisation,
            today=date.fromisoformat(event.today), status=event.status, request=event.request,
            api_end=date.fromisoformat(event.api_end) if event.api_end else None,
            departement=event.departement,
            refused_on=date.fromisoformat(event.refused_on) if event.refused_on else None)
        document = self.notes.compose(facts)
        token = new_token()
        await tx.keep_document(user, token, facts.to_json(), now, now + LIFETIME)
        await tx.enqueue(user, MessageKind.REPLY, "fr", f"{document.title} (PDF)", (), now,
                         document=token)
        await tx.enqueue(user, MessageKind.REPLY, "fr", document.text, (), now)
        if keep_transcript:
            await tx.append_transcript(user, "out", document.text, now)


def _last_message(turn: Turn) -> MessageCreated | None:
    return next((e for e in reversed(turn.events) if isinstance(e, MessageCreated)), None)


def gloss_of(engine: Engine) -> Gloss:
    """The French names the caseworker reads, from the engine's content."""
    speaker = engine.speaker
    titles = {} if speaker.catalogue is None else {
        pid: speaker.translator.render(p.title, SOURCE_LOCALE).text
        for pid, p in speaker.catalogue.problems.items()}
    departements = {} if engine.support is None else {
        code: d.label for code, d in engine.support.departements.by_code.items()}
    return Gloss.of(engine.flows, titles, departements)
