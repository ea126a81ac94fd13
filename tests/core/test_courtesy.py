"""Greetings, thanks and fillers in five languages: left out of reports, answered alone."""

from __future__ import annotations

import pytest

from bot.core.courtesy import SmallTalk, small_talk, strip
from bot.core.text import fold


@pytest.mark.parametrize(("text", "kind"), [
    ("bonjour", SmallTalk.GREETING), ("Salut Relais !", SmallTalk.GREETING),
    ("hello", SmallTalk.GREETING), ("good morning brother", SmallTalk.GREETING),
    ("سلام", SmallTalk.GREETING), ("سلام علیکم", SmallTalk.GREETING),
    ("السلام عليكم", SmallTalk.GREETING), ("مرحبا", SmallTalk.GREETING),
    ("ستړي مه شې", SmallTalk.GREETING),
    ("merci beaucoup", SmallTalk.THANKS), ("thank you", SmallTalk.THANKS),
    ("تشکر", SmallTalk.THANKS), ("ډېره مننه", SmallTalk.THANKS), ("شكرا", SmallTalk.THANKS),
    ("ok", SmallTalk.FILLER), ("d'accord", SmallTalk.FILLER),
])
def test_small_talk(text: str, kind: SmallTalk) -> None:
    assert small_talk(text) == kind


@pytest.mark.parametrize("text", ["bonjour, mon API a expiré", "سلام، زما API نوی شوی نه دی",
                                  "thanks, but I still cannot log in", "", "API"])
def test_a_message_with_content_is_not_small_talk(text: str) -> None:
    assert small_talk(text) is None


@pytest.mark.parametrize(("text", "kept"), [
    ("سلام، زما API نوی شوی نه دی", "زما api نوی شوی نه دی"),
    ("Bonjour Relais, s'il vous plaît, mon API a expiré, merci", "mon api a expire"),
    ("hello please my account is blocked thank you", "my account is blocked"),
    ("مرحبا، لو سمحت الموقع لا يعمل، شكرا", "الموقع لا یعمل"),
])
def test_strip_leaves_the_report(text: str, kept: str) -> None:
    assert strip(fold(text)) == fold(kept).replace(",", "").replace("،", "")


def test_small_talk_alone_is_left_as_it_is() -> None:
    assert strip(fold("سلام، تشکر")) == fold("سلام، تشکر")


@pytest.mark.parametrize(("text", "kept"), [
    # Spellings of the Muslim greeting, forms of address and urgency, in the five languages.
    ("assalamu alaykum brother, my API has expired", "my api has expired"),
    ("سلام ورونو، زما API ختم شوی", "زما api ختم شوی"),
    ("salam khoya urgent la carte dyali salat", "la carte dyali salat"),
    ("سلام کاکا جان، عاجل، API مه ختم شده", "api مه ختم شده"),
    ("Bonjour à tous, mon dossier est clôturé, merci d'avance", "mon dossier est cloture"),
])
def test_more_courtesy_is_left_out(text: str, kept: str) -> None:
    assert strip(fold(text)) == fold(kept).replace(",", "").replace("،", "")


@pytest.mark.parametrize("text", ["salam alaykum", "hello everyone", "سلام ورونو",
                                  "صباح النور", "salam khoya, labas 3lik"])
def test_greetings_alone_are_small_talk(text: str) -> None:
    assert small_talk(text) is SmallTalk.GREETING
