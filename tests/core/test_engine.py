from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.engine import Engine, match_offered
from bot.core.events import (
    ConsentRecorded,
    FlowFailed,
    HandoffRequested,
    InputRejected,
    LocaleChanged,
    RemindersChanged,
    UserErased,
)
from bot.core.model import LOCALES, Choice, InboundKind, Session
from bot.core.text import RLM
from tests.core.helpers import NOW, Convo, last_message, of_type, texts

LOCALE_BUTTON = {"fr": "fr", "fa_AF": "fa_af", "ps": "ps", "ar": "ar", "en": "en"}


def test_a_new_user_is_asked_for_the_language_in_every_script(engine: Engine) -> None:
    c = Convo(engine)
    turn = c.send("ok")  # cannot tell which language this is
    message = last_message(turn)
    assert [ch.label for ch in message.choices] == ["Français", "دری", "پښتو", "العربية",
                                                      "English"]
    assert "Choisissez votre langue" in message.text
    assert "Choose your language" in message.text
    assert c.session is not None
    assert c.session.locale is None


@pytest.mark.parametrize(("first", "locale"), [("سلام، من کمک میخواهم", "fa_AF"),
                                                ("سلام، زه مرسته غواړم", "ps"),
                                                ("مرحبا، أريد مساعدة", "ar")])
def test_a_first_message_in_dari_pashto_or_arabic_is_answered_in_it(
        engine: Engine, first: str, locale: str) -> None:
    c = Convo(engine)
    turn = c.send(first)
    assert of_type(turn, LocaleChanged) == [LocaleChanged(locale)]
    message = last_message(turn)
    assert message.locale == locale
    assert message.text.startswith(RLM)
    assert c.offered == ["keep", "change"]  # one tap to change it
    c.tap("change")
    assert c.offered == ["fr", "fa_af", "ps", "ar", "en"]


def test_nothing_beyond_the_language_before_consent(engine: Engine) -> None:
    c = Convo(engine)
    c.send("/start")
    c.tap("ps")
    assert c.session is not None
    assert c.session.consent is None
    assert dict(c.session.slots) == {}
    assert c.offered == ["agree", "decline"]
    turn = c.tap("decline")
    assert of_type(turn, ConsentRecorded) == [ConsentRecorded(given=False)]
    assert c.session.state == "main"
    assert c.session.consent is False


@pytest.mark.parametrize("typed", ["2", "۲", "٢", " 2. ", "دری", "دري"])
def test_typing_a_number_in_any_digits_or_the_label_selects(engine: Engine, typed: str) -> None:
    c = Convo(engine)
    c.send("/start")
    turn = c.send(typed)
    assert of_type(turn, LocaleChanged) == [LocaleChanged("fa_AF")]


def test_a_number_out_of_range_is_not_understood(engine: Engine) -> None:
    c = Convo(engine)
    c.send("/start")
    turn = c.send("9")
    assert of_type(turn, InputRejected) == [InputRejected("not_understood")]
    assert c.offered == ["fr", "fa_af", "ps", "ar", "en"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [("", "empty"), ("   \u200b\x00 ", "empty"), ("x" * 4001, "too_long"),
     ("😀😀🙏", "only_symbols"), ("blah", "not_understood"), ("/nonsense", "unknown_command")],
)
def test_bad_input_gets_a_clear_answer_and_keeps_the_buttons(
        engine: Engine, message: str, reason: str) -> None:
    c = Convo(engine)
    c.onboard("ar")
    before = c.offered
    turn = c.send(message)
    assert of_type(turn, InputRejected) == [InputRejected(reason)]
    assert last_message(turn).locale == "ar"
    assert [ch.id for ch in last_message(turn).choices] == before
    assert c.session is not None
    assert c.session.state == "main"


