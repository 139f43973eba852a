"""Two revisions of wealthgate on the same machine and data, measured in alternation: is a change faster?

    .venv/bin/python bench/revisions.py BASE [OTHER]      # OTHER: the working tree when left out

This development VM drifts by 15-40 % within minutes (docs/performance.md), more than most changes are worth,
so a figure taken before a change and one taken after compare the VM's moods as much as the code. Here both
revisions serve at once, from their own source trees (`git worktree` of each revision given, on PYTHONPATH),
with the same database and book as `make bench` (bench/context.py: 10,000 clients x 20 positions), each
warmed to its cache's steady state. Then BENCH_ROUNDS rounds (default 6) of the context read, 32
connections, BENCH_SECONDS each (default 15), with the order swapped every round (A B, B A, ...) so a drift
in one direction favours neither. Each round's figures (req/s, p99, and CPU per request of the workers and of
PostgreSQL's backends, as bench/cpu_share.py counts them: both servers' workers are counted, the idle one's
flusher costing next to nothing) and the median of the rounds' OTHER/BASE ratios.

Both revisions run on the schema this checkout's CLI migrates the database to (it loads the book), so
compare revisions with the same migrations. Results: bench/results/revisions-<time>.json.
Comparing a revision with itself shows the method's own spread on the day (docs/performance.md).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

import context  # noqa: E402  (bench/, beside this file)
import cpu_share  # noqa: E402

from wealthgate.db.server import database_url  # noqa: E402
from wealthgate.settings import Settings  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
PORTS = (8781, 8782)


def revision_tree(stack: ExitStack, revision: str, where: Path) -> Path:
    """A detached worktree of `revision` at `where`, removed when `stack` closes."""
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(where), revision], check=True)
    stack.callback(
        subprocess.run, ["git", "-C", str(REPO), "worktree", "remove", "--force", str(where)], check=False
    )
    return where


def measured(wrk: str, lua: Path, base: str) -> dict[str, float]:
    """One wrk run against `base`, with the CPU per request of each process group during it."""
    before, started = cpu_share.cpu_seconds(), time.monotonic()
    output = context.measure(wrk, lua, base, connections=context.CONNECTIONS, warmup=0)
    spent, elapsed = cpu_share.used(before, cpu_share.cpu_seconds()), time.monotonic() - started
    figures = context.wrk_figures(output)
    rate = figures["requests_per_second"]
    for group, label in (("wealthgate worker", "worker_us"), ("postgres: postgres", "postgres_us")):
        figures[label] = 1e6 * spent[group] / elapsed / rate
    return figures


def main() -> None:
    if not 2 <= len(sys.argv) <= 3:
        sys.exit(__doc__)
    base_revision = sys.argv[1]
    other_revision = sys.argv[2] if len(sys.argv) == 3 else None
    wrk = context.ensure_wrk()
    workers = int(os.environ.get("BENCH_WORKERS", "0")) or os.cpu_count() or 2
    home = Path(os.environ.get("WEALTHGATE_HOME", REPO / ".bench-home"))
    names = (base_revision, other_revision or "working tree")
    with database_url(Settings(home=home)) as url, ExitStack() as stack:  # servers stop before the database
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wg-revisions-")))
        trees = (
            revision_tree(stack, base_revision, tmp / "a"),
            revision_tree(stack, other_revision, tmp / "b") if other_revision else REPO,
        )
        env = {**os.environ, "DATABASE_URL": url, "WEALTHGATE_HOME": str(home)}
        print(f"loading {context.CLIENTS} clients x {context.POSITIONS} positions...", flush=True)
        context.load_book(env)
        key = context.reader_key(env, firm=1)
        ids = context.synthetic_ids(url)
        lua = tmp / "context.lua"
        lua.write_text(context.lua_script(key, ids))
        bases = []
        for tree, port, name in zip(trees, PORTS, names, strict=True):
            served = {**env, "PYTHONPATH": str(tree / "src")}
            bases.append(stack.enter_context(context.serving(served, port, workers)))
            print(f"{name}: serving from {tree} on {port}", flush=True)
            context.warm_until_kept(wrk, lua, bases[-1], context.WARM_SHARE * len(ids) * workers)
        rounds: list[tuple[dict[str, float], dict[str, float]]] = []
        for n in range(ROUNDS):
            order = (0, 1) if n % 2 == 0 else (1, 0)
            got = {i: measured(wrk, lua, bases[i]) for i in order}
            rounds.append((got[0], got[1]))
            a, b = got[0], got[1]
            print(
                f"round {n + 1}: {names[0]} {a['requests_per_second']:.0f} req/s p99 {a['p99_ms']:.1f} ms"
                f" ({a['worker_us']:.0f} + {a['postgres_us']:.0f} µs);"
                f" {names[1]} {b['requests_per_second']:.0f} req/s p99 {b['p99_ms']:.1f} ms"
                f" ({b['worker_us']:.0f} + {b['postgres_us']:.0f} µs);"
                f" ratio {b['requests_per_second'] / a['requests_per_second']:.3f}",
                flush=True,
            )
    ratios = {
        figure: [b[figure] / a[figure] for a, b in rounds]
        for figure in ("requests_per_second", "p99_ms", "worker_us", "postgres_us")
    }
    medians = {figure: statistics.median(values) for figure, values in ratios.items()}
    print(
        f"{names[1]} / {names[0]}, median of {ROUNDS} rounds: req/s {medians['requests_per_second']:.3f}"
        f" (rounds {min(ratios['requests_per_second']):.3f}-{max(ratios['requests_per_second']):.3f}),"
        f" p99 {medians['p99_ms']:.3f}, worker CPU/request {medians['worker_us']:.3f},"
        f" PostgreSQL CPU/request {medians['postgres_us']:.3f}"
    )
    context.save_result(
        "revisions",
        {
            "when": datetime.now(UTC).isoformat(),
            "revisions": list(names),
            "rounds": [{"base": a, "other": b} for a, b in rounds],
            "median_ratios": medians,
        },
    )


if __name__ == "__main__":
    main()
