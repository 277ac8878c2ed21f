"""Benchmark the what-if simulation: one simulated year for 10,000 citizens, timed.

Run from the repository root:

    python bench/simulate.py                                  # 10,000 citizens, 52 weeks, Borås's rules
    python bench/simulate.py --citizens 1000 --weeks 13       # a quick run
    python bench/simulate.py --municipality karlskrona --caseworkers 100 --json

Citizens arrive evenly over the weeks (citizens / weeks a week); by default one caseworker per 60
citizens of the year, each with Borås's 16 meetings a week (4 a day, 4 days; rules-se.md L12), which
keeps the caseload near what the caseworkers can take. The run drives the real use cases on a scratch
SQLite file in a temporary directory (see activation/simulation.py); the time covers the whole run
(migrating the scratch file, the simulation, judging the deadlines). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from activation import config
from activation.adapters.simulation import run_on_scratch
from activation.simulation import Capacity, Cohort, headline


def main() -> None:
    """Run one simulation at the requested size and print its timing and figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--municipality", default="boras")
    parser.add_argument("--caseworkers", type=int, default=None, help="default: one per 60 citizens")
    parser.add_argument("--meetings-per-week", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rules = config.load()
    per_week = max(1, round(args.citizens / args.weeks))
    caseworkers = args.caseworkers or max(1, round(args.citizens / 60))
    cohort = Cohort(arrivals_per_week=per_week, seed=args.seed)
    capacity = Capacity(caseworkers=caseworkers, meetings_per_week=args.meetings_per_week, days_per_week=4)
    started = time.perf_counter()
    week_times: list[float] = []

    def progress(week: int, total: int) -> None:
        week_times.append(time.perf_counter() - started)
        if week % 4 == 0 or week == total:
            print(f"week {week}/{total}: {week_times[-1]:.1f} s", file=sys.stderr, flush=True)

    result = run_on_scratch(rules, args.municipality, None, date(2026, 9, 7), args.weeks, cohort, capacity, progress)
    elapsed = time.perf_counter() - started
    figures = {
        "municipality": result.municipality,
        "version": result.version,
        "citizens": result.counts["applications"],
        "weeks": args.weeks,
        "caseworkers": caseworkers,
        "seconds": round(elapsed, 1),
        "seconds_per_simulated_week": round(elapsed / args.weeks, 2),
        "last_week_seconds": round(week_times[-1] - week_times[-2], 2) if len(week_times) > 1 else None,
        "todos_done": result.counts["todos_done"],
        "todos_done_per_second": round(result.counts["todos_done"] / elapsed, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "headline": headline(result),
        "met_share": {k: None if v.share is None else round(v.share, 3) for k, v in result.deadlines.items()},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['citizens']} citizens, {args.weeks} weeks, {caseworkers} caseworkers, {result.version}")
    print(f"time: {elapsed:.1f} s ({figures['seconds_per_simulated_week']} s per simulated week)")
    print(f"to-dos done: {figures['todos_done']} ({figures['todos_done_per_second']} a second)")
    for key, value in figures["headline"].items():
        print(f"  {key.replace('_', ' ')}: {value}")
    for key, share in figures["met_share"].items():
        print(f"  met share {key}: {'-' if share is None else f'{share * 100:.0f} %'}")
    print(f"machine: {figures['machine']}")


if __name__ == "__main__":
    main()