def test_a_button_that_was_never_offered(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("en")
    turn = c.tap("erase")  # exists in the flows, but not offered now
    assert of_type(turn, InputRejected) == [InputRejected("stale_choice")]
    assert not of_type(turn, UserErased)
    assert "no longer" in texts(turn)[0]


@pytest.mark.parametrize("kind", [InboundKind.PHOTO, InboundKind.MEDIA])
def test_media_gets_a_short_answer_in_the_users_language(engine: Engine, kind: InboundKind
                                                         ) -> None:
    c = Convo(engine)
    c.onboard("ps")
    turn = c.media(kind, "voice")
    assert of_type(turn, InputRejected)
    assert last_message(turn).locale == "ps"


def _waiting_states(engine: Engine) -> list[tuple[str, str]]:
    return [(f.name, s.name) for f in engine.flows.values() for s in f.states.values()
            if s.waits]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_command_works_from_every_state_in_every_language(engine: Engine, locale: str
                                                                ) -> None:
    for flow, state in _waiting_states(engine):
        for command in engine.commands.commands:
            session = Session(user="test:u", flow=flow, state=state, locale=locale,
                              consent=True, version=3)
            c = Convo(engine, session=session)
            turn = c.send(f"/{command}")
            assert not of_type(turn, FlowFailed), (flow, state, command)
            assert turn.messages, (flow, state, command)
            # Only the ready-to-copy letter is French on purpose, in every language.
            spoken = {m.locale for m in turn.messages if "[Votre nom et prénom]" not in m.text}
            assert spoken <= {locale}, (flow, state, command)
            if command != "delete":
                assert c.session is not None
                settled = engine.flows[c.session.flow].states[c.session.state]
                assert settled.waits, (flow, state, command)


def test_help_comes_back_to_where_the_user_was(engine: Engine) -> None:
    c = Convo(engine)
    c.send("/start")
    c.tap("en")
    turn = c.send("/help")
    assert "/delete" in texts(turn)[0]
    assert c.offered == ["agree", "decline"]  # back at the consent question


def test_stop_and_reminders(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("fr")
    turn = c.send("/stop")
    assert of_type(turn, RemindersChanged) == [RemindersChanged(enabled=False)]
    assert "/reminders" in texts(turn)[0]
    assert c.session is not None
    assert c.session.reminders is False
    turn = c.send("/reminders")
    assert of_type(turn, RemindersChanged) == [RemindersChanged(enabled=True)]
    assert c.session.reminders is True


def test_human_asks_to_share_then_opens_a_case(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("fa_AF")
    turn = c.send("/human")
    assert of_type(turn, HandoffRequested) == []
    assert last_message(turn).locale == "fa_AF"
    turn = c.tap("share")
    [handoff] = of_type(turn, HandoffRequested)
    assert isinstance(handoff, HandoffRequested)
    assert handoff.reason == "user_request"
    assert handoff.summary.split("\n")[1].startswith("Résumé préparé par Relais")


def test_delete_asks_first_then_erases(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("en")
    turn = c.send("/delete")
    assert not of_type(turn, UserErased)
    assert c.offered == ["erase", "keep"]
    turn = c.tap("keep")
    assert not of_type(turn, UserErased)
    c.send("/delete")
    turn = c.tap("erase")
    assert of_type(turn, UserErased) == [UserErased()]
    assert last_message(turn).locale == "en"  # the goodbye is still in the user's language
    assert c.session is not None
    assert c.session.locale is None
    assert c.session.consent is None


def test_alias_words_work_like_commands(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("fa_AF")
    c.send("/help")
    turn = c.send("منو")
    assert c.session is not None
    assert c.session.state == "main"
    assert not of_type(turn, InputRejected)


def test_withdrawing_consent_forgets_the_slots(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("en")
    assert c.session is not None
    c.session = c.session.with_slot("api_end", "2026-04-01")
    c.send("/privacy")
    assert "withdraw" in c.offered
    turn = c.tap("withdraw")
    assert of_type(turn, ConsentRecorded) == [ConsentRecorded(given=False)]
    assert dict(c.session.slots) == {}


def test_a_missing_state_becomes_an_apology_and_the_menu(engine: Engine) -> None:
    session = Session(user="test:u", flow="menu", state="renamed_since", locale="ps",
                      consent=True, version=5)
    c = Convo(engine, session=session)
    turn = c.send("hello")
    failed = of_type(turn, FlowFailed)
    assert len(failed) == 1
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("menu", "main")
    assert turn.messages[0].locale == "ps"


def test_a_missing_flow_becomes_an_apology_too(engine: Engine) -> None:
    session = Session(user="test:u", flow="deleted_flow", state="x", locale="en", consent=True,
                      version=2)
    turn = Convo(engine, session=session).send("/help")
    assert of_type(turn, FlowFailed)
    assert turn.messages


def test_match_offered() -> None:
    offered = (Choice("a", "Oui, tout effacer"), Choice("b", "Non"))
    assert match_offered(offered, "oui, TOUT effacer") == offered[0]
    assert match_offered(offered, "۲") == offered[1]
    assert match_offered(offered, "3") is None
    assert match_offered(offered, "0") is None
    assert match_offered((), "1") is None


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(message=st.text(max_size=300), state=st.sampled_from(
    [("onboarding", "choose_language"), ("onboarding", "privacy"), ("menu", "main"),
     ("system", "confirm_delete"), ("errors", "describe"), ("api_renew", "ask_end")]),
    locale=st.sampled_from(LOCALES))
def test_no_text_ever_breaks_a_turn(engine: Engine, message: str, state: tuple[str, str],
                                   locale: str) -> None:
    session = Session(user="test:u", flow=state[0], state=state[1], locale=locale,
                      consent=True, version=1, offered=())
    # Re-render the state so that `offered` is what the user sees.
    Convo(engine, session=session)
    turn = engine.step(session, c_inbound(message), NOW)
    assert not of_type(turn, FlowFailed)
    assert turn.messages


def c_inbound(text: str):  # type: ignore[no-untyped-def]
    from bot.core.model import Inbound

    return Inbound.text_message("test:u", "1", text)
