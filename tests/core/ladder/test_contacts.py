"""The support ladder in the conversation: recording contacts, the advice, the French message,
the préfecture, /history and the follow-up timer."""

from __future__ import annotations

import json
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest

from bot.core.engine import Engine
from bot.core.events import MessageCreated, RemindersCancelled, ReminderScheduled
from bot.core.model import Inbound, InboundKind, MessageKind
from bot.core.reminders import LADDER_FOLLOWUP
from tests.core.helpers import NOW, Convo, of_type, texts

PARIS = ZoneInfo("Europe/Paris")


def _record(convo: Convo, step: str, when: str, answer: str = "no_answer",
            reference: str | None = None) -> None:
    convo.tap("record")
    convo.tap(step)
    if when in ("today", "yesterday"):
        convo.tap(when)
    else:
        convo.send(when)
    convo.tap(answer)
    if answer != "solved":
        if reference is None:
            convo.tap("skip")
        else:
            convo.send(reference)


def _ladder(engine: Engine, consent: bool = True, locale: str = "fr",
            answers: tuple[str, ...] = ("renewal", "later")) -> Convo:
    """Open the ladder from the menu and answer its questions (the request, then when the
    API ends: by default a card renewal whose API ends in more than 15 days)."""
    convo = Convo(engine)
    convo.onboard(locale, consent=consent)
    convo.send("/menu")
    convo.tap("ladder")
    for answer in answers:
        convo.tap(answer)
    return convo


def test_with_no_contact_the_first_step_is_open_now(engine: Engine) -> None:
    convo = _ladder(engine)
    said = "\n".join(texts(convo.turns[-1]))
    assert "espace personnel ANEF" in said
    assert "dès maintenant" in said
    # Without an API end date there is no API to ask for: the letter asks for help.
    letter = convo.turns[-1].messages[-1]
    assert letter.locale == "fr"
    assert "[Votre nom et prénom]" in letter.text
    assert "R. 431-15" not in letter.text
    assert "m'aider à régler ce problème" in letter.text


def test_recording_a_contact_keeps_it_and_plans_the_follow_up(engine: Engine) -> None:
    convo = _ladder(engine)
    _record(convo, "ccc", "today", reference="TK 2026 44")
    turn = convo.turns[-1]
    said = "\n".join(texts(turn))
    assert "C'est noté : Centre de contact citoyens (CCC), le 02/03/2026." in said
    # The préfecture comes next, after 10 working days without an answer.
    assert "Prochaine étape : votre préfecture." in said
    assert "16/03/2026" in said
    assert convo.session is not None
    rows = json.loads(convo.session.slots["contacts"])
    assert rows == [["ccc", "2026-03-02", 0, "TK 2026 44"]]
    # The follow-up: on the day the préfecture step opens, at the reminder hour in Paris.
    assert of_type(turn, RemindersCancelled) == [RemindersCancelled(topic="ladder")]
    [planned] = of_type(turn, ReminderScheduled)
    assert isinstance(planned, ReminderScheduled)
    assert planned.name == LADDER_FOLLOWUP
    assert planned.topic == "ladder"
    assert planned.due_at == datetime(2026, 3, 16, 10, 0, tzinfo=PARIS)
    assert dict(planned.payload) == {"step": "ccc", "date": "2026-03-02"}


def test_an_answered_contact_opens_the_next_step_at_once_and_needs_no_follow_up(
        engine: Engine) -> None:
    convo = _ladder(engine)
    _record(convo, "ccc", "yesterday", answer="answered")
    turn = convo.turns[-1]
    assert "dès maintenant" in "\n".join(texts(turn))
    assert of_type(turn, ReminderScheduled) == []


def test_a_future_or_impossible_date_is_refused_and_the_question_stays(engine: Engine) -> None:
    convo = _ladder(engine)
    convo.tap("record")
    convo.tap("prefecture")
    future = convo.send("10/03/2026")
    assert "dans le futur" in texts(future)[0]
    impossible = convo.send("31/02/2026")
    assert "n'existe pas" in texts(impossible)[0]
    assert convo.offered == ["today", "yesterday", "back"]
    convo.send("۲۵/۰۲/۲۰۲۶")  # Persian digits
    assert convo.offered == ["no_answer", "answered", "solved", "back"]


