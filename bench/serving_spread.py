"""How connections spread over two workers: wealthgate's socket per worker against uvicorn's shared socket.

    .venv/bin/python bench/serving_spread.py wealthgate|uvicorn [--port 38751] [--wrk]

Starts the server on the database of WEALTHGATE_HOME/DATABASE_URL (load a book first: `wealthgate demo-data
--clients 20`), then either opens 32 connections at once five times (a client pool opening) or, with --wrk,
runs `wrk -t2 -c32 -d10s` on the context read with the key in WEALTHGATE_API_KEY; each time it counts every
worker's ESTABLISHED connections. The figures are in docs/serving.md.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil

# One key drives the whole load: the per-key limits (docs/limits.md) would answer 429 and the bench would
# measure refusals. The limiter still runs on every request, at a rate it never refuses.
os.environ.setdefault("WEALTHGATE_RATE_LIMIT_READ", "1000000/second")
os.environ.setdefault("WEALTHGATE_RATE_LIMIT_WRITE", "1000000/second")

BIN = Path(sys.executable).parent


def command(mode: str, port: int) -> list[str]:
    if mode == "wealthgate":
        return [str(BIN / "wealthgate"), "serve", "--port", str(port), "--workers", "2", "--no-access-log"]
    return [
        *(str(BIN / "uvicorn"), "--factory", "wealthgate.api.app:create_app", "--port", str(port)),
        *("--workers", "2", "--no-access-log", "--log-level", "warning"),
    ]


def per_worker(parent: int, port: int) -> list[int]:
    counts = []
    for child in psutil.Process(parent).children(recursive=True):
        n = sum(
            1
            for c in child.net_connections("tcp")
            if c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED
        )
        if n:
            counts.append(n)
    return sorted(counts, reverse=True)


def bursts(parent: int, port: int) -> list[list[int]]:
    rounds = []
    for _ in range(5):
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        time.sleep(1)  # let the workers accept
        rounds.append(per_worker(parent, port))
        for c in conns:
            c.close()
        time.sleep(1)
    return rounds


def under_wrk(parent: int, port: int) -> tuple[list[int], str]:
    key = os.environ["WEALTHGATE_API_KEY"]
    seen: list[int] = []

    def sample() -> None:
        time.sleep(5)
        seen.extend(per_worker(parent, port))

    sampler = threading.Thread(target=sample)
    sampler.start()
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c32",
            "-d10s",
            "-H",
            f"X-API-Key: {key}",
            f"http://127.0.0.1:{port}/clients/1/context",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sampler.join()
    rate = next(line for line in out.splitlines() if "Requests/sec" in line)
    return seen, rate.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["wealthgate", "uvicorn"])
    parser.add_argument("--port", type=int, default=38751)
    parser.add_argument("--wrk", action="store_true")
    args = parser.parse_args()
    env = {**os.environ, "WEALTHGATE_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(command(args.mode, args.port), env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{args.port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        time.sleep(3)  # both workers through their start-up
        if args.wrk:
            print(args.mode, *under_wrk(proc.pid, args.port))
        else:
            print(args.mode, bursts(proc.pid, args.port))
    finally:
        proc.terminate()
        proc.wait(60)


if __name__ == "__main__":
    main()
