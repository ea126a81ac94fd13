"""`python -m bot run`: one aiohttp process serving every channel, with the sender and the
scheduler running beside it.

Telegram runs by long polling (no public address needed) or by webhook (`/telegram/webhook`,
checked against TELEGRAM_WEBHOOK_SECRET); aiogram is imported only when a token is set (it is
most of the start-up time otherwise). WhatsApp calls `/whatsapp/webhook`, signed with the
app secret. Shutting down stops taking updates, lets the turn in
progress finish, and leaves unsent messages in the outbox for the next start.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.base import Channel
from bot.channels.graph import GraphAPI
from bot.channels.webchat import NAME as WEB
from bot.channels.webchat import WebChatChannel, WebChatEndpoint
from bot.channels.whatsapp import NAME as WHATSAPP
from bot.channels.whatsapp import WhatsAppChannel
from bot.channels.whatsapp_templates import TemplateBook, TemplateError
from bot.channels.whatsapp_webhook import WhatsAppWebhook
from bot.clock import Clock, SystemClock
from bot.core.exceptions import RelaisError
from bot.core.handoff import canned_replies
from bot.core.model import LOCALES, Inbound
from bot.documents.delivery import DocumentSource
from bot.inbox import inbox_routes
from bot.inbox.announce import Announcer
from bot.inbox.live import Live
from bot.inbox.mail import Mailer, SMTPSettings
from bot.leadership import Duty, Leadership
from bot.observatory.config import observatory_of
from bot.runtime import Runtime
from bot.sender import RateLimit, SenderWakes
from bot.settings import Settings, SettingsError
from bot.stacks import answer_sigusr1
from bot.storage.cases import CaseStore
from bot.web.documents import DocumentDownloads

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher

    from bot.channels.telegram import TelegramPolling

log = logging.getLogger(__name__)
TELEGRAM = "telegram"  # bot.channels.telegram.NAME, without importing aiogram
WEBHOOK_PATH = "/telegram/webhook"
STATIC = Path(__file__).parent / "web" / "static"
#: The page loads nothing from elsewhere; its one script is inline.
CSP = ("default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "connect-src 'self'; img-src 'self' data:; frame-ancestors *")

RUNTIME = web.AppKey("runtime", Runtime)
#: Telegram's limit for a group chat (PLATFORMS.md): the assistant is meant for one-to-one
#: chats, but an association may add it to a group.
TELEGRAM_GROUP_PER_MINUTE = 20
#: Seconds between two tries of an instance that does not lead to take over (PostgreSQL): a
#: try is one small query on a connection kept for it, so a dead leader is replaced quickly.
LEAD_RETRY = 0.5
CLOCK = web.AppKey("clock", Clock)


class TurnFailed(RelaisError, RuntimeError):
    """A Telegram update's turn failed: it was not stored (the cause is in the log)."""


