"""The French gloss of a message, for the caseworker: built from the session before and after
the turn and the turn's events, never a translation of free text (marked "non traduit")."""

from __future__ import annotations

from types import MappingProxyType

from bot.core.events import ProblemRecognised, RelayedToCaseworker
from bot.core.gloss import UNTRANSLATED, Gloss
from bot.core.model import Choice, Inbound, InboundKind, Session

GLOSS = Gloss(button_labels={("ladder", "overview", "ccc"): "J'ai appelé le CCC"},
              any_labels={"yes": "Oui"},
              problem_titles={"phone_rejected": "Numéro de téléphone étranger refusé"},
              departements={"06": "Alpes-Maritimes (06)"})
DARI = "لطفا کمکم کنید"


def _session(locale: str = "fa_AF", scratch: dict[str, str] | None = None,
             **slots: str) -> Session:
    return Session(user="test:g", flow="ladder", state="overview", locale=locale,
                   consent=True, slots=MappingProxyType(slots),
                   scratch=MappingProxyType(scratch or {}))


def _text(text: str) -> Inbound:
    return Inbound.text_message("test:g", "1", text)


def test_a_tapped_button_is_named_by_its_french_label_in_the_state_it_was_offered() -> None:
    before = _session()
    tap = Inbound.choice_tap("test:g", "1", "ccc")
    assert GLOSS.notes(before, tap, before, (), Choice("ccc", "زنګ")) == (
        "bouton « J'ai appelé le CCC »")
    # Offered elsewhere: the label any state gives the id.
    assert GLOSS.notes(before, tap, before, (), Choice("yes", "هو")) == "bouton « Oui »"


def test_dates_and_departement_typed_are_normalised_when_they_change() -> None:
    before = _session(api_end="2026-11-30")
    after = _session(api_end="2027-02-28", card_end="2026-10-01", departement="06")
    assert GLOSS.notes(before, _text("28 2 2027"), after, (), None).splitlines() == [
        "Date de fin de l'API : 28/02/2027",
        "Date de fin de la carte de séjour : 01/10/2026",
        "département : Alpes-Maritimes (06)",
    ]
    # Unchanged: nothing to say about it.
    assert GLOSS.notes(after, _text("06"), after, (), None) == ""


def test_a_problem_confirmed_or_only_offered_is_named_by_its_french_title() -> None:
    before = _session()
    confirmed = GLOSS.notes(before, _text("ok"), before,
                            (ProblemRecognised(error="phone_rejected"),), None)
    assert confirmed == "problème confirmé : Numéro de téléphone étranger refusé"
    offered = _session(scratch={"diagnosis": "phone_rejected"})
    assert GLOSS.notes(before, _text("mon numéro"), offered, (), None) == (
        "problème reconnu, à confirmer : Numéro de téléphone étranger refusé")
    # Offered already before this message: not repeated.
    assert GLOSS.notes(offered, _text("?"), offered, (), None) == ""


def test_free_text_in_arabic_script_is_marked_untranslated_french_is_not() -> None:
    before = _session()
    assert GLOSS.notes(before, _text(DARI), before, (), None) == UNTRANSLATED
    french = _session(locale="fr")
    assert GLOSS.notes(french, _text("je suis perdu"), french, (), None) == ""
    # Relayed to a caseworker from a Dari session, even in Latin letters: not translated.
    relayed = (RelayedToCaseworker(),)
    assert GLOSS.notes(before, _text("salam"), before, relayed, None) == UNTRANSLATED
    assert GLOSS.notes(french, _text("bonjour"), french, relayed, None) == ""
    # A photo's caption counts as typed; a sticker does not.
    photo = Inbound(user="test:g", message_id="2", kind=InboundKind.PHOTO, text=DARI)
    assert GLOSS.notes(before, photo, before, (), None) == UNTRANSLATED
    sticker = Inbound(user="test:g", message_id="3", kind=InboundKind.MEDIA, text=DARI)
    assert GLOSS.notes(before, sticker, before, (), None) == ""
