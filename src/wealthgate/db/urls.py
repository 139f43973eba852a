"""Normalise database URLs: users give `postgresql://` or `postgresql+psycopg://` (the guide's form)."""

from __future__ import annotations

from urllib.parse import urlsplit

_PREFIXES = ("postgresql+psycopg://", "postgresql+asyncpg://", "postgresql+psycopg2://", "postgres://")


def plain(url: str) -> str:
    """The libpq form (`postgresql://...`) that asyncpg, psycopg and pgbench accept."""
    for prefix in _PREFIXES:
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    if not url.startswith("postgresql://"):
        scheme = urlsplit(url).scheme or "(none)"
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {scheme}")
    return url


def sqlalchemy(url: str) -> str:
    """The SQLAlchemy form, pinned to psycopg 3."""
    return "postgresql+psycopg://" + plain(url)[len("postgresql://") :]


def with_database(url: str, dbname: str) -> str:
    """The same server and options, another database."""
    parts = urlsplit(plain(url))
    return parts._replace(path="/" + dbname).geturl()
