"""Telegram through aiogram: updates in, messages out. aiogram's own FSM and storage are not
used: the engine owns the conversation; aiogram parses updates and speaks the Bot API.

- A text, a button tap (callback query), a photo (read by OCR) or any other media becomes an
  `Inbound` keyed "telegram:<chat id>"; the channel message id (message id, or callback id)
  lets a redelivered update be answered once.
- Outgoing choices are inline keyboards whose callback data is the choice id (short ASCII:
  Telegram allows 64 bytes, and an Arabic-script label would take two a letter).
- Bot API errors become the sender's vocabulary: 429 waits `retry_after`, 403 marks the user
  unreachable, other 4xx fail for good, 5xx and network errors are retried.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import MappingProxyType

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.channels.base import PermanentFailure, RecipientBlocked, TemporaryFailure, split_user
from bot.core.model import Inbound, InboundKind
from bot.ocr import read_screenshot
from bot.storage.base import OutboxMessage

log = logging.getLogger(__name__)

NAME = "telegram"
#: Telegram caps a message at 4096 characters; longer texts are cut at a line break.
MAX_TEXT = 4096

Handle = Callable[[Inbound], Awaitable[object]]


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
    """Sends outbox messages with the Bot API."""

    name = NAME

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, message: OutboxMessage) -> str | None:
        _, chat = split_user(message.user)
        keyboard = None
        if message.choices:
            keyboard = InlineKeyboardMarkup(inline_keyboard=[
                [InlineKeyboardButton(text=c.label[:64], callback_data=c.id)]
                for c in message.choices])
        text = message.text if len(message.text) <= MAX_TEXT else (
            message.text[:MAX_TEXT].rsplit("\n", 1)[0])
        try:
            sent = await self.bot.send_message(chat_id=int(chat), text=text,
                                               reply_markup=keyboard)
        except TelegramRetryAfter as exc:
            raise TemporaryFailure("429 Too Many Requests", retry_after=exc.retry_after) from exc
        except TelegramForbiddenError as exc:
            raise RecipientBlocked(f"403 {exc.message}") from exc
        except TelegramBadRequest as exc:
            raise PermanentFailure(f"400 {exc.message}") from exc
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise TemporaryFailure(type(exc).__name__) from exc
        return str(sent.message_id)


class TelegramInbound:
    """Turns updates into inbound messages for the conversations."""

    def __init__(self, bot: Bot, handle: Handle) -> None:
        self.bot = bot
        self.handle = handle
        self.router = Router(name="relais")
        self.router.message(F.text)(self.on_text)
        self.router.message(F.photo)(self.on_photo)
        self.router.message()(self.on_other)
        self.router.callback_query()(self.on_tap)

    def dispatcher(self) -> Dispatcher:
        dispatcher = Dispatcher()
        dispatcher.include_router(self.router)
        return dispatcher

    async def on_text(self, message: Message) -> None:
        await self.handle(Inbound(user=_user(message.chat.id), message_id=f"m{message.message_id}",
                                  kind=InboundKind.TEXT, text=message.text or "",
                                  payload=_language(message)))

    async def on_tap(self, query: CallbackQuery) -> None:
        await query.answer()  # stops the spinner on the user's button at once
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
