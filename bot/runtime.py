"""The runtime assembled: storage, engine, conversations, sender and scheduler.

The same assembly serves production, the terminal chat and the simulator; only the clock and
the channels differ.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.channels.base import Channel
from bot.channels.webchat import NAME as WEB
from bot.channels.webchat import WebChatChannel
from bot.clock import Clock
from bot.content import build_engine, load_content
from bot.conversations import Conversations
from bot.core.engine import Engine
from bot.core.flows.registry import REGISTRY, Registry
from bot.core.reminders import ReminderPolicy
from bot.documents.delivery import DocumentSource
from bot.documents.note import NOTE_FILE, NoteKnowledge, load_note_knowledge
from bot.scheduler import Retention, Scheduler
from bot.sender import RateLimit, Sender
from bot.settings import Settings
from bot.storage.base import InFlight, Storage
from bot.storage.choose import open_storage
from bot.web.relay import OutboxNotices, WebChatRelay


def engine_for(settings: Settings, registry: Registry = REGISTRY) -> Engine:
    """The engine these settings describe: the content on disk, the reminder hours, the
    association's time zone and office hours."""
    policy = ReminderPolicy(hour=settings.reminder_hour, quiet_start=settings.quiet_hours[0],
                            quiet_end=settings.quiet_hours[1])
    return build_engine(load_content(settings.flows_dir, settings.locales_dir),
                        settings.retention_months, settings.timezone, registry, policy,
                        settings.office_hours)


@dataclass
class Runtime:
    storage: Storage
    engine: Engine
    conversations: Conversations
    sender: Sender
    scheduler: Scheduler
    notes: NoteKnowledge  # the note about the API (flows/knowledge/note.yaml)
    #: Called after every committed turn, beside waking the sender (the live inbox).
    watchers: list[Callable[[], None]] = field(default_factory=list)
    #: Several instances (PostgreSQL) with the web chat: its messages go out from the
    #: instance holding the person's socket (bot/web/relay.py), not from the main sender.
    relay: WebChatRelay | None = None

    @classmethod
    def build(cls, settings: Settings, clock: Clock, channels: Mapping[str, Channel],
              database: Path | str | None = None, registry: Registry = REGISTRY,
              limits: Mapping[str, RateLimit] | None = None,
              engine: Engine | None = None) -> Runtime:
        """`engine`: one already built from these settings (`engine_for`), shared by runs that
        would otherwise each load and compile the same content (the golden tests)."""
        engine = engine or engine_for(settings, registry)
        webchat = channels.get(WEB)
        live = frozenset({WEB}) if isinstance(webchat, WebChatChannel) else frozenset()
        storage: Storage = open_storage(settings, database, live=live)
        relay = None
        if storage.locks_users and isinstance(webchat, WebChatChannel) and isinstance(
                storage, OutboxNotices):
            relay = WebChatRelay(storage, storage, webchat, clock)
        support = engine.support
        notes = load_note_knowledge(Path(settings.flows_dir) / NOTE_FILE,
                                    support.departements.by_code if support else None)
        sender = Sender(storage, channels, clock, limits=limits,
                        documents=DocumentSource(storage, notes),
                        leave=(WEB,) if relay is not None else ())
        watchers: list[Callable[[], None]] = []

        def committed() -> None:
            sender.wake()
            for watcher in watchers:
                watcher()

        conversations = Conversations(storage, engine, on_committed=committed, notes=notes)
        scheduler = Scheduler(storage, conversations, clock,
                              Retention(inactive_days=settings.retention_days,
                                        inbound_ids_days=settings.retention_days))
        return cls(storage, engine, conversations, sender, scheduler, notes, watchers, relay)

    async def start(self) -> InFlight:
        """Open the database; return what a crash left being sent (put back, or uncertain).
        With several instances on one database, the elected sender recovers them when it is
        elected (bot/server.py), not every instance at its start."""
        await self.storage.open()
        if self.storage.locks_users:
            return InFlight(0, 0)
        return await self.storage.recover_in_flight()

    async def close(self) -> None:
        await self.storage.close()
