"""`python -m bench`: run every benchmark and print its figures."""

from __future__ import annotations

import importlib

# One module per area; each has a `main()` that prints its own figures.
BENCHMARKS = [
    "bench.polls",
]


def main() -> None:
    """Run the benchmarks in turn."""
    for name in BENCHMARKS:
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
