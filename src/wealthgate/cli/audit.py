"""`wealthgate audit ...`: verify, checkpoint, export, verify an export offline, and the audit keyring."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import orjson
import typer

from wealthgate.audit import keyring
from wealthgate.cli.common import clean_errors, connection, fail, operator, run_db
from wealthgate.settings import get_settings

audit_app = typer.Typer(
    help="The audit trail: verify, checkpoint, export; the audit keyring.", no_args_is_help=True
)
keys_app = typer.Typer(
    help="The audit keyring (signing and MAC keys, outside the database): init, list, rotate.",
    no_args_is_help=True,
)
audit_app.add_typer(keys_app, name="keys")


@audit_app.command("verify")
def audit_verify(
    firm: Annotated[int | None, typer.Option(help="Only this firm's chains.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only events at or after this time (ISO 8601).")
    ] = None,
    witness_file: Annotated[
        Path | None,
        typer.Option("--witness", help="Hold the database against this witness file (checkpoints.jsonl)."),
    ] = None,
) -> None:
    """Recompute every hash chain, every event's MAC and every signed checkpoint (and, with --witness, hold
    the checkpoints against the witness); exit 0 when intact, 1 with the first broken event otherwise."""
    from wealthgate.audit import witness
    from wealthgate.audit.verify import Verification, verify

    async def work(url: str) -> Verification:
        async with connection(url) as conn:
            return await verify(
                conn,
                firm_id=firm,
                since=since.astimezone(UTC) if since else None,
                public_keys=ring.public_keys(),
                mac_keys=ring.mac_secrets(),
                witnessed=list(witness.read(witness_file)) if witness_file else None,
            )

    with clean_errors():
        ring = keyring.load(get_settings())
        if witness_file is not None and not witness_file.exists():
            fail(f"no witness file at {witness_file}")
        result = run_db(get_settings(), work)
        typer.echo(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    firm: Annotated[int | None, typer.Option(help="Only this firm (default: every firm).")] = None,
) -> None:
    """Sign the chains that moved since the last checkpoint (Ed25519, key outside the database), append each
    checkpoint to the witness, and print each one as JSON. The service does this on its timer."""
    from wealthgate.audit.checkpoints import Checkpoint
    from wealthgate.audit.timer import checkpoint_all

    async def work(url: str) -> list[Checkpoint]:
        async with connection(url) as conn:
            return await checkpoint_all(conn, ring, settings, firm, wait=True) or []

    with clean_errors():
        settings = get_settings()
        ring = keyring.load(settings)
        for checkpoint in run_db(settings, work):
            typer.echo(json.dumps(checkpoint.as_dict()))


@audit_app.command("export")
def audit_export(
    firm: Annotated[int, typer.Option(help="The firm whose trail to export.")],
    since: Annotated[datetime | None, typer.Option("--from", help="Events at or after this time.")] = None,
    until: Annotated[datetime | None, typer.Option("--to", help="Events before this time.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Every event with its hash, chain position and MAC, the signed checkpoints and a signed seal:
    verifiable offline with `wealthgate audit verify-export` or the standalone wealthgate/audit/offline.py."""
    from wealthgate.audit.export import FORMATS, export

    if fmt not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")

    async def work(url: str) -> int:
        lines = 0
        async with connection(url) as conn:
            with output.open("w", encoding="utf-8") if output else nullcontext(sys.stdout) as sink:
                async for line in export(
                    conn,
                    firm_id=firm,
                    since=since.astimezone(UTC) if since else None,
                    until=until.astimezone(UTC) if until else None,
                    fmt=fmt,
                    ring=ring,
                ):
                    sink.write(line)
                    lines += 1
        return lines

    with clean_errors():
        ring = keyring.load(get_settings())
        written = run_db(get_settings(), work)
        if output:
            typer.echo(f"wrote {written} lines to {output}", err=True)


@audit_app.command("verify-export")
def audit_verify_export(
    file: Annotated[Path, typer.Argument(help="An export (JSON lines or CSV).")],
    public_key: Annotated[str | None, typer.Option(help="One Ed25519 public key you trust (hex).")] = None,
    public_keys: Annotated[
        Path | None,
        typer.Option(help="The firm's public keys you trust: `wealthgate audit keys list --public` output."),
    ] = None,
) -> None:
    """Verify an export on its own, without the database; exit 0 when intact, 1 otherwise."""
    from wealthgate.audit.offline import verify_export

    with clean_errors():
        trusted = keyring.public_keys_from(orjson.loads(public_keys.read_bytes())) if public_keys else None
        with file.open(encoding="utf-8", newline="") as handle:
            report = verify_export(handle, public_key, trusted)
        typer.echo(json.dumps(report, indent=2))
        if not report["ok"]:
            raise typer.Exit(1)


