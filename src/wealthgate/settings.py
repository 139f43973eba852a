"""Service configuration, read once from the environment (see README, "Configuration")."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    return Settings()
