"""Which failures of a read on a replica are the replica's (the read runs again on the primary) and which are
the read's own (answered as they are): db/replicas.replica_at_fault."""

from __future__ import annotations

import asyncpg
import pytest

from wealthgate.db.replicas import replica_at_fault


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is shutting down"),
        ConnectionResetError(104, "Connection reset by peer"),
        asyncpg.InterfaceError("connection is closed"),
        asyncpg.SerializationError("canceling statement due to conflict with recovery"),  # 40001 on a standby
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_replicas_faults(exc: BaseException) -> None:
    assert replica_at_fault(exc)


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),  # 57014: the read's own
        asyncpg.UndefinedColumnError('column "x" does not exist'),
        asyncpg.InterfaceError("cannot call Connection.fetch(): another operation is in progress"),
        ValueError("a bug"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_the_reads_own_failures(exc: BaseException) -> None:
    assert not replica_at_fault(exc)
