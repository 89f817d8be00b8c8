"""`python -m bench [name ...] [--quick]`: run the named benchmarks (default: all) in turn.

Each benchmark is a module of this package with `run(argv) -> int`; register it in
BENCHMARKS (one line) and it runs with the others.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS: dict[str, str] = {
    "delivery": "bench.delivery",  # delivery engine: rate, ceiling, memory
    "polls": "bench.polls",  # consultations: tally of 100,000 ballots with breakdowns
    "handlers": "bench.handlers",  # the handler path beside a bare aiogram echo bot
    "solidarity": "bench.solidarity",  # an urgent alert overtaking an announcement
    "attention": "bench.attention",  # quiet hours over 24 zones: release delay, global rate
    "priorities": "bench.priorities",  # tally of 100,000 priority rankings with breakdowns
    "questionnaire": "bench.questionnaire",  # 10 questions × 10,000 respondents, breakdowns
    "scale": "bench.scale",  # 1 and 2 webhook processes on PostgreSQL + Redis vs SQLite
    "flood": "bench.flood",  # a 20-member notice while one person floods the bot
    "crashes": "bench.crashes",  # kill -9 and SIGTERM mid fan-out: lost and duplicates
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks named in argv (all if none); other arguments go to each of them."""
    args = list(sys.argv[1:] if argv is None else argv)
    if "-h" in args or "--help" in args:
        print(__doc__)
        print("benchmarks:", ", ".join(BENCHMARKS))
        return 0
    names = [a for a in args if a in BENCHMARKS] or list(BENCHMARKS)
    rest = [a for a in args if a not in BENCHMARKS]
    status = 0
    for name in names:
        print(f"=== {name} ===", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        status |= module.run(rest)
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
