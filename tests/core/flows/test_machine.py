"""Flows compiled to machines, on small flows written for the test: names, guards, inputs,
loops and bugs."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.commands import parse_commands
from bot.core.engine import Engine
from bot.core.events import FlowFailed, InputRejected
from bot.core.flows.definition import DefinitionError, parse_flow
from bot.core.flows.registry import REGISTRY, Registry, TurnContext
from bot.core.navigate import MAX_HOPS
from bot.core.text import ascii_digits
from tests.core.helpers import Convo, of_type, texts

EXTRA = Registry()


@EXTRA.action("explode")
def explode(ctx: TurnContext, _: str | None) -> None:
    raise ZeroDivisionError("a bug in an action")


@EXTRA.input("number")
def number(ctx: TurnContext, text: str, _: str | None) -> str | None:
    digits = ascii_digits(text.strip())
    return digits if digits.isdigit() else None


def t(key: str, text: str) -> dict[str, str]:
    return {"key": key, "text": text}


def _flows(extra_states: dict[str, Any] | None = None) -> dict[str, Any]:
    system_texts = {name: t(f"system.{name}", name) for name in (
        "not_understood", "stale_choice", "empty_message", "long_message", "only_symbols",
        "photo_unsupported", "photo_unreadable", "media_unsupported", "unknown_command",
        "apology", "step", "secret_received")}
    return {
        "onboarding": {"flow": "onboarding", "version": 1, "initial": "start", "states": {
            "start": {"next": [{"goto": "ask"}]},
            "ask": {"say": [t("onboarding.ask", "Un nombre ?")],
                    "input": {"parse": "number", "store": "n", "goto": "menu.main",
                              "invalid": t("onboarding.bad", "Pas un nombre.")}}}},
        "menu": {"flow": "menu", "version": 1, "initial": "main", "states": {
            "main": {"say": [t("menu.main", "Menu")], "choices": [
                {"id": "boom", "label": t("menu.boom", "Boum"), "do": "explode", "goto": "main"},
                {"id": "loop", "label": t("menu.loop", "Boucle"), "goto": "ping"},
                {"id": "secret", "label": t("menu.secret", "Secret"), "when": "has_consent",
                 "goto": "main"},
            ]},
            "ping": {"next": "pong"},
            "pong": {"next": "ping"},
            **(extra_states or {})}},
        "safety": {"flow": "safety", "version": 1,
                   "texts": {"pay": t("safety.payment_warning", "Gratuit.")}},
        "reminders": {"flow": "reminders", "version": 1, "texts": {
            name: t(f"reminders.{name}", name) for name in (
                "api_before", "api_today", "api_after", "card_opens", "card_reminder",
                "card_closing", "button_new_api", "button_new_card", "button_help",
                "button_stop")}},
        "system": {"flow": "system", "version": 1, "texts": system_texts, "initial": "x",
                   "states": {"x": {"say": [t("system.x", "x")], "next": "@resume"}}},
    }


COMMANDS = parse_commands({"version": 1, "commands": {"menu": {"goto": "menu.main"},
                                                      "start": {"goto": "onboarding.start",
                                                                "before_language": True}}},
                          "test")


def _engine(flows: dict[str, Any] | None = None, registry: Registry | None = None) -> Engine:
    parsed = {name: parse_flow(doc, name) for name, doc in (flows or _flows()).items()}
    return Engine(parsed, COMMANDS, {}, registry or REGISTRY.merged(EXTRA))


def _at_menu(engine: Engine, consent: bool | None = True) -> Convo:
    from bot.core.model import Session

    c = Convo(engine, session=Session(user="t:u", flow="onboarding", state="ask", locale="fr",
                                      consent=consent, version=1))
    c.send("12")
    return c


def test_an_input_state_parses_and_stores_with_consent_only() -> None:
    engine = _engine()
    c = _at_menu(engine, consent=True)
    assert c.session is not None
    assert dict(c.session.slots) == {"n": "12"}
    c = _at_menu(engine, consent=None)
    assert c.session is not None
    assert dict(c.session.slots) == {}
    assert c.session.state == "main"


def test_an_invalid_answer_says_so_and_stays() -> None:
    from bot.core.model import Session

    c = Convo(_engine(), session=Session(user="t:u", flow="onboarding", state="ask",
                                         locale="fr", version=1))
    turn = c.send("douze")
    assert of_type(turn, InputRejected) == [InputRejected("invalid_answer")]
    assert texts(turn) == ["Pas un nombre."]
    assert c.session is not None
    assert c.session.state == "ask"


def test_a_guarded_choice_is_hidden_and_refused_without_its_condition() -> None:
    engine = _engine()
    assert "secret" in _at_menu(engine, consent=True).offered
    c = _at_menu(engine, consent=False)
    assert "secret" not in c.offered
    turn = c.tap("secret")
    assert of_type(turn, InputRejected) == [InputRejected("stale_choice")]


def test_a_bug_in_an_action_becomes_an_apology_and_the_menu() -> None:
    c = _at_menu(_engine())
    turn = c.tap("boom")
    (failed,) = of_type(turn, FlowFailed)
    assert isinstance(failed, FlowFailed)
    assert "ZeroDivisionError" in failed.error
    assert texts(turn) == ["apology", "Menu"]
    assert c.session is not None
    assert c.session.state == "main"


def test_a_loop_is_bounded() -> None:
    c = _at_menu(_engine())
    turn = c.tap("loop")
    (failed,) = of_type(turn, FlowFailed)
    assert isinstance(failed, FlowFailed)
    assert f"more than {MAX_HOPS}" in failed.error
    assert texts(turn) == ["apology", "Menu"]


@pytest.mark.parametrize(
    ("state", "message"),
    [({"say": [t("menu.x", "x")], "next": "x", "enter": "no_such_action"},
      "unknown action 'no_such_action'"),
     ({"next": [{"when": "nope", "goto": "main"}, {"goto": "main"}]},
      "unknown condition 'nope'"),
     ({"say": [t("menu.x", "x")], "input": {"parse": "nope", "goto": "main",
                                            "invalid": t("menu.y", "y")}},
      "unknown input parser 'nope'"),
     ({"say": [t("menu.x", "x")], "choices": [{"id": "a", "raw": "A", "do": "set_locale",
                                               "goto": "main"}]},
      "action 'set_locale' needs an argument"),
     ({"say": [t("menu.x", "x")], "choices": [{"id": "a", "raw": "A", "goto": "gone"}]},
      "goto 'gone': no such state"),
     ({"say": [t("menu.x", "x")], "choices": [{"id": "a", "raw": "A", "goto": "x.gone"}]},
      "goto x.gone: no such flow state")],
)
def test_names_resolve_only_against_the_registries(state: dict[str, Any], message: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        _engine(_flows({"extra": state}))
    assert any(message in p for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(
    ("document", "message"),
    [({"flow": "f", "version": 2, "initial": "a", "states": {"a": {"end": True}}},
      "unknown flow spec version 2"),
     ({"flow": "f", "version": 1, "initial": "b", "states": {"a": {"end": True}}},
      "initial state 'b' is not defined"),
     ({"flow": "f", "version": 1, "initial": "a", "states": {"a": {"next": "a",
                                                                   "choices": [{"id": "x",
                                                                                "raw": "X"}]}}},
      "cannot be mixed"),
     ({"flow": "f", "version": 1, "initial": "a",
       "states": {"a": {"choices": [{"id": "Bad Id", "raw": "X"}]}}}, "must be short"),
     ({"flow": "f", "version": 1, "initial": "a",
       "states": {"a": {"say": [{"key": "nokey", "text": "x"}], "end": True}}},
      "must look like `flow.name`"),
     ({"flow": "f", "version": 1, "initial": "a",
       "states": {"a": {"next": [{"when": "x", "goto": "a"}]}}}, "must have no `when`")],
)
def test_malformed_flows_are_refused_with_the_place(document: dict[str, Any], message: str
                                                    ) -> None:
    with pytest.raises(DefinitionError) as caught:
        parse_flow(document, "f.yaml")
    assert any(message in p and p.startswith("f.yaml") for p in caught.value.problems), (
        caught.value.problems)
