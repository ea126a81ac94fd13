"""Beside each of the person's messages, what the assistant understood, in French, kept with
the transcript row when the turn runs: the button's French label, the problem recognised, the
date typed (normalised); free text in Dari stays as written, marked "non traduit"."""

from __future__ import annotations

from bot.core.model import Inbound, InboundKind
from bot.runtime import Runtime
from bot.storage.cases import CaseStore
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import NOW

USER = "test:dari"
REPORT = "سلام مه حساب آنف جور کده نمیتانم، نمبر خارجی مره قبول نمیکنه میگه غلط اس"
FREE = "لطفا کمکم کنید، کارم را از دست میدهم"


def _arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


async def _rows(runtime: Runtime) -> list[tuple[str, str]]:
    assert isinstance(runtime.storage, SQLiteStorage)
    rows = await runtime.storage.db.execute_fetchall(
        "SELECT text, understood FROM transcript WHERE user_key = ? AND direction = 'in' "
        "ORDER BY id", (USER,))
    return [(r[0], r[1]) for r in rows]


async def test_what_the_assistant_understood_is_kept_beside_each_message(
        runtime: Runtime) -> None:
    count = 0

    async def say(text: str = "", choice: str = "") -> None:
        nonlocal count
        count += 1
        kind = InboundKind.CHOICE if choice else InboundKind.TEXT
        await runtime.conversations.handle(
            Inbound(user=USER, message_id=str(count), kind=kind, text=text, choice=choice),
            NOW)

    await say("/start")
    await say(choice="fa_af")
    await say(choice="agree")  # keep my dates: from here the transcript is kept
    await say("/api 12.03.26")
    await say(REPORT)
    rows = await _rows(runtime)
    shown, understood = rows[0]  # the consent button: as the person saw it, and in French
    assert understood.startswith("bouton « ")
    assert _arabic(shown)
    assert not _arabic(understood)
    assert ("/api 12.03.26", "Date de fin de l'API : 12/03/2026") in rows
    text, understood = rows[-1]
    assert text == REPORT
    assert understood.startswith("problème reconnu, à confirmer : ")
    title = understood.split(" : ", 1)[1]
    assert not _arabic(title)
    assert "_" not in title  # a French title, not a code

    await say("1")  # the first button, typed: "yes, that's it"
    text, understood = (await _rows(runtime))[-1]
    assert text == "1"
    assert understood.splitlines()[0].startswith("bouton « ")
    assert f"problème confirmé : {title}" in understood.splitlines()

    await say("/human")
    await say(choice="share")
    await say(FREE)
    assert (await _rows(runtime))[-1] == (FREE, "non traduit")
    [case] = await CaseStore(runtime.storage).open_cases()
    assert case.title == title  # the case is named after the problem, in French
