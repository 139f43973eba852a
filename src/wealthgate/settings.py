"""Service configuration, read once from the environment (see README, "Configuration")."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from wealthgate.settings_errors import SettingsError, explain, explain_source

__all__ = ["Settings", "SettingsError", "get_settings"]


def _default_home() -> Path:
    return Path.home() / ".local" / "share" / "wealthgate"


class Settings(BaseSettings):
    """Every knob wealthgate reads. Names are `WEALTHGATE_*` except the guide's `DATABASE_URL`."""

    model_config = SettingsConfigDict(env_prefix="WEALTHGATE_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=_default_home)
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "WEALTHGATE_DATABASE_URL"),
    )
    db_pool_min: int = Field(default=2, ge=1, le=50)
    # Small on purpose: PostgreSQL does best with few busy backends per core (see docs/operations.md).
    db_pool_max: int = Field(default=4, ge=1, le=50)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    log_level: str = "info"
    # The audit keyring (signing and MAC keys) lives outside the database (docs/audit.md): a file, or the
    # document itself from a secret store.
    audit_keyring_file: Path | None = None  # default: $WEALTHGATE_HOME/audit-keyring.json
    audit_keyring: SecretStr | None = None
    # Every checkpoint is also appended to a witness the database cannot reach (docs/audit.md).
    audit_witness_dir: Path | None = None  # default: $WEALTHGATE_HOME/audit-witness
    audit_checkpoint_seconds: float = Field(default=300.0, ge=0)  # 0: no timer; `wealthgate audit checkpoint`
    audit_retention_years: int = Field(default=6, ge=6, le=100)  # SEC 17a-4: six years at the least
    recommendation_ttl_hours: int = Field(default=72, ge=1, le=24 * 365)  # pending ones expire after this
    idempotency_hours: int = Field(default=48, ge=24, le=24 * 365)  # Idempotency-Keys kept at least this long
    # People signing in to the console: sessions, cookies, the sign-in throttle, single sign-on.
    session_hours: int = Field(default=8, ge=1, le=24 * 30)  # a console session ends this long after sign-in
    cookie_secure: bool = True  # False for plain-http hosts (browsers take Secure cookies from 127.0.0.1)
    sign_in_max_failures: int = Field(default=5, ge=1, le=100)  # failed sign-ins per email before a lockout
    sign_in_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)  # the lockout, and the counting window
    oidc_issuer: str | None = None  # OpenID Connect issuer URL; None: single sign-on is off
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    public_url: str | None = None  # the service's base URL as browsers see it (the OIDC redirect URI's base)
    # Operations (docs/operations.md): logs, metrics, tracing, readiness, limits.
    log_format: Literal["auto", "json", "text"] = "auto"  # auto: JSON lines unless stderr is a terminal
    # OpenTelemetry tracing: off unless an OTLP endpoint is set.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_ENDPOINT", "WEALTHGATE_OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
    )
    ready_max_read_audit_backlog: int = Field(default=10_000, ge=1)  # /readyz fails above this many unwritten
    # /readyz fails when the newest checkpoint is older than this (with the checkpoint timer on).
    ready_max_checkpoint_age_seconds: float = Field(default=3600.0, gt=0)
    retry_after_seconds: int = Field(default=2, ge=1, le=300)  # Retry-After on a 503 (database unreachable)
    # Per key, in the `limits` notation ("50/second", "1000/minute"; several: "50/second;1000/minute").
    rate_limit_read: str = "100/second"
    rate_limit_write: str = "10/second"
    # None: counters shared by the workers of this host (shared memory); a `limits` storage URI such as
    # async+redis://host:6379 shares them across hosts (docs/limits.md).
    rate_limit_storage: str | None = None
    # Free text a key may add to the permanent record per UTC day: notes, recommendations' rationales (UTF-8).
    note_bytes_per_day: int = Field(default=1_000_000, ge=1_000)
    auth_max_failures: int = Field(default=10, ge=1, le=1000)  # failures per key id or address, then back-off
    auth_failure_window_seconds: int = Field(default=300, ge=1, le=86_400)
    # Origins allowed to call /mcp from a browser (no Origin header, as from native clients, is always
    # allowed); public_url's origin is allowed too. The variable takes a JSON list or comma-separated origins.
    mcp_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Scaling out (docs/scaling.md). Streaming replicas that serve agent reads (JSON list or comma-separated
    # PostgreSQL URLs); writes, reviews and the audit records of reads stay on the primary.
    read_replica_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    replica_max_lag_seconds: float = Field(default=5.0, gt=0, le=3600)  # a replica further behind is skipped
    # How long a read by a key that just wrote waits for a replica to replay that write (then: the primary).
    replica_wait_ms: int = Field(default=50, ge=0, le=10_000)
    replica_check_seconds: float = Field(
        default=0.25, gt=0, le=60
    )  # how often each worker polls its replicas
    # Reads (and tool calls) noted and not yet written to the audit trail, at most; beyond it (a long primary
    # outage) reads are refused with 503 rather than served unaudited.
    read_audit_buffer_max: int = Field(default=200_000, ge=1)
    # Rendered context documents each worker keeps (keyed by the client's version, price epoch...): at most
    # this many, and at most context_cache_mb MiB of them (the bound that holds memory: a document's size
    # follows its client's holdings); either 0 turns the cache off.
    context_cache_entries: int = Field(default=65_536, ge=0, le=1_000_000)
    context_cache_mb: int = Field(default=128, ge=0, le=65_536)
    # The database URL is a pooler in transaction mode (PgBouncer): no server-side statement cache and no
    # session state on its connections; migrations, LISTEN and advisory locks use database_direct_url.
    database_pooled: bool = False
    database_direct_url: str | None = None

    @field_validator("mcp_allowed_origins", "read_replica_urls", mode="before")
    @classmethod
    def _origins_from_text(cls, value: Any) -> Any:
        """A JSON list or comma-separated values: `["https://a.example"]` or `https://a.example,https://b.example`."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [o.strip() for o in text.split(",") if o.strip()]
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _a_storage_this_install_opens(cls, value: str | None) -> str | None:
        """A `limits` storage URI of a known scheme whose client library is installed: refused here, in one
        line, rather than by every worker's start-up. Building the storage connects to nothing."""
        if value:
            try:
                storage_from_string(value)
            except ConfigurationError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def keyring_path(self) -> Path:
        return self.audit_keyring_file or self.home / "audit-keyring.json"

    @property
    def witness_path(self) -> Path:
        return (self.audit_witness_dir or self.home / "audit-witness") / "checkpoints.jsonl"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment; a bad one raises `SettingsError`, one line per variable naming it
    and what it accepts (the CLI prints them and exits 2), never pydantic's dump."""
    try:
        return Settings()
    except ValidationError as exc:
        raise explain(Settings, exc) from None
    except SourceError as exc:
        raise explain_source(Settings, exc) from None
