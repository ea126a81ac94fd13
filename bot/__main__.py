"""Command line: `python -m bot {run, setup, chat, simulate, classify, ladder, flows check,
flows graph FLOW, whatsapp templates, caseworker add|reset|list, org list|default, cases list,
db migrate|copy|backup}`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.content import ContentError
from bot.core.flows.definition import DefinitionError
from bot.settings import Settings, SettingsError

OWN_PARSERS = {
    "setup": "create the organisation and its first admin; make it the default organisation",
    "caseworker": "caseworker accounts: add, reset, list",
    "org": "organisations: list, default",
    "cases": "open cases: list",
    "db": "the database: migrate, copy SQLite to PostgreSQL, backup",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the server: Telegram, webhooks, sender and scheduler")
    # Parsed by their own modules (`python -m bot caseworker --help`); listed here for --help.
    for name, text in OWN_PARSERS.items():
        sub.add_parser(name, help=text, add_help=False)
    chat = sub.add_parser("chat", help="talk to the assistant in this terminal")
    chat.add_argument("--user", default="me", help="who you are (default: me)")
    sim = sub.add_parser("simulate", help="JSON lines in, JSON lines out (see bot/simulate.py)")
    sim.add_argument("--db", help="database to use and keep (default: a temporary one)")
    sim.add_argument("--now", help="initial clock, ISO-8601 (default: now)")
    classify = sub.add_parser("classify", help="which known ANEF problem a report matches")
    classify.add_argument("text", nargs="?", help="the report; '-' reads stdin")
    classify.add_argument("--image", help="a screenshot to read with OCR")
    classify.add_argument("--json", action="store_true", help="print JSON")
    classify.add_argument("--eval", dest="eval_file", help="a labelled JSONL set to measure")
    classify.add_argument("--half", choices=["dev", "test"],
                          help="with --eval: only even (dev) or odd (test) lines")
    classify.add_argument("--folds", type=int,
                          help="cross-validate the example reports in this many folds")
    ladder = sub.add_parser("ladder", help="the support ladder: the next step and when")
    ladder.add_argument("--now", required=True, help="today, YYYY-MM-DD")
    ladder.add_argument("--api-end", help="the API's end date, YYYY-MM-DD")
    ladder.add_argument("--api-said", choices=("expired", "soon", "later"),
                        help="without --api-end: the API has expired, ends within the urgency "
                             "threshold, or later (unknown: no step waits)")
    ladder.add_argument("--contact", action="append", default=[],
                        help="STEP:YYYY-MM-DD[:answered], repeatable")
    ladder.add_argument("--json", action="store_true", help="print JSON")
    whatsapp = sub.add_parser("whatsapp", help="WhatsApp: the reminder templates")
    whatsapp_sub = whatsapp.add_subparsers(dest="whatsapp_command", required=True)
    templates = whatsapp_sub.add_parser(
        "templates", help="write the reminder templates to submit to Meta, from the flows")
    templates.add_argument("--out", help="folder (default: WHATSAPP_TEMPLATES_DIR)")
    templates.add_argument("--check", action="store_true",
                           help="write nothing; exit 1 if the folder is out of date")
    flows = sub.add_parser("flows", help="check or draw the conversation flows")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True)
    flows_sub.add_parser("check", help="validate flows and translations")
    graph = flows_sub.add_parser("graph", help="print a Mermaid diagram of one flow")
    graph.add_argument("flow")
    return parser


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    if raw and raw[0] == "caseworker":  # its own parser: `python -m bot caseworker --help`
        from bot.caseworker_cli import main as caseworker_main
        return caseworker_main(raw[1:])
    if raw and raw[0] == "db":  # its own parser: `python -m bot db --help`
        from bot.db_cli import main as db_main
        return db_main(raw[1:])
    if raw and raw[0] in OWN_PARSERS:
        from bot.admin_cli import main as admin_main
        return admin_main(raw[0], raw[1:])
    args = _parser().parse_args(argv)
    try:
        level = Settings.load().log_level
        logging.basicConfig(level=level, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        # transitions logs every callback at INFO: noise, and it would name user states.
        logging.getLogger("transitions").setLevel(logging.WARNING)
        if args.command == "run":
            from bot.server import main as server_main
            return server_main()
        if args.command == "chat":
            from bot.chat import main as chat_main
            return chat_main(args.user)
        if args.command == "simulate":
            from bot.simulate import main as simulate_main
            return simulate_main(args.db, args.now)
        if args.command == "ladder":
            from bot.ladder_cli import main as ladder_main
            return ladder_main(args.now, args.api_end, args.contact, args.json,
                               args.api_said)
        if args.command == "whatsapp":
            return _whatsapp_templates(args.out, args.check)
        if args.command == "classify":
            from bot.classify import main as classify_main
            return classify_main(args.text, args.image, args.json, args.eval_file, args.half,
                                 args.folds)
        from bot.flowcheck import main_check, main_graph
        if args.flows_command == "check":
            return main_check()
        return main_graph(args.flow)
    except (SettingsError, ContentError) as exc:
        print(f"relais: {exc}", file=sys.stderr)
        return 2
    except DefinitionError as exc:
        print("relais: the flows have problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2


def _whatsapp_templates(out: str | None, check: bool) -> int:
    from pathlib import Path

    from bot.channels.whatsapp_generate import main as templates_main
    from bot.content import build_engine, load_content

    settings = Settings.load()
    engine = build_engine(load_content(settings.flows_dir, settings.locales_dir),
                          settings.retention_months, settings.timezone)
    folder = Path(out) if out else settings.whatsapp_templates_dir
    return templates_main(engine.speaker, folder, check)


if __name__ == "__main__":
    sys.exit(main())
