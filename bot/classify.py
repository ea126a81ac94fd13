"""`python -m bot classify`: which known ANEF problem a report matches, and how well the
recogniser does on a labelled set.

    python -m bot classify "mon API a expiré"            one report
    python -m bot classify - < report.txt                 from stdin
    python -m bot classify --image screenshot.png         a screenshot, through OCR
    python -m bot classify --eval tests/data/errors_eval.jsonl [--half dev|test]
    python -m bot classify --folds 5                      cross-validate the examples
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content import (
    build_recogniser,
    load_catalogs,
    load_commands,
    load_lexicon,
    load_problems,
    load_reports,
)
from bot.core.commands import CommandTable
from bot.core.model import LOCALES
from bot.core.recognise import UNKNOWN, Recogniser
from bot.ocr import read_image
from bot.settings import Settings


def recogniser(settings: Settings) -> Recogniser:
    return build_recogniser(load_problems(settings.flows_dir), load_reports(settings.flows_dir),
                            load_catalogs(settings.locales_dir), load_lexicon(settings.flows_dir))


@dataclass
class Tally:
    total: int = 0
    top1: int = 0
    top3: int = 0


@dataclass
class Evaluation:
    by_language: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    unrelated: int = 0
    false_alarms: int = 0
    commands: int = 0  # unrelated messages that called a command (the menu...)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, lang: str, expect: str, got: str, top3: list[str]) -> None:
        right = got == expect or (got == COMMAND and expect == UNKNOWN)
        for key in (lang, "all"):
            tally = self.by_language[key]
            tally.total += 1
            tally.top1 += right
            tally.top3 += right or (expect != UNKNOWN and expect in top3)
        if expect == UNKNOWN:
            self.unrelated += 1
            self.false_alarms += got not in (UNKNOWN, COMMAND)
            self.commands += got == COMMAND
        if not right:
            self.confusions[(expect, got)] += 1

    def report(self) -> dict[str, Any]:
        return {
            "languages": {k: {"n": t.total, "top1": round(t.top1 / t.total, 3),
                              "top3": round(t.top3 / t.total, 3)}
                          for k, t in sorted(self.by_language.items()) if t.total},
            "unrelated": self.unrelated,
            "false_alarm_rate": round(self.false_alarms / self.unrelated, 3)
            if self.unrelated else None,
            "commands": self.commands,
            "confusions": [{"expected": e, "got": g, "count": n}
                           for (e, g), n in self.confusions.most_common()],
        }


#: What a message that calls a command ("menu", "ورّيني القائمة") gets: the command, before
#: any recognition (as in the engine). It is not taken for a problem: right for unrelated
#: chat, a miss for a report.
COMMAND = "command"


def evaluate(model: Recogniser, path: Path, half: str | None,
             commands: CommandTable | None = None) -> Evaluation:
    """Top-1 per language on a labelled set. With the command table, each message first
    passes through it as in the engine, so a message the person sends to open the menu is
    scored as what they get (the menu), not as a recognition the engine never runs."""
    evaluation = Evaluation()
    for index, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        if (half == "dev" and index % 2 == 1) or (half == "test" and index % 2 == 0):
            continue
        item = json.loads(line)
        if commands is not None and commands.match(item["text"]) is not None:
            evaluation.add(item["lang"], item["expect"], COMMAND, [])
            continue
        found = model.recognise(item["text"])
        evaluation.add(item["lang"], item["expect"], found.error,
                       [c.error for c in found.candidates])
    return evaluation


def _print_evaluation(result: dict[str, Any]) -> None:
    print(f"{'language':<8} {'n':>4} {'top-1':>7} {'top-3':>7}")
    for lang in [*LOCALES, "all"]:
        row = result["languages"].get(lang)
        if row:
            print(f"{lang:<8} {row['n']:>4} {row['top1']:>7.1%} {row['top3']:>7.1%}")
    rate = result["false_alarm_rate"]
    print(f"unrelated messages: {result['unrelated']}, false alarms: "
          f"{'n/a' if rate is None else f'{rate:.1%}'}"
          f" ({result['commands']} called a command, as in the engine)")
    print("confusions (expected -> got):")
    for row in result["confusions"][:25]:
        print(f"  {row['count']:>3}  {row['expected']} -> {row['got']}")


def cross_validate(settings: Settings, folds: int) -> Evaluation:
    """Each example report recognised by a recogniser built without its fold: a measure that
    does not touch the evaluation sets, wide enough to compare two ways of scoring. An
    example's fold is its place in its language's list, so the translations of one report,
    written in the same order in every language, are held out together."""
    problems, reports = load_problems(settings.flows_dir), load_reports(settings.flows_dir)
    catalogs, lexicon = load_catalogs(settings.locales_dir), load_lexicon(settings.flows_dir)
    evaluation = Evaluation()
    for fold in range(folds):
        kept = {label: {locale: [t for i, t in enumerate(texts) if i % folds != fold]
                        for locale, texts in by_locale.items()}
                for label, by_locale in reports.items()}
        model = build_recogniser(problems, kept, catalogs, lexicon)
        for label, by_locale in reports.items():
            for locale, texts in by_locale.items():
                for text in texts[fold::folds]:
                    found = model.recognise(text)
                    evaluation.add(locale, label, found.error,
                                   [c.error for c in found.candidates])
    return evaluation


def main(text: str | None, image: str | None, as_json: bool, eval_file: str | None,
         half: str | None, folds: int | None = None) -> int:
    settings = Settings.load()
    if folds:
        result = cross_validate(settings, max(folds, 2)).report()
        if as_json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            _print_evaluation(result)
        return 0
    model = recogniser(settings)
    if eval_file:
        result = evaluate(model, Path(eval_file), half,
                          load_commands(settings.flows_dir)).report()
        if as_json:
            print(json.dumps(result, ensure_ascii=False, indent=2))
        else:
            _print_evaluation(result)
        return 0
    if image:
        screen = read_image(Path(image).read_bytes())
        if not screen.available:
            print("relais: tesseract is not installed here: type the message instead",
                  file=sys.stderr)
            return 2
        text = screen.text
    elif text == "-" or text is None:
        text = sys.stdin.read()
    found = model.recognise(text)
    if as_json:
        print(json.dumps(found.as_json(), ensure_ascii=False))
    else:
        others = ", ".join(f"{c.error} {c.score:.2f}" for c in found.candidates[1:])
        print(f"{found.error} ({found.score:.2f})" + (f"; also: {others}" if others else ""))
    return 0
