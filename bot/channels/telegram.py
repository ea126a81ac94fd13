"""Telegram through aiogram: updates in, messages out. aiogram's own FSM and storage are not
used: the engine owns the conversation; aiogram parses updates and speaks the Bot API.

- A text, a button tap (callback query), a photo (read by OCR) or any other media becomes an
  `Inbound` keyed "telegram:<chat id>"; the channel message id (message id, or callback id)
  lets a redelivered update be answered once.
- Outgoing choices are inline keyboards whose callback data is the choice id (short ASCII:
  Telegram allows 64 bytes, and an Arabic-script label would take two a letter); each button
  shows its number, which the user may type instead of tapping.
- Bot API errors become the sender's vocabulary: 429 waits `retry_after`, 403 marks the user
  unreachable, other 4xx fail for good, 5xx and network errors are retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramServerError,
)
from aiogram.methods.base import Response
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    File,
    Message,
    Update,
    User,
)
from aiohttp import ClientError, ClientTimeout, FormData

from bot.channels.base import PermanentFailure, RecipientBlocked, TemporaryFailure, split_user
from bot.channels.labels import numbered_label, shorten
from bot.core.model import Inbound, InboundKind
from bot.ocr import read_screenshot
from bot.outgoing import Outgoing

log = logging.getLogger(__name__)

NAME = "telegram"
#: Telegram caps a message at 4096 characters; longer texts are cut at a line break.
MAX_TEXT = 4096
MAX_CAPTION = 1024  # a document's caption

Handle = Callable[[Inbound], Awaitable[object]]

#: aiogram reads every Bot API answer as `Response[T]`, a pydantic generic model. pydantic keeps
#: those models only in a weak cache, so the garbage collector drops them between two calls and
#: the next answer builds the model again: about 10 ms each time, over a quarter of the time
#: spent sending in a profile under load. Held here for the life of the process.
RESPONSE_MODELS = (Response[Message], Response[bool], Response[list[Update]], Response[File],
                   Response[User])


def make_bot(token: str, api_base: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    return Bot(token, session=session)


def _user(chat_id: int) -> str:
    return f"{NAME}:{chat_id}"


def _media_kind(message: Message) -> str:
    for kind in ("document", "sticker", "voice", "audio", "video", "video_note", "location",
                 "contact", "animation", "poll", "venue", "dice"):
        if getattr(message, kind, None) is not None:
            return kind
    return "other"


class TelegramChannel:
    """Sends outbox messages with the Bot API's `sendMessage`.

    The request is written here as the Bot API's JSON, on aiogram's own HTTP session and
    server address, rather than through `bot.send_message`: aiogram would build and check
    pydantic models both ways (the method, each button, then the whole sent message as it comes
    back) for a text that the engine has already made final, and that was the largest share of
    a turn's cost under load. Only the id of the sent message is read back.
    """

    name = NAME

    def __init__(self, bot: Bot) -> None:
        if not isinstance(bot.session, AiohttpSession):
            raise TypeError("the Telegram channel needs aiogram's aiohttp session (make_bot)")
        self.bot = bot
        self.session = bot.session
        self.url = bot.session.api.api_url(token=bot.token, method="sendMessage")
        self.timeout = ClientTimeout(total=bot.session.timeout)

    async def send(self, message: Outgoing) -> str | None:
        _, chat = split_user(message.user)
        text = message.text if len(message.text) <= MAX_TEXT else (
            message.text[:MAX_TEXT].rsplit("\n", 1)[0])
        request: dict[str, object] = {"chat_id": int(chat), "text": text}
        if message.choices:
            request["reply_markup"] = {"inline_keyboard": [
                [{"text": button_text(n, c.label, message.locale), "callback_data": c.id}]
                for n, c in enumerate(message.choices, 1)]}
        # UTF-8 as it is: escaped, a letter in Arabic script would take six bytes, not two.
        body = json.dumps(request, ensure_ascii=False).encode()
        return await self._post(self.url, body, JSON_HEADERS)

    async def send_document(self, message: Outgoing, filename: str, content: bytes
                            ) -> str | None:
        """The note as a file (`sendDocument`, multipart, as the Bot API wants a new file),
        the message's text as its caption (Telegram allows 1024 characters there)."""
        _, chat = split_user(message.user)
        form = FormData()
        form.add_field("chat_id", chat)
        form.add_field("caption", message.text[:MAX_CAPTION])
        form.add_field("document", content, filename=filename, content_type="application/pdf")
        url = self.bot.session.api.api_url(token=self.bot.token, method="sendDocument")
        return await self._post(url, form)

    async def _post(self, url: str, data: bytes | FormData,
                    headers: Mapping[str, str] | None = None) -> str:
        """One Bot API call that sends a message: its message id, or the failure the sender
        understands (retry later, blocked, permanent)."""
        session = await self.session.create_session()
        try:
            async with session.post(url, data=data, timeout=self.timeout,
                                    headers=headers) as response:
                status = response.status
                raw = await response.read()
        except (ClientError, TimeoutError) as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
        try:
            answer = json.loads(raw)
        except ValueError as exc:  # a proxy's error page, say: try again later
            raise TemporaryFailure(f"{status}: not a Bot API answer") from exc
        if status == 200 and answer.get("ok"):
            return str(answer["result"]["message_id"])
        raise bot_api_failure(status, answer)