@keys_app.command("init")
def keys_init(
    from_pem: Annotated[
        Path | None,
        typer.Option(help="Adopt this Ed25519 private key (an earlier version's audit-signing-key.pem)."),
    ] = None,
) -> None:
    """Create the audit keyring (a signing key and a MAC key) where WEALTHGATE_AUDIT_KEYRING_FILE points;
    refuses if one exists. Keep a copy in the firm's secret store: without it the trail cannot be verified."""
    with clean_errors():
        settings = get_settings()
        if settings.audit_keyring is not None:
            fail("WEALTHGATE_AUDIT_KEYRING is set: the keyring comes from the secret store, not a file")
        ring = keyring.generate(from_pem.read_text() if from_pem else None)
        keyring.save(ring, settings.keyring_path)
        typer.echo(f"created the audit keyring at {settings.keyring_path} (mode 0600)")
        typer.echo(f"signing key {ring.signer.id}; MAC key {ring.mac_key.id}")


@keys_app.command("list")
def keys_list(
    public: Annotated[bool, typer.Option(help="Print the public keyring (JSON) for verifiers.")] = False,
) -> None:
    """The keyring's keys by id, current and retired, and which ones the database has registered."""
    from wealthgate.audit import registry
    from wealthgate.audit.registry import RegisteredKey

    async def work(url: str) -> list[RegisteredKey]:
        async with connection(url) as conn:
            return await registry.listing(conn)

    with clean_errors():
        ring = keyring.load(get_settings())
        if public:
            typer.echo(json.dumps(ring.public_document(), indent=2))
            return
        registered = {k.id: k for k in run_db(get_settings(), work)}
        for k in ring.signing:
            state = "current" if k.retired_at is None else f"retired {k.retired_at}"
            typer.echo(f"signing {k.id}  {state}  created {k.created_at}  {_registered(registered, k.id)}")
        for m in ring.macs:
            state = "current" if m.retired_at is None else f"retired {m.retired_at}"
            typer.echo(f"mac     {m.id}  {state}  created {m.created_at}  {_registered(registered, m.id)}")


def _registered(registered: Mapping[str, object], key_id: str) -> str:
    return "registered" if key_id in registered else "NOT registered in this database"


@keys_app.command("rotate")
def keys_rotate() -> None:
    """New signing and MAC keys: the old signing key keeps only its public half (old checkpoints still
    verify), the old MAC key stays for verification. The database registers the new keys, every firm's trail
    records `audit_key.rotated`, and every firm gets a checkpoint signed with the new key."""
    from wealthgate.audit import checkpoints, registry
    from wealthgate.audit.checkpoints import Checkpoint
    from wealthgate.audit.record import record
    from wealthgate.audit.timer import checkpoint_all
    from wealthgate.auth.principal import operator_actor

    async def work(url: str) -> list[Checkpoint]:
        async with connection(url) as conn:
            async with conn.transaction():
                await registry.rotate(conn, old, new)
                keyring.install(new)
                for firm in await checkpoints.firms(conn):
                    await record(
                        conn,
                        firm_id=firm,
                        actor=operator_actor(firm, operator()),
                        action="audit_key.rotated",
                        target_type="audit_key",
                        target_id=new.signer.id,
                        details={
                            "retired_signing_key": old.signer.id,
                            "signing_key": new.signer.id,
                            "retired_mac_key": old.mac_key.id,
                            "mac_key": new.mac_key.id,
                        },
                    )
                keyring.save(new, pending, replace_existing=True)  # the new keys are on disk before commit
            pending.replace(settings.keyring_path)
            return await checkpoint_all(conn, new, settings, wait=True) or []

    with clean_errors():
        settings = get_settings()
        if settings.audit_keyring is not None:
            fail("WEALTHGATE_AUDIT_KEYRING is set: rotate the keyring in the secret store, then restart")
        old = keyring.load(settings)
        new = old.rotated()
        pending = settings.keyring_path.with_name(settings.keyring_path.name + ".rotating")
        made = run_db(settings, work)
        typer.echo(f"rotated: signing key {old.signer.id} -> {new.signer.id}")
        typer.echo(f"        MAC key {old.mac_key.id} -> {new.mac_key.id}")
        typer.echo(
            f"{len(made)} checkpoint(s) signed with the new key; restart running services to pick it up"
        )
