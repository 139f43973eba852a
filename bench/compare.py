"""`make bench`, last step: the context read at 1,000,000 clients against the same read at 10,000.

Target (issue 3): p99 at 1M clients within 1.5x of the 10k-client figure. Reads the newest
bench/results/context-*.json and context-1m-*.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def newest(pattern: str) -> dict[str, dict[str, float]]:
    found = sorted(RESULTS.glob(pattern))
    if not found:
        sys.exit(f"no {pattern} in {RESULTS}: run the context benches first")
    data: dict[str, dict[str, float]] = json.loads(found[-1].read_text())
    return data


def main() -> None:
    small, large = newest("context-2*.json"), newest("context-1m-*.json")
    p99_small, p99_large = small["http"]["p99_ms"], large["http"]["p99_ms"]
    ratio = p99_large / p99_small
    print(
        f"context p99: {p99_small:.1f} ms at {int(small['data']['clients']):,} clients,"
        f" {p99_large:.1f} ms at {int(large['data']['clients']):,} clients: {ratio:.2f}x"
        f" (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'});"
        f" req/s {small['http']['requests_per_second']:.0f} vs {large['http']['requests_per_second']:.0f}"
    )


if __name__ == "__main__":
    main()
