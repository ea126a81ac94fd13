"""Loading the content from disk: flows, the command table and the compiled catalogs.

This is the edge of the pure core: it reads files and hands plain data to `bot.core`.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any

import yaml
from babel.messages.mofile import read_mo

from bot.core.commands import CommandTable, parse_commands
from bot.core.dates.office import OfficeHours
from bot.core.engine import Engine
from bot.core.exceptions import RelaisError
from bot.core.flows.definition import DefinitionError, FlowDef, parse_flow
from bot.core.flows.registry import REGISTRY, Registry
from bot.core.i18n import Catalog, Translation, Translator
from bot.core.ladder.contacts import Support
from bot.core.ladder.departements import parse_departements
from bot.core.ladder.letters import parse_letters
from bot.core.ladder.rules import Ladder, parse_ladder
from bot.core.model import LOCALES, SOURCE_LOCALE
from bot.core.problems import Catalogue, extend_errors_flow, parse_catalogue
from bot.core.recognise import EMPTY_LEXICON, Lexicon, Recogniser
from bot.core.reminders import ReminderPolicy

COMMANDS_FILE = "commands.yaml"
DOMAIN = "messages"


class ContentError(RelaisError):
    """The content on disk cannot be used. The message says what to fix."""


@dataclass(frozen=True)
class Content:
    flows: dict[str, FlowDef]
    commands: CommandTable
    catalogs: dict[str, Catalog]
    problems: Catalogue
    reports: dict[str, dict[str, list[str]]]  # problem -> locale -> example reports
    lexicon: Lexicon
    support: Support


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: Path) -> Any:
    try:
        # libyaml's safe loader when PyYAML has it: ten times faster, most of the start-up.
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506
    except yaml.YAMLError as exc:
        raise DefinitionError([f"{path}: not valid YAML: {exc}"]) from exc


def flow_files(flows_dir: Path) -> list[Path]:
    """The conversation flows: every YAML file at the top of the folder but the commands."""
    return sorted(p for p in flows_dir.glob("*.yaml") if p.name != COMMANDS_FILE)


def load_problems(flows_dir: Path) -> Catalogue:
    path = flows_dir / "knowledge" / "errors.yaml"
    return parse_catalogue(_yaml(path), "knowledge/errors.yaml")


def load_reports(flows_dir: Path) -> dict[str, dict[str, list[str]]]:
    """Example reports per problem and locale (knowledge/error_reports.yaml)."""
    path = flows_dir / "knowledge" / "error_reports.yaml"
    document = _yaml(path)
    reports = document.get("reports") if isinstance(document, dict) else None
    if not isinstance(reports, dict):
        raise DefinitionError(["knowledge/error_reports.yaml: expected `reports:`"])
    return {str(p): {str(loc): [str(t) for t in texts] for loc, texts in by_locale.items()}
            for p, by_locale in reports.items()}


def load_lexicon(flows_dir: Path) -> Lexicon:
    document = _yaml(flows_dir / "knowledge" / "concepts.yaml")
    concepts = document.get("concepts") if isinstance(document, dict) else None
    if not isinstance(concepts, dict):
        raise DefinitionError(["knowledge/concepts.yaml: expected `concepts:`"])
    return Lexicon.from_mapping({str(k): [str(w) for w in v] for k, v in concepts.items()})


def build_recogniser(problems: Catalogue, reports: dict[str, dict[str, list[str]]],
                     catalogs: dict[str, Catalog], lexicon: Lexicon | None = None
                     ) -> Recogniser:
    """Examples: the reports, plus each problem's title in every language (people often
    name their problem the way the button does)."""
    examples: dict[str, list[str]] = {}
    for label, by_locale in reports.items():
        examples[label] = [t for texts in by_locale.values() for t in texts]
    translator = Translator(catalogs)
    for known in problems.problems.values():
        titles = examples.setdefault(known.id, [])
        for locale in LOCALES:
            titles.append(translator.render(known.title, locale).text)
    return Recogniser(examples, problems.screens(), lexicon=lexicon or EMPTY_LEXICON)


def load_flows(flows_dir: Path) -> dict[str, FlowDef]:
    flows: dict[str, FlowDef] = {}
    problems: list[str] = []
    for path in flow_files(flows_dir):
        try:
            flow = parse_flow(_yaml(path), path.name)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        if flow.name in flows:
            problems.append(f"{path.name}: flow {flow.name!r} is defined twice")
        flows[flow.name] = flow
    if problems:
        raise DefinitionError(problems)
    if "errors" in flows:
        flows["errors"] = extend_errors_flow(flows["errors"], load_problems(flows_dir))
    return flows


def load_commands(flows_dir: Path) -> CommandTable:
    path = flows_dir / COMMANDS_FILE
    return parse_commands(_yaml(path), path.name)


def po_path(locales_dir: Path, locale: str) -> Path:
    return locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalogs(locales_dir: Path) -> dict[str, Catalog]:
    """Read the compiled catalogs. A catalog whose .mo is missing or older than its .po is an
    error: the running assistant would otherwise speak yesterday's texts."""
    catalogs: dict[str, Catalog] = {}
    for locale in LOCALES:
        if locale == SOURCE_LOCALE:
            continue
        po = po_path(locales_dir, locale)
        mo = po.with_suffix(".mo")
        if not po.is_file():
            raise ContentError(f"no catalog for {locale}: expected {po}")
        if not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime:
            raise ContentError(f"{mo} is missing or older than its .po: run `make install` "
                               "(it compiles the catalogs)")
        with mo.open("rb") as handle:
            catalog = read_mo(handle)
        messages: dict[tuple[str, str], Translation] = {}
        for message in catalog:
            if not message.id or not message.string:
                continue
            context = message.context or ""
            if isinstance(context, bytes):  # Babel's read_mo leaves the context undecoded
                context = context.decode(catalog.charset or "utf-8")
            if isinstance(message.id, str):
                messages[(context, message.id)] = str(message.string)
            else:
                messages[(context, message.id[0])] = tuple(message.string)
        catalogs[locale] = Catalog(messages, gettext.c2py(catalog.plural_expr))
    return catalogs