class Server:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        settings.check_channels()
        self.settings = settings
        self.clock = clock or SystemClock()
        self.channels: dict[str, Channel] = {}
        self.bot: Bot | None = None
        self.dispatcher: Dispatcher | None = None
        self.polling: TelegramPolling | None = None
        self.webchat = WebChatChannel()
        self.channels[WEB] = self.webchat
        if settings.telegram_bot_token:
            from bot.channels.telegram import TelegramChannel, make_bot

            self.bot = make_bot(settings.telegram_bot_token, settings.telegram_api_base)
            self.channels[TELEGRAM] = TelegramChannel(self.bot)
        self.graph: GraphAPI | None = None
        if settings.whatsapp_token:
            self.graph = GraphAPI(settings.whatsapp_api_base, settings.whatsapp_token,
                                  settings.whatsapp_phone_number_id)
            self.channels[WHATSAPP] = WhatsAppChannel(
                self.graph, _templates(settings), self.clock, settings.whatsapp_template_locales)
        limits = {TELEGRAM: RateLimit(settings.telegram_rate_per_second,
                                      settings.telegram_chat_interval,
                                      group_per_minute=TELEGRAM_GROUP_PER_MINUTE),
                  WHATSAPP: RateLimit(settings.whatsapp_rate_per_second,
                                      settings.whatsapp_chat_interval)}
        self.runtime = Runtime.build(settings, self.clock, self.channels, limits=limits)
        if self.bot is not None:
            from bot.channels.telegram import TelegramInbound, TelegramPolling

            self.dispatcher = TelegramInbound(self.bot, self.handle_update).dispatcher()
            self.polling = TelegramPolling(self.bot, self.dispatcher)
        self.whatsapp: WhatsAppWebhook | None = None
        if self.graph is not None:
            self.whatsapp = WhatsAppWebhook(
                self.graph, self.handle, self.runtime.storage.record_peer_status,
                app_secret=settings.whatsapp_app_secret,
                verify_token=settings.whatsapp_verify_token,
                phone_number_id=settings.whatsapp_phone_number_id)
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []
        self.leadership = Leadership(self.runtime.storage, self._take_over, retry=LEAD_RETRY)
        # Open inbox pages are told after every committed turn; so is the announcer.
        self.live = Live()
        self.runtime.watchers.append(self.live.changed)
        self.cases = CaseStore(self.runtime.storage,
                               default_org=settings.default_organisation or None)
        self.announcer = Announcer(self.runtime.storage, self.clock.now, self._today,
                                   settings.inbox_url, _mailer(settings),
                                   self._staff_notice if settings.staff_telegram_chat_id
                                   and self.bot is not None else None)

    async def handle(self, inbound: Inbound) -> None:
        """One message from any channel. A failure is logged, never raised to the channel."""
        try:
            await self.runtime.conversations.handle(inbound, self.clock.now())
        except Exception:
            log.exception("turn failed")

    async def handle_update(self, inbound: Inbound) -> None:
        """A Telegram update. A failed turn raises, so that a webhook call is answered 500
        and Telegram sends the update again (polling fetches it again, a few times at most:
        bot.channels.telegram.TelegramPolling); the error is logged here, without the
        message's content."""
        try:
            await self.runtime.conversations.handle(inbound, self.clock.now())
        except Exception:
            log.exception("turn failed")
            raise TurnFailed("the turn was not stored") from None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app[RUNTIME] = self.runtime
        app[CLOCK] = self.clock
        app.router.add_get("/health", self.health)
        app.router.add_get("/", self.page)
        app.router.add_get("/chat/embed.js", self.embed)
        app.router.add_get("/chat/ws", WebChatEndpoint(self.webchat, self.handle,
                                                       self.user_connected).connect)
        DocumentDownloads(self.runtime.sender.documents or DocumentSource(
            self.runtime.storage, self.runtime.notes), self.clock.now).add_routes(app.router)
        webhook = self.settings.telegram_mode == "webhook"
        if self.bot is not None and self.dispatcher is not None and webhook:
            from aiogram.webhook.aiohttp_server import SimpleRequestHandler

            # Answered once the turn is stored, not before (aiogram's default answers at once
            # and runs the turn after): a 200 tells Telegram to forget the update, so an
            # instance killed meanwhile would lose it; a failed turn answers 500 and Telegram
            # sends the update again.
            SimpleRequestHandler(dispatcher=self.dispatcher, bot=self.bot,
                                 secret_token=self.settings.telegram_webhook_secret,
                                 handle_in_background=False).register(app, path=WEBHOOK_PATH)
        if self.whatsapp is not None:
            self.whatsapp.register(app)
        # The caseworkers' inbox: their replies run as turns of the user's conversation.
        inbox_routes(app, self.cases, self.runtime.conversations.staff,
                     canned_replies(self.runtime.engine.speaker), self.clock.now,
                     timezone=self.settings.timezone, live=self.live,
                     observatory_config=observatory_of(self.runtime))
        app.cleanup_ctx.append(self._lifecycle)
        return app

    async def page(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "chat.html",
                                headers={"Cache-Control": "no-cache",
                                         "Content-Security-Policy": CSP})

    async def embed(self, request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "embed.js",
                                headers={"Content-Type": "text/javascript; charset=utf-8"})

    async def user_connected(self, user: str) -> None:
        released = await self.runtime.storage.release_waiting(user, self.clock.now())
        if self.runtime.relay is not None:  # this instance sends what waited (several)
            self.runtime.relay.connected(user)
        elif released:
            self.runtime.sender.wake()

    async def health(self, request: web.Request) -> web.Response:
        pending = await self.runtime.storage.pending_count()
        return web.json_response({"status": "ok", "outbox_pending": pending,
                                  "channels": sorted(self.channels)})

    async def _lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        answer_sigusr1(asyncio.get_running_loop())
        in_flight = await self.runtime.start()
        if in_flight.resent or in_flight.uncertain:
            log.warning("%d messages were being sent when the process stopped: %d never "
                        "reached the channel and go again, %d may have and are not resent",
                        sum(in_flight), in_flight.resent, in_flight.uncertain)
        await self._check_organisations()
        if self.runtime.relay is not None:  # every instance sends to the sockets it holds
            self.tasks.append(asyncio.create_task(self.runtime.relay.run(self.stop)))
        self.tasks.append(await self.leadership.start(self.stop))
        log.info("started (channels: %s; e-mail to caseworkers: %s)",
                 ", ".join(sorted(self.channels)), "on" if self.announcer.mailer else "off")
        # What start-up loaded (flows, texts, the recogniser's vectors: most of the heap) lives
        # as long as the process: the garbage collector is told not to walk it again at each
        # full collection. Those walks were the longest pauses under load (the benchmark's p99
        # latency halved, its throughput rose by about half).
        gc.collect()
        gc.freeze()
        yield
        gc.unfreeze()
        log.info("stopping (channels: %s)", ", ".join(sorted(self.channels)))
        self.stop.set()
        self.live.close()
        if self.whatsapp is not None:
            await self.whatsapp.drain(statuses=False)  # accepted messages are answered
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.bot is not None:
            await self.bot.session.close()
        if self.graph is not None:
            await self.graph.close()
        await self.runtime.close()
        log.info("stopped")

    async def _take_over(self) -> list[Duty]:
        """What the elected instance does first, and its duties (bot/leadership.py): with
        several instances on one database (PostgreSQL) it sends the outbox (so Telegram's and
        WhatsApp's rate limits hold across instances, counted in one place), runs the
        scheduler, announces cases and polls Telegram; every instance takes webhooks and web
        chat messages and writes their turns."""
        if self.runtime.storage.locks_users:
            in_flight = await self.runtime.storage.recover_in_flight()
            log.info("elected to send, schedule and poll (%d messages put back to be sent, "
                     "%d left uncertain)", in_flight.resent, in_flight.uncertain)
        duties: list[Duty] = [self.runtime.sender.run, self.runtime.scheduler.run,
                              functools.partial(self.announcer.run, live=self.live)]
        if self.runtime.storage.locks_users:  # what a follower's dead relay left 'sending'
            duties.append(self.runtime.sender.recover_abandoned)
        if await self._start_telegram() and self.polling is not None:
            duties.append(self.polling.run)
        if isinstance(self.runtime.storage, SenderWakes):  # others' turns wake the sender
            duties.append(functools.partial(self.runtime.sender.follow,
                                            self.runtime.storage.sender_wakes()))
        return duties

    def _today(self) -> date:
        return self.clock.now().astimezone(self.settings.timezone).date()

    async def _check_organisations(self) -> None:
        """Say in the log how to make cases visible, when nobody could see them."""
        staffed = [org for org, staff, _, _ in await self.cases.organisations() if staff]
        waiting = await self.cases.waiting_cases()
        if not staffed:
            log.warning("no caseworker account yet: a person who asks for help is kept "
                        "waiting in no organisation (%d case(s) now). Create the organisation "
                        "and its first admin: python -m bot setup", waiting)
        elif waiting:
            log.warning("%d open case(s) are in an organisation nobody belongs to; an admin "
                        "sees them after: python -m bot org default CODE", waiting)

    async def _staff_notice(self, text: str) -> None:
        assert self.bot is not None
        await self.bot.send_message(self.settings.staff_telegram_chat_id, text)

    async def _start_telegram(self) -> bool:
        """The command menu, and the webhook set (or removed, to poll); whether to poll."""
        if self.bot is None or self.dispatcher is None:
            return False
        from bot.channels.telegram import register_commands

        menus = {locale: self.runtime.engine.speaker.command_menu(locale) for locale in LOCALES}
        try:
            await register_commands(self.bot, menus)
        except Exception:  # the menu is a convenience: a failure must not stop the server
            log.warning("could not register the Telegram command menu")
        if self.settings.telegram_mode == "webhook":
            await self.bot.set_webhook(
                f"{self.settings.telegram_webhook_url}",
                secret_token=self.settings.telegram_webhook_secret, drop_pending_updates=False)
        else:
            await self.bot.delete_webhook(drop_pending_updates=False)
            return True
        return False


def _templates(settings: Settings) -> TemplateBook:
    try:
        return TemplateBook.load(settings.whatsapp_templates_dir)
    except TemplateError as exc:
        raise SettingsError(f"WHATSAPP_TEMPLATES_DIR: {exc}") from exc


def _mailer(settings: Settings) -> Mailer | None:
    if not settings.smtp_host:
        return None
    return Mailer(SMTPSettings(settings.smtp_host, settings.smtp_port, settings.smtp_user,
                               str(settings.smtp_password), settings.smtp_from,
                               settings.smtp_tls))


def main() -> int:
    settings = Settings.load()
    server = Server(settings)
    log.info("Relais on http://%s:%d/ (channels: %s)", settings.web_host, settings.web_port,
             ", ".join(sorted(server.channels)) or "none yet")
    # No access log: the web chat's address carries the user's token.
    web.run_app(server.app(), host=settings.web_host, port=settings.web_port, print=None,
                access_log=None)
    return 0