def test_the_letter_carries_the_users_facts_and_the_right_article(engine: Engine) -> None:
    convo = _ladder(engine, answers=())
    convo.send("/api 10/03/2026")
    convo.send("/menu")
    convo.tap("ladder")
    assert convo.offered == ["first", "renewal", "dont_know", "menu"]
    convo.tap("first")
    # A first card: the status decides the article (the French term beside the button).
    assert convo.offered == ["refugee", "subsidiary", "stateless", "dont_know", "menu"]
    convo.tap("refugee")
    _record(convo, "personal_space", "20/02/2026")
    _record(convo, "ccc", "today")
    # The API ends within 15 days: urgent, the préfecture is open now, its letter follows.
    turn = convo.turns[-1]
    said = "\n".join(texts(turn))
    assert "urgent" in said
    letter = turn.messages[-1]
    assert letter.locale == "fr"
    assert "prend fin le 10/03/2026" in letter.text
    assert "- le Centre de contact citoyens (CCC), le 02/03/2026 (sans réponse)" in letter.text
    assert "- un message dans mon espace personnel ANEF, le 20/02/2026" in letter.text
    # A refugee's first card: the 6-month API of R. 431-15-3.
    assert "Selon l'article R. 431-15-3 du CESEDA" in letter.text
    assert "Numéro étranger" not in letter.text  # never without the user's choice
    assert "number" in convo.offered
    convo.tap("number")
    assert "chiffres" not in texts(convo.turns[-1])[0]  # its length is not certain: no claim
    convo.send("12345")
    assert "seulement les chiffres du numéro étranger" in texts(convo.turns[-1])[0]
    convo.send("1234567890123")  # 13 digits: too long for any source
    assert "seulement les chiffres du numéro étranger" in texts(convo.turns[-1])[0]
    convo.send("07 12 34 56 78")
    shown = convo.turns[-1].messages[-1].text
    assert "Numéro étranger : 0712345678" in shown


def test_the_appointment_letter_cites_r_431_2_and_the_2022_decision(engine: Engine) -> None:
    convo = _ladder(engine)
    _record(convo, "ccc", "10/02/2026")
    _record(convo, "prefecture", "13/02/2026")
    said = "\n".join(texts(convo.turns[-1]))
    assert "Prochaine étape : demander un rendez-vous à la préfecture" in said
    letter = convo.turns[-1].messages[-1].text
    assert "article R. 431-2 du CESEDA" in letter
    assert "Conseil d'État du 3 juin 2022 (n° 452798)" in letter


def test_the_appointment_is_not_offered_before_the_support_channels(engine: Engine) -> None:
    convo = _ladder(engine)
    _record(convo, "personal_space", "today")
    said = "\n".join(texts(convo.turns[-1]))
    assert "seulement après avoir essayé le CCC et la préfecture" in said


@pytest.mark.parametrize(("typed", "label", "has_email"), [
    ("6", "Alpes-Maritimes (06)", True),
    ("alpes maritimes", "Alpes-Maritimes (06)", True),
    ("۹۳", "Seine-Saint-Denis (93)", False),
    ("2a", "Corse-du-Sud (2A)", False),
])
def test_the_prefecture_from_the_departement(engine: Engine, typed: str, label: str,
                                             has_email: bool) -> None:
    convo = _ladder(engine)
    convo.tap("prefecture")
    convo.send(typed)
    said = "\n".join(texts(convo.turns[-1]))
    assert f"Votre préfecture : {label}." in said
    assert ("pref-renouvellement-ada@alpes-maritimes.gouv.fr" in said) is has_email
    # Where no source gives an address, none is invented.
    assert ("pas encore d'adresse vérifiée" in said) is (not has_email)
    assert "@" not in said or has_email


def test_an_unknown_departement_is_asked_again(engine: Engine) -> None:
    convo = _ladder(engine)
    convo.tap("prefecture")
    turn = convo.send("Atlantis")
    assert "Je ne connais pas ce département" in texts(turn)[0]


def test_history_lists_the_contacts(engine: Engine) -> None:
    convo = _ladder(engine)
    assert "aucun contact" in texts(convo.send("/history"))[0]
    convo.tap("overview")
    _record(convo, "personal_space", "20/02/2026")
    _record(convo, "ccc", "today", answer="answered", reference="A-77")
    said = texts(convo.send("/history"))[0]
    assert said.split("\n") == [
        "Vos contacts :",
        "• 20/02/2026 : Espace personnel ANEF, pas de réponse",
        "• 02/03/2026 : Centre de contact citoyens (CCC), réponse, pas réglé, n° A-77",
    ]


def test_without_consent_nothing_is_kept_and_no_follow_up_is_planned(engine: Engine) -> None:
    convo = _ladder(engine, consent=False)
    _record(convo, "ccc", "today")
    turn = convo.turns[-1]
    assert "Je ne garde pas ce contact" in "\n".join(texts(turn))
    assert of_type(turn, ReminderScheduled) == []
    assert convo.session is not None
    assert "contacts" not in convo.session.slots


