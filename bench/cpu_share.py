"""Where the machine's CPU goes per request while a wrk run loads a server already running.

    .venv/bin/python bench/cpu_share.py wrk -t2 -c32 -d15s --latency -s reads.lua http://127.0.0.1:8765

Reads every process's CPU time (user + system, from /proc via psutil) before and after the command, groups
the processes (wealthgate's workers, PostgreSQL's backends by kind, kernel threads, the rest by name) and
prints each group's share of a core and its CPU microseconds per request (the command's own `Requests/sec`).
The command itself (wrk) is not counted: it starts and ends between the two readings. Used for
docs/performance.md's "where a cached read's time goes".
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter

import psutil


def _group(process: psutil.Process) -> str:
    command = " ".join(process.cmdline())
    name: str = process.name()
    if "multiprocessing.spawn" in command:
        return "wealthgate worker"
    if name.startswith("postgres") or command.startswith("postgres"):
        kind = command.split(":", 1)[1].strip().split(" ")[0] if ":" in command else "postmaster"
        return f"postgres: {kind}"
    return name.split("/", maxsplit=1)[0] if name.startswith("kworker") else name


def cpu_seconds() -> dict[int, tuple[str, float]]:
    """Every process's group and CPU seconds (user + system) so far, by pid."""
    seconds: dict[int, tuple[str, float]] = {}
    for process in psutil.process_iter():
        try:
            times = process.cpu_times()
            seconds[process.pid] = (_group(process), times.user + times.system)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return seconds


def used(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> Counter[str]:
    """CPU seconds each group used between two readings, process by process: one that started meanwhile
    counts whole, one that exited meanwhile (a backend closing) is left out, never subtracted."""
    groups: Counter[str] = Counter()
    for pid, (group, seconds) in after.items():
        earlier = before.get(pid)
        groups[group] += seconds - (earlier[1] if earlier and earlier[0] == group else 0.0)
    return groups


def main() -> None:
    before, started = cpu_seconds(), time.monotonic()
    output = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout
    spent, elapsed = used(before, cpu_seconds()), time.monotonic() - started
    rate = next(float(line.split()[-1]) for line in output.splitlines() if line.startswith("Requests/sec"))
    print(output)
    print(f"{'process group':<28} {'% of a core':>12} {'µs per request':>16}")
    total = 0.0
    for group, seconds in spent.most_common():
        if seconds / elapsed < 0.005:
            continue
        total += seconds
        print(f"{group:<28} {100 * seconds / elapsed:>11.1f}% {1e6 * seconds / elapsed / rate:>16.1f}")
    print(f"{'all counted':<28} {100 * total / elapsed:>11.1f}% {1e6 * total / elapsed / rate:>16.1f}")


if __name__ == "__main__":
    main()