JSON_HEADERS = {"Content-Type": "application/json"}
#: Telegram sets no documented limit on a button's text but shows only its start; the label is
#: kept this short, at a word and never inside an isolate (`labels.shorten`).
BUTTON_TEXT = 64


def button_text(n: int, label: str, locale: str) -> str:
    """A keyboard button: its number first ("2. Non, garder"), since the text above may say
    "tap a button or type its number"; a tap still sends the choice's id."""
    return shorten(numbered_label(n, label, locale), BUTTON_TEXT)


def bot_api_failure(status: int, answer: dict[str, Any]) -> Exception:
    """The sender's vocabulary for a Bot API error answer."""
    code = int(answer.get("error_code") or status)
    description = str(answer.get("description") or "")
    parameters = answer.get("parameters") or {}
    if code == 429:
        return TemporaryFailure("429 Too Many Requests",
                                retry_after=parameters.get("retry_after"))
    if code == 403:
        return RecipientBlocked(f"403 {description}")
    if code >= 500:
        return TemporaryFailure(f"{code} {description}")
    return PermanentFailure(f"{code} {description}")


class TelegramInbound:
    """Turns updates into inbound messages for the conversations."""

    def __init__(self, bot: Bot, handle: Handle) -> None:
        self.bot = bot
        self.handle = handle
        # One handler per kind of update, without filters: aiogram runs a filter that is
        # not a coroutine (a magic filter such as F.text) on a worker thread, one hop per
        # message for a check that takes a microsecond.
        self.router = Router(name="relais")
        self.router.message()(self.on_message)
        self.router.callback_query()(self.on_tap)

    def dispatcher(self) -> Dispatcher:
        # aiogram's FSM is not used (the engine owns the conversation): no per-update state
        # lookups for nothing.
        dispatcher = Dispatcher(disable_fsm=True)
        dispatcher.include_router(self.router)
        return dispatcher

    async def on_message(self, message: Message) -> None:
        if message.text is not None:
            await self.on_text(message)
        elif message.photo:
            await self.on_photo(message)
        else:
            await self.on_other(message)

    async def on_text(self, message: Message) -> None:
        await self.handle(Inbound(user=_user(message.chat.id), message_id=f"m{message.message_id}",
                                  kind=InboundKind.TEXT, text=message.text or "",
                                  payload=_language(message)))

    async def on_tap(self, query: CallbackQuery) -> None:
        # Stops the spinner on the user's button at once. Only a courtesy: a tap fetched again
        # (its turn failed, or stored before a crash) is answered late, which Telegram refuses.
        with contextlib.suppress(TelegramBadRequest, TelegramNetworkError, TelegramServerError):
            await query.answer()
        if query.message is None or query.data is None:
            return
        await self.handle(Inbound.choice_tap(_user(query.message.chat.id), f"c{query.id}",
                                             query.data))

    async def on_photo(self, message: Message) -> None:
        # The largest size reads best; nothing of the image is kept, only its redacted text.
        photo = max(message.photo or [], key=lambda p: p.width * p.height)
        data = b""
        try:
            file = await self.bot.get_file(photo.file_id)
            if file.file_path:
                downloaded = await self.bot.download_file(file.file_path)
                data = downloaded.read() if downloaded is not None else b""
        except (TelegramBadRequest, TelegramNetworkError, TelegramServerError):
            log.warning("could not download a photo")
        screen = await read_screenshot(data)
        payload = {} if screen.available else {"ocr": "unavailable"}
        await self.handle(Inbound(user=_user(message.chat.id), message_id=f"m{message.message_id}",
                                  kind=InboundKind.PHOTO, text=screen.text,
                                  payload=MappingProxyType(payload)))

    async def on_other(self, message: Message) -> None:
        await self.handle(Inbound(user=_user(message.chat.id), message_id=f"m{message.message_id}",
                                  kind=InboundKind.MEDIA, media=_media_kind(message)))


#: Seconds Telegram holds a getUpdates call open while nothing arrives (long polling).
POLL_TIMEOUT = 10
#: An update whose turn failed is fetched and handled again, this many times in all at most;
#: then it is skipped (logged and counted), so that one update that always fails (a poison
#: message) does not hold its chat for ever.
UPDATE_TRIES = 5
#: Seconds before fetching again after a failure (a turn, or the fetch itself), doubled each
#: time up to BACKOFF_MAX; back to the start after a fetch whose updates all went through.
BACKOFF = 1.0
BACKOFF_MAX = 30.0