def test_solved_stops_the_follow_ups(engine: Engine) -> None:
    convo = _ladder(engine)
    _record(convo, "ccc", "today")
    _record(convo, "prefecture", "today", answer="solved")
    turn = convo.turns[-1]
    assert "c'est réglé" in texts(turn)[0]
    assert RemindersCancelled(topic="ladder") in of_type(turn, RemindersCancelled)
    assert of_type(turn, ReminderScheduled) == []


def _fire(convo: Convo, payload: dict[str, str]) -> list[MessageCreated]:
    inbound = Inbound(user=convo.user, message_id="timer:1", kind=InboundKind.TIMER,
                      timer=LADDER_FOLLOWUP, payload=MappingProxyType(payload))
    turn = convo.engine.step(convo.session, inbound, NOW)
    return list(turn.messages)


def test_the_follow_up_asks_whether_they_answered(engine: Engine) -> None:
    convo = _ladder(engine, locale="ps")
    _record(convo, "ccc", "today")
    [message] = _fire(convo, {"step": "ccc", "date": "2026-03-02"})
    assert message.kind is MessageKind.REMINDER
    assert message.locale == "ps"
    assert [c.id for c in message.choices] == ["ladder_answered", "ladder_no_answer", "stop"]
    assert message.template == "ladder:ccc"
    assert message.template_params[0].startswith("02/03/2026")
    # The user taps "they answered" (a global button, valid from any state).
    convo.tap("ladder_answered")
    assert convo.session is not None
    assert json.loads(convo.session.slots["contacts"])[0][2] == 1


def test_a_stale_follow_up_says_nothing(engine: Engine) -> None:
    convo = _ladder(engine)
    _record(convo, "ccc", "today")
    _record(convo, "prefecture", "today")
    # The follow-up planned for the CCC contact was replaced by the préfecture's.
    assert _fire(convo, {"step": "ccc", "date": "2026-03-02"}) == []


# -- never "wait" without knowing when the API ends ----------------------------------------------

def test_the_ladder_asks_when_the_api_ends_before_any_advice(engine: Engine) -> None:
    convo = _ladder(engine, answers=("renewal",))
    said = "\n".join(texts(convo.turns[-1]))
    assert "Quand finit votre API ?" in said
    assert "Prochaine étape" not in said  # no advice before the answer
    assert convo.offered == ["expired", "soon", "later", "dont_know", "menu"]
    convo.tap("dont_know")
    assert "espace personnel ANEF" in texts(convo.turns[-1])[0]
    assert convo.offered == ["not_found", "back"]


#: How the person answers the API question, and whether the ladder may then say "wait".
ANSWERS = [
    (("expired",), False),
    (("soon",), False),
    (("later",), True),
    (("dont_know", "not_found"), False),  # unknown
    (("dont_know", "20/02/2026"), False),  # typed: expired on 20 February
    (("12/03/2026",), False),  # typed: ends within 15 days
    (("2 juin 2026",), True),  # typed in words: ends later
]


@pytest.mark.parametrize(("answers", "may_wait"), ANSWERS)
@pytest.mark.parametrize("contact", [None, "personal_space", "ccc", "prefecture"])
def test_waiting_is_advised_only_for_an_api_known_to_end_later(
        engine: Engine, answers: tuple[str, ...], may_wait: bool, contact: str | None) -> None:
    convo = _ladder(engine, answers=("renewal",))
    for answer in answers:
        if answer in ("expired", "soon", "later", "dont_know", "not_found"):
            convo.tap(answer)
        else:
            convo.send(answer)
    if contact is not None:
        if contact == "prefecture":
            _record(convo, "ccc", "yesterday")
        _record(convo, contact, "today")
    turn = convo.turns[-1]
    said = "\n".join(texts(turn))
    assert "Prochaine étape" in said
    waits = "Attendez" in said
    if not may_wait:
        assert not waits, said
        assert "human" in convo.offered  # the urgent path offers a person
        assert "dès maintenant" in said
        assert of_type(turn, ReminderScheduled) == [] or contact is None
    elif contact is not None:
        assert waits, said  # the counterpart: a later API does wait (10 working days)
        assert "human" not in convo.offered


def test_an_unknown_api_says_why_and_offers_to_give_the_date(engine: Engine) -> None:
    convo = _ladder(engine, answers=("renewal", "dont_know", "not_found"))
    said = "\n".join(texts(convo.turns[-1]))
    assert "Je ne sais pas quand finit votre API" in said
    assert "Attendez" not in said
    assert "api_date" in convo.offered
    convo.tap("api_date")
    convo.tap("later")
    said = "\n".join(texts(convo.turns[-1]))
    assert "Je ne sais pas quand finit votre API" not in said
    assert "api_date" not in convo.offered


