"""How long the recogniser takes to classify one typed report, on this machine.

    .venv/bin/python benchmarks/classify_speed.py [--rounds 5]

Classifies every report of the evaluation set several times and prints the median, the 90th
and 99th percentiles and the slowest, in milliseconds; also the time to build the recogniser
(done once at start-up). Target: a median under 2 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bot.classify import recogniser
from bot.settings import ROOT, Settings

EVAL = ROOT / "tests" / "data" / "errors_eval.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    started = time.perf_counter()
    model = recogniser(Settings.load())
    built = time.perf_counter() - started
    texts = [json.loads(line)["text"] for line in EVAL.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    timings = []
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter()
            model._recognise(text)  # uncached: `recognise` remembers texts already seen
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(f"reports: {len(texts)} x {args.rounds} rounds; recogniser built in "
          f"{built * 1000:.0f} ms")
    print(f"median {statistics.median(timings):.3f} ms, p90 {q[89]:.3f} ms, "
          f"p99 {q[98]:.3f} ms, max {timings[-1]:.3f} ms (target: median < 2 ms)")


if __name__ == "__main__":
    main()