class TelegramPolling:
    """Polling mode: `getUpdates`, run by the elected instance only (bot/server.py).

    Telegram forgets the updates below the offset of the next call, so the offset moves past
    an update only once its turn is stored, or once it failed UPDATE_TRIES times. The updates
    of one fetch are handled chat by chat side by side, each chat's in their order; a chat
    stops at its first failed update, and the next fetch starts at the earliest failed one:
    it and every later update come again (those already stored are recognised by their
    message id and answered once), after a pause that grows while failures go on.
    """

    def __init__(self, bot: Bot, dispatcher: Dispatcher, timeout: int = POLL_TIMEOUT,
                 tries: int = UPDATE_TRIES, backoff: float = BACKOFF) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.timeout = timeout
        self.tries = tries
        self.backoff = backoff
        self.skipped = 0  # updates given up since the start
        self._failures: dict[int, int] = {}  # update id -> failed tries so far

    async def run(self, stop: asyncio.Event) -> None:
        offset: int | None = None
        pause = self.backoff
        allowed = self.dispatcher.resolve_used_update_types()
        while not stop.is_set():
            try:
                updates = await self._fetch(offset, allowed, stop)
            except Exception as exc:  # the Bot API unreachable, or answering an error
                log.warning("could not fetch Telegram updates (%s); again in %.0f s",
                            type(exc).__name__, pause)
                await _pause(stop, pause)
                pause = min(pause * 2, BACKOFF_MAX)
                continue
            if updates is None:  # stopped
                return
            if not updates:
                continue
            again = await self.handle(updates)
            if again is None:
                offset = updates[-1].update_id + 1
                pause = self.backoff
            else:
                offset = again
                await _pause(stop, pause)
                pause = min(pause * 2, BACKOFF_MAX)

    async def _fetch(self, offset: int | None, allowed: list[str], stop: asyncio.Event
                     ) -> list[Update] | None:
        """The next updates from `offset`, or None if `stop` came first (the call is then
        dropped: what it would have brought is fetched again by the next leader)."""
        fetch = asyncio.ensure_future(self.bot.get_updates(
            offset=offset, timeout=self.timeout, allowed_updates=allowed,
            request_timeout=int(self.bot.session.timeout + self.timeout)))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if not fetch.done():
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await fetch
            return None
        return fetch.result()

    async def handle(self, updates: Sequence[Update]) -> int | None:
        """Handle one fetch; the id of the earliest update to fetch again, or None."""
        chats: dict[tuple[str, int], list[Update]] = defaultdict(list)
        for update in updates:
            chats[_chat_of(update)].append(update)
        stuck = [found for found in await asyncio.gather(*(self._chat(one) for one in
                                                           chats.values()))
                 if found is not None]
        return min(stuck) if stuck else None

    async def _chat(self, updates: list[Update]) -> int | None:
        for update in updates:
            if not await self._feed(update):
                return update.update_id
        return None

    async def _feed(self, update: Update) -> bool:
        """Whether the offset may move past this update: its turn is stored, or it failed
        too often. The failure itself was logged where the turn ran, without the message."""
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception:
            tries = self._failures.get(update.update_id, 0) + 1
            if tries < self.tries:
                self._failures[update.update_id] = tries
                return False
            self._failures.pop(update.update_id, None)
            self.skipped += 1
            log.error("a Telegram update failed %d times and is skipped (update %d; %d "
                      "skipped since the start)", tries, update.update_id, self.skipped)
            return True
        self._failures.pop(update.update_id, None)
        return True


def _chat_of(update: Update) -> tuple[str, int]:
    """The chat an update belongs to (its order is kept within it); an update of another
    kind is a group of its own."""
    if update.message is not None:
        return "chat", update.message.chat.id
    query = update.callback_query
    if query is not None:
        return "chat", query.message.chat.id if query.message is not None else query.from_user.id
    return "update", update.update_id


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


def _language(message: Message) -> MappingProxyType[str, str]:
    code = message.from_user.language_code if message.from_user else None
    return MappingProxyType({"language": code} if code else {})


#: Telegram language codes for which the command menu is registered, and our locales.
MENU_LANGUAGES = {"fr": "fr", "fa": "fa_AF", "ps": "ps", "ar": "ar", "en": "en"}


async def register_commands(bot: Bot, menus: dict[str, list[tuple[str, str]]]) -> None:
    """The command menu in each language (`setMyCommands` with `language_code`); French is
    also the default for every other language."""
    for code, locale in MENU_LANGUAGES.items():
        commands = [BotCommand(command=c, description=d[:256]) for c, d in menus[locale]]
        await bot.set_my_commands(commands, language_code=code)
    await bot.set_my_commands([BotCommand(command=c, description=d[:256])
                               for c, d in menus["fr"]])