def test_expired_from_the_menu_is_urgent_and_never_says_wait(engine: Engine) -> None:
    convo = _ladder(engine, answers=("renewal", "expired"))
    said = "\n".join(texts(convo.turns[-1]))
    assert "c'est urgent" in said
    assert "Attendez" not in said
    _record(convo, "ccc", "today")
    said = "\n".join(texts(convo.turns[-1]))
    assert "Attendez" not in said  # "expired" is kept: it only grows more urgent
    letter = convo.turns[-1].messages[-1].text
    assert "Mon attestation de prolongation d'instruction (API) a expiré." in letter
    assert "R. 431-15-1" in letter  # a card renewal


def test_without_consent_the_answer_serves_its_turn_only(engine: Engine) -> None:
    convo = _ladder(engine, consent=False, answers=("renewal",))
    convo.tap("later")
    assert convo.session is not None
    assert "api_said" not in convo.session.slots
    _record(convo, "personal_space", "today")
    said = "\n".join(texts(convo.turns[-1]))
    # The next turn no longer knows: no waiting advice, and it says why.
    assert "Je ne sais pas quand finit votre API" in said
    assert "Attendez" not in said


def test_later_is_trusted_only_on_the_day_it_was_said() -> None:
    from datetime import date

    from bot.core.ladder.contacts import said_today
    assert said_today("later 2026-03-02", date(2026, 3, 2)) == "later"
    assert said_today("later 2026-03-01", date(2026, 3, 2)) is None
    assert said_today("expired 2026-01-10", date(2026, 3, 2)) == "expired"
    assert said_today("soon 2026-02-10", date(2026, 3, 2)) == "soon"
    assert said_today("maybe 2026-03-02", date(2026, 3, 2)) is None
    assert said_today(None, date(2026, 3, 2)) is None


def test_a_stateless_persons_first_card_goes_to_the_prefecture_without_an_article(
        engine: Engine) -> None:
    convo = _ladder(engine, answers=("first", "stateless", "expired"))
    turn = convo.turns[-1]
    said = "\n".join(texts(turn))
    assert "Prochaine étape : votre préfecture." in said
    assert "la première carte d'un apatride se demande à la préfecture" in said
    assert "human" in convo.offered
    letter = turn.messages[-1].text
    assert "R. 431-15" not in letter
    assert "Selon" not in letter


def test_a_three_month_api_goes_to_the_ccc_with_the_six_month_article(engine: Engine) -> None:
    convo = _ladder(engine, answers=())
    assert convo.session is not None
    # As after the errors flow recognised "API de 3 mois au lieu de 6".
    convo.session = convo.session.with_scratch(diagnosis="api_short_validity")
    convo.send("/menu")
    convo.tap("ladder")
    convo.tap("first")
    convo.tap("refugee")
    convo.send("30/05/2026")
    turn = convo.turns[-1]
    said = "\n".join(texts(turn))
    assert "Prochaine étape : le Centre de contact citoyens (CCC)." in said
    letter = turn.messages[-1].text
    assert "n'a été délivrée que pour trois mois" in letter
    assert "selon l'article R. 431-15-3 du CESEDA" in letter
    _record(convo, "ccc", "today")
    assert "Prochaine étape : votre préfecture." in "\n".join(texts(convo.turns[-1]))


@pytest.mark.parametrize("locale", ["fa_AF", "ps", "ar"])
def test_ladder_texts_in_right_to_left_languages_use_the_arabic_comma(locale: str) -> None:
    """A Latin comma inside a Dari, Pashto or Arabic sentence reads as a typo: «،» there.
    (The ladder joins no list in code: its lists are one line per item.)"""
    from pathlib import Path

    from babel.messages.pofile import read_po

    po = Path(__file__).resolve().parents[3] / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    ladder = [m for m in catalog if m.context and m.string
              and m.context.startswith(("ladder.", "reminders.ladder", "reminders.button_"))]
    assert len(ladder) > 50
    latin = [m.context for m in ladder if "," in str(m.string)]
    assert latin == []


def test_the_caseworker_summary_sees_what_the_ladder_was_told(engine: Engine) -> None:
    from bot.core.events import HandoffRequested

    convo = _ladder(engine, answers=("first", "stateless", "later"))
    convo.send("/human")
    [handoff] = of_type(convo.tap("share"), HandoffRequested)
    assert isinstance(handoff, HandoffRequested)
    summary = handoff.summary
    assert "API : non indiqué (la personne a dit le 02/03/2026 : finit dans plus de 15 jours)" \
        in summary
    # The same next step as the conversation: a stateless first card starts at the préfecture.
    assert "Prochaine étape : la préfecture, ouverte maintenant." in summary
