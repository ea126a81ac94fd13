"""The observatory's figures as the page, the CSV and the monthly report show them.

The small-cell rule: every count of fewer than 5 people (or cases) is shown as "< 5", and a
median or a share is shown only when it rests on at least 5 people (a share also needs 5 on
each side, so that no small group can be worked out by subtraction).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bot.storage.observations import RawFigures

SMALL = 5
HIDDEN = "< 5"

OUTCOMES = {"solved": "Réglé", "redirected": "Orienté ailleurs",
            "no_answer": "Sans réponse de la personne"}

#: What is counted and how, as the page and the report say it.
METHOD = (
    "Ces chiffres viennent de ce que les personnes ont signalé à l'assistant, avec leur "
    "accord : problèmes ANEF reconnus, contacts notés (CCC, préfecture, rendez-vous, Défenseur "
    "des droits, tribunal) et s'ils ont répondu, dates de fin d'API successives, département. "
    "Ils sont tirés des événements de la conversation, jamais des messages écrits.",
    "Chaque case compte des personnes distinctes (une personne qui signale deux fois le même "
    "mois compte une fois), sauf les dossiers clos, comptés par dossier. Toute case de moins "
    "de 5 est affichée « < 5 » ; une médiane ou une part n'est donnée qu'à partir de 5 "
    "personnes.",
    "Délai CCC : jours entre le premier contact avec le Centre de contact citoyens et le jour "
    "où la personne a noté une réponse. Jours sans document valable : entre la fin de "
    "l'ancienne API et le jour où la personne a donné la date de la nouvelle (un maximum).",
    "API de moins de 6 mois : parmi les personnes protégées (réfugié, protection subsidiaire) "
    "qui demandent leur première carte, et dont on a vu une API renouvelée (deux dates de fin "
    "successives) ou qui ont signalé une API de 3 mois, celles dont l'API renouvelée dure moins "
    "de 181 jours ou qui l'ont signalée ; la loi prévoit 6 mois (R. 431-15-3/-4 CESEDA).",
    "Une personne qui efface ses données (/delete) disparaît des chiffres suivants.",
)


def cell(count: int) -> str:
    return HIDDEN if count < SMALL else str(count)


@dataclass(frozen=True)
class Row:
    label: str
    count: int

    @property
    def shown(self) -> str:
        return cell(self.count)

    @property
    def hidden(self) -> bool:
        return self.count < SMALL


@dataclass(frozen=True)
class Figures:
    period: str
    people: Row
    by_week: tuple[Row, ...]
    by_departement: tuple[Row, ...]
    by_problem: tuple[Row, ...]
    ccc_people: Row
    ccc_median: str
    gap_people: Row
    gap_median: str
    short_total: Row
    short_count: Row
    short_share: str
    beyond_prefecture: Row
    outcomes: tuple[Row, ...]

    def table(self) -> list[tuple[str, str, str]]:
        """Every figure as (section, label, value): the CSV and the report."""
        out = [("Ensemble", "Personnes ayant signalé au moins un fait", self.people.shown)]
        out += [("Problèmes par semaine", f"Semaine du {r.label}", r.shown) for r in self.by_week]
        out += [("Problèmes par département", r.label, r.shown) for r in self.by_departement]
        out += [("Problèmes par type", r.label, r.shown) for r in self.by_problem]
        out += [("Délai de réponse du CCC", "Personnes ayant noté une réponse",
                 self.ccc_people.shown),
                ("Délai de réponse du CCC", "Médiane (jours)", self.ccc_median),
                ("Jours sans document valable", "Personnes", self.gap_people.shown),
                ("Jours sans document valable", "Médiane (jours)", self.gap_median),
                ("API renouvelées des personnes protégées", "Personnes", self.short_total.shown),
                ("API renouvelées des personnes protégées", "Dont moins de 6 mois",
                 self.short_count.shown),
                ("API renouvelées des personnes protégées", "Part de moins de 6 mois",
                 self.short_share),
                ("Au-delà de la préfecture", "Personnes (rendez-vous, Défenseur des droits, "
                 "tribunal)", self.beyond_prefecture.shown)]
        out += [("Dossiers clos par issue", r.label, r.shown) for r in self.outcomes]
        return out


def _median(values: Sequence[int]) -> str:
    if len(values) < SMALL:
        return "non affichée (moins de 5 personnes)"
    return f"{statistics.median(values):g}"


def figures(raw: RawFigures, departements: dict[str, str], problems: dict[str, str],
            period: str) -> Figures:
    """`departements`: code -> "Name (code)"; `problems`: id -> French title."""
    total, short = raw.protected_renewed, raw.protected_short
    share = "non affichée (moins de 5 personnes d'un côté)"
    if short >= SMALL and total - short >= SMALL:
        share = f"{round(100 * short / total)} %"
    return Figures(
        period=period,
        people=Row("", raw.people),
        by_week=tuple(Row(_monday(w), n) for w, n in raw.problems_by_week),
        by_departement=tuple(Row(departements.get(code, "Non indiqué"), n)
                             for code, n in raw.problems_by_departement),
        by_problem=tuple(Row(problems.get(pid, pid), n) for pid, n in raw.problems_by_kind),
        ccc_people=Row("", len(raw.ccc_answer_days)), ccc_median=_median(raw.ccc_answer_days),
        gap_people=Row("", len(raw.without_document_days)),
        gap_median=_median(raw.without_document_days),
        short_total=Row("", total), short_count=Row("", short), short_share=share,
        beyond_prefecture=Row("", raw.beyond_prefecture),
        outcomes=tuple(Row(OUTCOMES.get(o, o), n) for o, n in raw.outcomes))


def _monday(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{day}/{month}/{year}"
