"""`python -m bot flows check` and `python -m bot flows graph FLOW`."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from bot.content import load_commands, load_flows, load_sources, po_path
from bot.core.engine import Engine
from bot.core.flows.check import (
    Report,
    check_graph,
    check_keys,
    check_lengths,
    check_reviews,
    check_sources,
    check_translations,
    mermaid,
)
from bot.core.flows.definition import DefinitionError
from bot.core.model import LOCALES, SOURCE_LOCALE
from bot.core.understand import ENTRY_POINTS
from bot.settings import Settings


def read_entries(path: Path) -> dict[tuple[str, str], tuple[tuple[str, ...], bool]]:
    """(context, msgid) -> (the translation's forms, fuzzy); one form unless plural."""
    with path.open("rb") as handle:
        catalog = read_po(handle)
    entries = {}
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        string = message.string
        forms = (string,) if isinstance(string, str) else tuple(string or ("",))
        entries[(message.context or "", msgid)] = (tuple(f or "" for f in forms), message.fuzzy)
    return entries


def check(flows_dir: Path, locales_dir: Path, today: date) -> Report:
    report = Report()
    try:
        flows = load_flows(flows_dir)
        commands = load_commands(flows_dir)
        Engine(flows, commands, {})  # resolves every name against the registries
    except DefinitionError as exc:
        report.problems.extend(exc.problems)
        return report
    entry_points = [(t.flow or "", t.state) for t in ENTRY_POINTS]
    check_graph(flows, commands, entry_points, report)
    texts = [t for f in flows.values() for t in f.texts()]
    check_keys(texts, report)
    check_lengths(texts, report)
    try:
        check_sources(flows, load_sources(flows_dir), report)
    except DefinitionError as exc:
        report.problems.extend(exc.problems)
    for locale in LOCALES:
        if locale == SOURCE_LOCALE:
            continue
        path = po_path(locales_dir, locale)
        if not path.is_file():
            report.problems.append(f"{locale}: no catalog at {path}")
            continue
        check_translations(texts, locale, read_entries(path), report)
    check_reviews(flows, today, report)
    return report


def main_check() -> int:
    settings = Settings.load()
    report = check(settings.flows_dir, settings.locales_dir, datetime.now(UTC).date())
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    if report.ok:
        print(f"flows check: OK ({len(report.warnings)} warnings)")
        return 0
    print(f"flows check: {len(report.problems)} problems", file=sys.stderr)
    return 1


def main_graph(name: str) -> int:
    settings = Settings.load()
    flows = load_flows(settings.flows_dir)
    if name not in flows:
        print(f"no flow {name!r}; flows: {', '.join(sorted(flows))}", file=sys.stderr)
        return 2
    sys.stdout.write(mermaid(flows[name]))
    return 0
