"""The guide's own service, run beside wealthgate in the same bench run, on data of the same size.

It lives outside this repository (`../shared/baseline-guide/`, or BENCH_GUIDE_DIR) and is run from there,
never copied in: its own embedded PostgreSQL in a temporary directory, its tables created by importing
`main.py`, its `load.py` (N clients x H holdings, with the index the guide lacks), then `uvicorn main:app`
with one worker, as the guide runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from wealthgate.db.embedded import EmbeddedPostgres

REPO = Path(__file__).resolve().parent.parent
GUIDE_DIR = Path(os.environ.get("BENCH_GUIDE_DIR", REPO.parent / "shared" / "baseline-guide"))


def wait_until_answers(url: str, tries: int = 300) -> None:
    """Poll `url` until it answers 200 (a server starting up), for up to about `tries` tenths of a second."""
    for _ in range(tries):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def available() -> bool:
    return (GUIDE_DIR / "main.py").exists() and (GUIDE_DIR / "load.py").exists()


@contextmanager
def guide_service(clients: int, holdings: int, port: int = 8100) -> Iterator[str]:
    """The guide's service on `port`, loaded with `clients` x `holdings`; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="wg-guide-") as tmp:
        # as root, the embedded server runs as `pgserver`, which must reach its directory
        os.chmod(tmp, 0o755)  # noqa: S103 -- a temporary directory holding only the bench's throwaway database
        pg = EmbeddedPostgres(Path(tmp) / "pgdata", cleanup_mode="delete")
        try:
            plain = pg.url
            env = {
                **os.environ,
                "DATABASE_URL": plain.replace("postgresql://", "postgresql+psycopg://", 1),
                "PSYCOPG_URL": plain,
            }
            subprocess.run([sys.executable, "-c", "import main"], cwd=GUIDE_DIR, env=env, check=True)
            print(f"loading the guide's service: {clients} clients x {holdings} holdings...", flush=True)
            subprocess.run(
                [sys.executable, "load.py", str(clients), str(holdings)], cwd=GUIDE_DIR, env=env, check=True
            )
            server = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "main:app", "--port", str(port), "--log-level", "warning"],
                cwd=GUIDE_DIR,
                env=env,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                wait_until_answers(f"{base}/clients/1/context")
                yield base
            finally:
                server.terminate()
                server.wait(timeout=30)
        finally:
            pg.stop()
