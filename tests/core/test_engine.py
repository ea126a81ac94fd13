from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.engine import Engine
from bot.core.events import (
    ConsentRecorded,
    FlowFailed,
    HandoffRequested,
    InputRejected,
    LocaleChanged,
    RelayedToCaseworker,
    RemindersChanged,
    UserErased,
)
from bot.core.model import LOCALES, Choice, InboundKind, Session
from bot.core.text import RLM
from bot.core.understand import match_offered
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


# -- first contact: the language from the first words, and the message answered ------------

FIRST_REPORTS = [
    ("fa_AF", "سلام، وارد حساب ANEF شده نمی‌توانم، همیشه mot de passe oublié میایه"),
    ("ps", "سلام، زما API نوی شوی نه دی"),
    ("ar", "مرحبا، ما بقدر افوت على حسابي في ANEF، كل مرة بيطلع mot de passe oublié"),
    ("fr", "Bonjour, je n'arrive pas à me connecter, ça me renvoie sur mot de passe oublié"),
    ("en", "hello, I cannot log in, it always sends me back to forgot password"),
]


def _problem_offered(c: Convo) -> bool:
    assert c.session is not None
    return (c.session.flow, c.session.state) in {("errors", "confirm"), ("errors", "choose"),
                                                  ("errors", "closest")}


@pytest.mark.parametrize(("locale", "report"), FIRST_REPORTS)
@pytest.mark.parametrize("after_start", [False, True])
def test_a_first_report_is_answered_in_its_language(engine: Engine, locale: str, report: str,
                                                    after_start: bool) -> None:
    c = Convo(engine)
    if after_start:
        c.send("/start")  # the web page and Telegram's Start button send it first
    turn = c.send(report)
    assert of_type(turn, LocaleChanged) == [LocaleChanged(locale)]
    assert {m.locale for m in turn.messages} == {locale}
    assert _problem_offered(c), c.session
    assert c.offered[-1] == "language"  # one tap to change the language
    assert c.session is not None
    assert c.session.consent is None
    assert dict(c.session.slots) == {}


def test_after_the_first_answer_comes_the_privacy_notice(engine: Engine) -> None:
    c = Convo(engine)
    c.send("سلام، زما API نوی شوی نه دی")
    turn = c.tap("yes")
    assert turn.messages[0].locale == "ps"
    assert c.session is not None
    assert c.session.state.startswith("about_")
    turn = c.tap("menu")
    assert c.offered == ["agree", "decline"]  # what is kept, and the consent, before the menu
    assert all(m.locale == "ps" for m in turn.messages)
    c.tap("agree")
    assert c.session.consent is True
    assert (c.session.flow, c.session.state) == ("menu", "main")
    c.send("/menu")  # from now on, the menu is the menu
    assert (c.session.flow, c.session.state) == ("menu", "main")


def test_the_language_button_under_the_first_answer(engine: Engine) -> None:
    c = Convo(engine)
    c.send("انتهت صلاحية الـ API ولم يصلني الجديد")
    assert "language" in c.offered
    c.tap("language")
    assert c.offered == ["fr", "fa_af", "ps", "ar", "en"]
    turn = c.send("english")
    assert of_type(turn, LocaleChanged) == [LocaleChanged("en")]
    assert c.offered == ["agree", "decline"]


@pytest.mark.parametrize("first", ["Bonjour", "hello", "مرحبا، أريد مساعدة",
                                   "سلام، من کمک میخواهم"])
def test_a_first_greeting_is_greeted_in_its_language(engine: Engine, first: str) -> None:
    c = Convo(engine)
    turn = c.send(first)
    assert len(of_type(turn, LocaleChanged)) == 1
    assert c.offered == ["keep", "change"]


@pytest.mark.parametrize(("typed", "locale"), [
    ("dari", "fa_AF"), ("farsi", "fa_AF"), ("فارسی", "fa_AF"), ("دری", "fa_AF"),
    ("Dari please", "fa_AF"), ("pashto", "ps"), ("pachto", "ps"), ("پښتو", "ps"),
    ("پشتو", "ps"), ("arabic", "ar"), ("arabe", "ar"), ("عربي", "ar"), ("عربی", "ar"),
    ("العربية", "ar"), ("بالعربي", "ar"), ("français", "fr"), ("francais", "fr"),
    ("French", "fr"), ("english", "en"), ("anglais", "en"), ("in English please", "en"),
    ("1", "fr"), ("۲", "fa_AF"), ("٣", "ps"), ("۴", "ar"), ("5", "en"),
])
def test_languages_typed_by_name_or_number_at_the_question(engine: Engine, typed: str,
                                                           locale: str) -> None:
    c = Convo(engine)
    c.send("/start")
    turn = c.send(typed)
    assert of_type(turn, LocaleChanged) == [LocaleChanged(locale)]
    assert c.offered == ["agree", "decline"]


