"""WhatsApp (Cloud API), the sending side. User keys are "wa:<wa_id>".

Within 24 hours of the user's last message a message goes as free text: choices become reply
buttons (at most 3, titles up to 20 characters), else a list (up to 10 rows, titles up to 24
characters, the full label below a shortened title), else numbered lines the user answers by
typing the number (the engine understands 1, ۱ or ١). Buttons and rows show that number too
when it fits (`labels.numbered_label`): the menu says a button's number may be typed. Outside
that window only a reminder can go, as its approved template (`whatsapp_templates.py`), in the
user's language or the fallback.
The engine's text is already display-ready (right-to-left lines marked, Latin runs isolated).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta
from typing import Any

from bot.channels.base import PermanentFailure, split_user
from bot.channels.graph import GraphAPI, WindowClosed
from bot.channels.labels import numbered_label, shorten
from bot.channels.whatsapp_templates import TemplateBook, TemplateError
from bot.clock import Clock
from bot.core.model import Choice
from bot.outgoing import Delivery, Outgoing

log = logging.getLogger(__name__)

NAME = "wa"
#: Free text is allowed for 24 hours after the user's last message. The time we recorded is
#: when we handled it, a little after they sent it: keep a margin.
WINDOW = timedelta(hours=24)
MARGIN = timedelta(minutes=15)
MAX_TEXT = 4096
MAX_BODY = 1024  # the text above buttons or a list
MAX_CAPTION = 1024  # a document's caption
MAX_BUTTONS, BUTTON_TITLE = 3, 20
MAX_ROWS, ROW_TITLE, ROW_DESCRIPTION = 10, 24, 72
#: The button that opens a list. Temporary: until the flows define this text (their owner was
#: asked), it lives here; same meaning in every language, "Choose".
LIST_BUTTON = {"fr": "Choisir", "fa_AF": "انتخاب کنید", "ps": "انتخاب کړئ", "ar": "اختر",
               "en": "Choose"}


def free_form(to: str, message: Outgoing) -> dict[str, Any]:
    """The Cloud API message for a free-text message and its choices."""
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
    text, choices, locale = message.text, message.choices, message.locale
    if choices and len(text) <= MAX_BODY:
        titles = _button_titles(choices, locale)
        if titles is not None:
            return {**base, "type": "interactive", "interactive": _buttons(text, choices, titles)}
        rows = _rows(choices, locale)
        if rows is not None:
            return {**base, "type": "interactive", "interactive": _list(text, rows, locale)}
    return {**base, "type": "text",
            "text": {"body": numbered(text, choices, locale), "preview_url": False}}


def _button_titles(choices: tuple[Choice, ...], locale: str) -> list[str] | None:
    """Reply-button titles, or None when the choices do not fit buttons. Numbered ("1. Oui")
    when every numbered title fits in 20 characters; else as they are, if they fit (the
    buttons are still in order, so "2" still names the second): all numbered or none."""
    if len(choices) > MAX_BUTTONS:
        return None
    for titles in ([numbered_label(n, c.label, locale) for n, c in enumerate(choices, 1)],
                   [c.label for c in choices]):
        if all(len(title) <= BUTTON_TITLE for title in titles):
            return titles
    return None


def _buttons(text: str, choices: tuple[Choice, ...], titles: list[str]) -> dict[str, Any]:
    return {"type": "button", "body": {"text": text}, "action": {"buttons": [
        {"type": "reply", "reply": {"id": c.id, "title": title}}
        for c, title in zip(choices, titles, strict=True)]}}


def _rows(choices: tuple[Choice, ...], locale: str) -> list[dict[str, str]] | None:
    """List rows, or None when the choices do not fit a list. Each title is numbered; one too
    long is shortened there and the label is shown whole as the row's description, so nothing
    is lost."""
    if len(choices) > MAX_ROWS:
        return None
    rows = []
    for n, choice in enumerate(choices, 1):
        title = numbered_label(n, choice.label, locale)
        row = {"id": choice.id, "title": shorten(title, ROW_TITLE)}
        if row["title"] != title:
            if len(choice.label) > ROW_DESCRIPTION:
                return None
            row["description"] = choice.label
        rows.append(row)
    return rows


def _list(text: str, rows: list[dict[str, str]], locale: str) -> dict[str, Any]:
    button = LIST_BUTTON.get(locale, LIST_BUTTON["fr"])
    return {"type": "list", "body": {"text": text},
            "action": {"button": button, "sections": [{"rows": rows}]}}


def numbered(text: str, choices: tuple[Choice, ...], locale: str) -> str:
    """The text with its choices as numbered lines, within WhatsApp's length limit."""
    options = "".join(f"\n{numbered_label(n, c.label, locale)}"
                      for n, c in enumerate(choices, 1))
    options = f"\n{options}" if options else ""
    room = MAX_TEXT - len(options)
    if len(text) > room:  # cut at a line break, as the Telegram channel does
        text = text[:room].rsplit("\n", 1)[0]
    return text + options


class WhatsAppChannel:
    """Sends outbox messages with the Cloud API."""

    name = NAME

    def __init__(self, graph: GraphAPI, book: TemplateBook, clock: Clock,
                 approved: Collection[str]) -> None:
        self.graph = graph
        self.book = book
        self.clock = clock
        self.approved = frozenset(approved)

    def window_open(self, message: Outgoing) -> bool:
        last = message.last_inbound_at
        return last is not None and self.clock.now() - last < WINDOW - MARGIN

    async def send(self, message: Outgoing) -> Delivery:
        _, to = split_user(message.user)
        if self.window_open(message):
            try:
                return Delivery(await self.graph.send(free_form(to, message)))
            except WindowClosed:
                if not message.template:
                    raise
                # WhatsApp knows better when the user last wrote: a reminder still goes.
        if not message.template:
            raise PermanentFailure("outside the 24-hour window, and not a reminder")
        return await self._template(to, message)

    async def send_document(self, message: Outgoing, filename: str, content: bytes
                            ) -> Delivery:
        """The note as a `document` message: uploaded to /media first, then sent by its id,
        the text as its caption. Only within the 24-hour window (it answers the user)."""
        _, to = split_user(message.user)
        if not self.window_open(message):
            raise PermanentFailure("outside the 24-hour window: a document is not a reminder")
        media = await self.graph.upload(content, filename, "application/pdf")
        return Delivery(await self.graph.send({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
            "type": "document", "document": {"id": media, "filename": filename,
                                             "caption": message.text[:MAX_CAPTION]}}))

    async def _template(self, to: str, message: Outgoing) -> Delivery:
        kind = message.template
        chosen = self.book.choose(kind, message.locale, message.second_locale, self.approved)
        if chosen is None:
            raise PermanentFailure(f"no approved WhatsApp template for {kind}")
        template = self.book.reminders[kind]
        try:
            payload = template.payload(to, chosen, message.template_params)
        except TemplateError as exc:
            raise PermanentFailure(str(exc)) from exc
        ref = await self.graph.send(payload)
        fallback = message.locale if chosen.locale != message.locale else None
        if fallback is not None:  # no user in the line: the kind and the languages only
            log.info("reminder %s sent in %s: no approved %s template", kind, chosen.locale,
                     fallback)
        return Delivery(ref, sent_as=f"template:{template.name}:{chosen.language}",
                        fallback_from=fallback)
