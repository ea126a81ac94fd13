"""The French case summary a caseworker reads first when a conversation is handed over.

Built only from what the user chose to tell (their slots, kept with consent) and what the
assistant recognised; a fact not given is written "non indiqué", never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from bot.core.dates.written import days_between, french
from bot.core.ladder.contacts import SLOT, parse_contacts, session_advice
from bot.core.ladder.letters import Letters
from bot.core.ladder.rules import Advice, Ladder
from bot.core.model import Session

LANGUAGES = {"fr": "français", "fa_AF": "dari", "ps": "pachto", "ar": "arabe", "en": "anglais"}
STATUSES = {"refugee": "réfugié(e)", "subsidiary": "protection subsidiaire",
            "stateless": "apatride"}
REQUESTS = {"first": "première carte après la protection", "renewal": "renouvellement de carte",
            "unknown": "ne sait pas"}
#: Why the person was handed over, by reason code (bot.core.flows.actions.request_caseworker).
REASONS = {"user_request": "la personne a demandé à parler à quelqu'un"}
#: The case's title when nothing more precise is known, by reason code: never the raw code.
REASON_TITLES = {"user_request": "Demande à parler à une personne"}
GENERIC_TITLE = "Demande d'aide"
#: The summary's first line names the case; the inbox shows it as the case's title.
TITLE_LINE = "Objet : "
NOT_GIVEN = "non indiqué"
#: How many days before the API ends a case is marked urgent (as the ladder's urgency).
URGENT_DAYS = 15


@dataclass(frozen=True)
class CaseFacts:
    """What the summary needs besides the session: the ladder and the French names."""

    letters: Letters
    problem_titles: Mapping[str, str]  # problem id -> French title
    flow_names: Mapping[str, str]  # flow -> where the person was, in French
    departements: Mapping[str, str]  # code -> "Alpes-Maritimes (06)"


def problems_of(session: Session) -> list[tuple[str, str]]:
    """(problem id, ISO date) of the problems recognised and kept (slot `problems`)."""
    raw = session.slots.get("problems")
    return [(p, d) for p, d in json.loads(raw)] if raw else []


def summarise(session: Session, today: date, reason: str, facts: CaseFacts,
              advice: Advice | None, where: str | None) -> str:
    slots = session.slots
    lines = [TITLE_LINE + case_title(session, reason, facts, where),
             "Résumé préparé par Relais à partir de ce que la personne a indiqué.",
             f"Motif : {REASONS.get(reason, reason)}"
             + (f" (depuis : {facts.flow_names.get(where, where)})" if where else "") + ".",
             f"Langue : {LANGUAGES.get(session.locale or 'fr', session.locale)}"
             " (les réponses prêtes sont traduites ; un message libre est envoyé en français).",
             f"Statut de protection : {STATUSES.get(slots.get('status', ''), NOT_GIVEN)}",
             f"Demande : {REQUESTS.get(slots.get('request', ''), NOT_GIVEN)}",
             f"Département : {facts.departements.get(slots.get('departement', ''), NOT_GIVEN)}",
             f"API : {_end(slots.get('api_end'), today, 'expirée')}"
             + _api_said(slots.get("api_said") if not slots.get("api_end") else None),
             f"Carte de séjour : {_end(slots.get('card_end'), today, 'expirée')}"]
    problems = problems_of(session)
    lines.append("Problèmes reconnus :" if problems else f"Problèmes reconnus : {NOT_GIVEN}")
    for problem, day in problems:
        title = facts.problem_titles.get(problem, problem)
        lines.append(f"- {title} (le {french(date.fromisoformat(day))})")
    contacts = parse_contacts(slots.get(SLOT))
    lines.append("Démarches faites :" if contacts else f"Démarches faites : {NOT_GIVEN}")
    for contact, ref in ((r.contact, r.reference) for r in contacts):
        outcome = facts.letters.answered if contact.answered else facts.letters.unanswered
        lines.append(f"- {facts.letters.steps.get(contact.step, contact.step)}, "
                     f"le {french(contact.on)} ({outcome})" + (f", réf. {ref}" if ref else ""))
    if advice is not None:
        lines.append(_next(advice, facts.letters, today))
    if session.consent is not True:
        lines.append("La personne n'a pas accepté que Relais garde ses dates : "
                     "seuls les messages à partir de maintenant sont transmis.")
    return "\n".join(lines)


def case_title(session: Session, reason: str, facts: CaseFacts, where: str | None) -> str:
    """In French, what the case is about: the latest problem recognised, else where the person
    was when they asked, else the reason."""
    problems = problems_of(session)
    if problems:
        problem = problems[-1][0]
        return facts.problem_titles.get(problem, GENERIC_TITLE)
    if where and where in facts.flow_names:
        return f"Aide demandée depuis « {facts.flow_names[where]} »"
    return REASON_TITLES.get(reason, GENERIC_TITLE)


def title_of(summary: str, reason: str) -> str:
    """A case's title from its summary's first line (older summaries have none)."""
    first = summary.split("\n", 1)[0]
    if first.startswith(TITLE_LINE) and first[len(TITLE_LINE):].strip():
        return first[len(TITLE_LINE):].strip()
    return REASON_TITLES.get(reason, GENERIC_TITLE)


#: What the person said of their API when they had no date (bot.core.ladder.contacts, `api_said`).
API_SAID = {"expired": "expirée", "soon": "finit dans moins de 15 jours",
            "later": "finit dans plus de 15 jours"}


def _api_said(raw: str | None) -> str:
    said, _, day = (raw or "").partition(" ")
    if said not in API_SAID or not day:
        return ""
    return f" (la personne a dit le {french(date.fromisoformat(day))} : {API_SAID[said]})"


def _end(value: str | None, today: date, past: str) -> str:
    if not value:
        return NOT_GIVEN
    end = date.fromisoformat(value)
    days = days_between(today, end)
    if days < 0:
        return f"fin le {french(end)} ({past} depuis {-days} jour{'s' if -days > 1 else ''})"
    if days == 0:
        return f"fin le {french(end)} (aujourd'hui)"
    urgent = " — URGENT" if days <= URGENT_DAYS else ""
    return f"fin le {french(end)} (dans {days} jour{'s' if days > 1 else ''}){urgent}"


def _next(advice: Advice, letters: Letters, today: date) -> str:
    if advice.next is None:
        text = "Prochaine étape : toutes les étapes ont été essayées"
    else:
        step = letters.steps.get(advice.next, advice.next)
        when = ("ouverte maintenant" if advice.open_from is None or advice.open_from <= today
                else f"ouverte le {french(advice.open_from)}")
        text = f"Prochaine étape : {step}, {when}"
    if advice.appointment_open_from is not None:
        text += (f" ; rendez-vous préfecture (solution de substitution) possible à partir du "
                 f"{french(advice.appointment_open_from)}")
    return text + ("." if not advice.urgent else " (urgent).")


def ladder_advice(session: Session, today: date, ladder: Ladder) -> Advice:
    """The ladder's advice from the kept contacts (as the conversation computes it)."""
    return session_advice(ladder, session, today)