def test_a_language_named_as_the_first_message(engine: Engine) -> None:
    c = Convo(engine)
    turn = c.send("pashto")
    assert of_type(turn, LocaleChanged) == [LocaleChanged("ps")]
    assert c.offered == ["agree", "decline"]


def test_a_language_named_mid_conversation_is_not_a_language_change(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("fr")
    turn = c.send("english")
    assert not of_type(turn, LocaleChanged)


@pytest.mark.parametrize(("locale", "report"), FIRST_REPORTS)
def test_a_report_in_the_middle_of_a_guide_is_offered_in_every_language(
        engine: Engine, locale: str, report: str) -> None:
    session = Session(user="test:u", flow="api_renew", state="ask_end", locale=locale,
                      consent=True, version=3)
    c = Convo(engine, session=session)
    turn = c.send(report)
    assert _problem_offered(c)
    assert {m.locale for m in turn.messages} == {locale}
    assert c.session is not None
    assert c.session.resume == ("api_renew", "ask_end")


@pytest.mark.parametrize(("locale", "text", "key"), [
    ("fr", "bonjour", "Bonjour !"), ("en", "thanks a lot", "You're welcome"),
    ("ps", "ډېره مننه", "هرکله"), ("ar", "مرحبا", "مرحبًا!"), ("fa_AF", "تشکر", "خواهش"),
])
def test_small_talk_gets_a_fitting_answer(engine: Engine, locale: str, text: str, key: str
                                          ) -> None:
    c = Convo(engine)
    c.onboard(locale)
    before = c.offered
    turn = c.send(text)
    assert of_type(turn, InputRejected) == [InputRejected("small_talk")]
    assert key in texts(turn)[0]
    assert c.offered == before


def test_when_nothing_matches_the_closest_problems_and_a_person(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("fr")
    turn = c.send("j'ai un souci avec mon dossier sur le site")
    assert of_type(turn, InputRejected) == [InputRejected("closest")]
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("errors", "closest")
    problems = [i for i in c.offered if i not in ("other", "menu")]
    assert 1 <= len(problems) <= 3
    assert c.offered[-2:] == ["other", "menu"]
    c.tap("other")
    assert c.session.flow == "handoff"


def test_unrelated_chat_is_told_what_the_assistant_does(engine: Engine) -> None:
    c = Convo(engine)
    c.onboard("en")
    turn = c.send("where can I learn french for free")
    assert of_type(turn, InputRejected) == [InputRejected("off_topic")]
    assert "/human" in texts(turn)[0]


@pytest.mark.parametrize(("locale", "text"), [
    ("fr", "je n'arrive pas à me connecter au site de la CAF"),
    ("fa_AF", "کاف ای ماه APL مه ره کم داده"),
    ("ar", "الاوفبرا رفضت طلب اللجوء تبعي"),
])
def test_another_offices_trouble_is_told_what_the_assistant_does(engine: Engine, locale: str,
                                                                 text: str) -> None:
    # The CAF, its APL, OFPRA: not offered as the closest ANEF problems, nor asked about.
    c = Convo(engine)
    c.onboard(locale)
    turn = c.send(text)
    assert of_type(turn, InputRejected) == [InputRejected("off_topic")]


@pytest.mark.parametrize("secret", ["mon code est 482913", "کد من ۴۸۲۹۱۳ است",
                                    "رمز من Azerty123 است", "my password is Kabul1400!"])
def test_a_secret_in_a_sentence_is_refused_everywhere(engine: Engine, secret: str) -> None:
    for flow, state in [("menu", "main"), ("api_renew", "ask_end"), ("errors", "describe")]:
        c = Convo(engine, session=Session(user="test:u", flow=flow, state=state, locale="fr",
                                          consent=True, version=3))
        turn = c.send(secret)
        assert of_type(turn, InputRejected) == [InputRejected("secret")], (flow, state)
    # While a caseworker has the conversation, it is not relayed either.
    c = Convo(engine, session=Session(user="test:u", flow="menu", state="main", locale="fr",
                                      consent=True, case_open=True, version=3))
    turn = c.send(secret)
    assert of_type(turn, InputRejected) == [InputRejected("secret")]
    assert not of_type(turn, RelayedToCaseworker)


def test_a_first_message_with_a_secret_is_warned_in_its_language(engine: Engine) -> None:
    c = Convo(engine)
    turn = c.send("کد من ۴۸۲۹۱۳ است")
    assert InputRejected("secret") in of_type(turn, InputRejected)
    assert {m.locale for m in turn.messages} == {"fa_AF"}


def _telegram_start(language: str):  # type: ignore[no-untyped-def]
    from types import MappingProxyType

    from bot.core.model import Inbound

    return Inbound(user="test:u1", message_id="0", kind=InboundKind.TEXT, text="/start",
                   payload=MappingProxyType({"language": language}))


@pytest.mark.parametrize(("locale", "report"), FIRST_REPORTS[:3])
def test_words_outweigh_the_language_of_the_phone(engine: Engine, locale: str, report: str
                                                  ) -> None:
    # Telegram says the phone is in French: the greeting is guessed in French, but the person
    # writes in their language, and is answered in it.
    c = Convo(engine)
    c.session = engine.step(None, _telegram_start("fr"), NOW).session.evolve(version=1)
    assert c.session.locale == "fr"
    assert c.offered == ["keep", "change"]
    turn = c.send(report)
    assert of_type(turn, LocaleChanged) == [LocaleChanged(locale)]
    assert {m.locale for m in turn.messages} == {locale}
    assert _problem_offered(c)


def test_a_greeting_in_another_language_than_the_phones(engine: Engine) -> None:
    c = Convo(engine)
    c.session = engine.step(None, _telegram_start("fr"), NOW).session.evolve(version=1)
    turn = c.send("Hello")
    assert of_type(turn, LocaleChanged) == [LocaleChanged("en")]
    assert c.offered == ["keep", "change"]
    c.send("1")  # "Continue in English"
    assert c.offered == ["agree", "decline"]


def test_a_description_near_known_problems_gets_the_closest() -> None:
    # "Describe your problem": an answer near some problems, sure of none, is shown the
    # closest ("is it one of these?") rather than "try other words".
    from bot.core.flows.inputs import error_report
    from bot.core.flows.registry import TurnContext
    from bot.core.recognise import Candidate, Recognition

    found = Recognition("unknown", 0.2, (Candidate("login_loop", 0.2),
                                         Candidate("technical_error", 0.15)), unrelated=0.1)
    ctx = TurnContext(session=Session(user="u", flow="errors", state="describe", locale="ps"),
                      inbound=c_inbound("..."), now=NOW)
    ctx.recognise = lambda _: found
    ctx.near = lambda _: True
    assert error_report(ctx, "...", None) == "closest"
    assert ctx.session.scratch["candidates"] == "login_loop,technical_error"
    ctx.near = lambda _: False
    assert error_report(ctx, "...", None) is None
    assert ctx.input_problem == "unknown"


@pytest.mark.parametrize(("locale", "vague"), [
    ("fa_AF", "مشکل با درخواستم در آنف"), ("ar", "عندي مشكلة بالطلب على الانيف"),
    ("fr", "j'ai un problème avec mon récépissé"),
])
def test_a_vague_report_is_asked_to_say_more(engine: Engine, locale: str, vague: str) -> None:
    c = Convo(engine)
    c.onboard(locale)
    turn = c.send(vague)
    assert of_type(turn, InputRejected) == [InputRejected("vague")]
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("errors", "describe")
    # As a first message, too: answered in its language, and asked to say more.
    c = Convo(engine)
    turn = c.send(vague)
    assert of_type(turn, LocaleChanged) == [LocaleChanged(locale)]
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("errors", "describe")


@pytest.mark.parametrize(("locale", "asked"), [
    ("fr", "montre moi le menu"), ("en", "show me the menu please"),
    ("fa_AF", "منو ره نشان بته"), ("ps", "مینو راته وښیه"), ("ar", "ورّيني القائمة"),
])
def test_asking_for_the_menu_in_a_sentence(engine: Engine, locale: str, asked: str) -> None:
    c = Convo(engine, session=Session(user="test:u", flow="api_renew", state="ask_end",
                                      locale=locale, consent=True, version=3))
    turn = c.send(asked)
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("menu", "main")
    assert {m.locale for m in turn.messages} == {locale}


def test_the_menu_asked_as_a_first_message_comes_after_the_privacy_notice(engine: Engine
                                                                         ) -> None:
    c = Convo(engine)
    turn = c.send("منو ره نشان بته")
    assert of_type(turn, LocaleChanged) == [LocaleChanged("fa_AF")]
    assert c.offered[:2] == ["agree", "decline"]
    c.tap("agree")
    assert c.session is not None
    assert (c.session.flow, c.session.state) == ("menu", "main")