def load_ladder(flows_dir: Path) -> Ladder:
    return parse_ladder(_yaml(flows_dir / "knowledge" / "ladder.yaml"))


def load_support(flows_dir: Path) -> Support:
    """The support ladder, its French messages and the préfectures (flows/knowledge/)."""
    ladder = load_ladder(flows_dir)
    knowledge = flows_dir / "knowledge"
    return Support(ladder, parse_letters(_yaml(knowledge / "letters.yaml"), ladder.order),
                   parse_departements(_yaml(knowledge / "departements.yaml")))


def load_content(flows_dir: Path, locales_dir: Path) -> Content:
    return Content(load_flows(flows_dir), load_commands(flows_dir), load_catalogs(locales_dir),
                   load_problems(flows_dir), load_reports(flows_dir), load_lexicon(flows_dir),
                   load_support(flows_dir))


def build_engine(content: Content, retention_months: int, timezone: tzinfo,
                 registry: Registry = REGISTRY, policy: ReminderPolicy | None = None,
                 office: OfficeHours | None = None) -> Engine:
    recogniser = build_recogniser(content.problems, content.reports, content.catalogs,
                                  content.lexicon)
    return Engine(content.flows, content.commands, content.catalogs, registry=registry,
                  constants={"retention_months": str(retention_months)}, tz=timezone,
                  recogniser=recogniser, catalogue=content.problems, reminder_policy=policy,
                  support=content.support, office=office)


def load_sources(flows_dir: Path) -> dict[str, Any]:
    """The source keys flows may cite (flows/knowledge/sources.yaml)."""
    document = _yaml(flows_dir / "knowledge" / "sources.yaml")
    if not isinstance(document, dict) or not isinstance(document.get("sources"), dict):
        raise DefinitionError(["knowledge/sources.yaml: expected `sources:` mapping keys"])
    return dict(document["sources"])
