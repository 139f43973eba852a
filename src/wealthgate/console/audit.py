"""The audit explorer (compliance and admin): events filtered by client, actor, action and time, newest
first and paged; one event in full; the chain verification and the newest checkpoint's age; the export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from wealthgate.api.deps import DbPool, ReadConn
from wealthgate.api.exports import audit_export
from wealthgate.audit import queries as audit
from wealthgate.audit.schemas import MAX_ID
from wealthgate.console import pages, queries, views
from wealthgate.console.deps import Officer
from wealthgate.console.routing import console_router

router = console_router()
PAGE_SIZE = 50
Text = Annotated[str, Query(max_length=200)]


def _moment(text: str, field: str, problems: list[str]) -> datetime | None:
    """A time from the form (`2026-12-01T14:00`, read as UTC when it names no offset), or None."""
    if not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        problems.append(f"{field}: not a date and time (YYYY-MM-DD HH:MM)")
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _client(text: str, problems: list[str]) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_ID:
        problems.append("Client: a client's number")
        return None
    return int(text)


@router.get("/console/audit", response_class=HTMLResponse)
async def explorer(
    request: Request,
    visitor: Officer,
    conn: ReadConn,
    client: Text = "",
    actor: Text = "",
    action: Text = "",
    since: Annotated[str, Query(alias="from", max_length=40)] = "",
    until: Annotated[str, Query(alias="to", max_length=40)] = "",
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    problems: list[str] = []
    where = queries.EventSearch(
        client_id=_client(client, problems),
        actor=actor.strip() or None,
        action=action.strip() or None,
        since=_moment(since, "From", problems),
        until=_moment(until, "To", problems),
    )
    page = await queries.events(conn, visitor.principal, where, before=before, limit=PAGE_SIZE)
    verification = await audit.verification(conn, visitor.principal, None)
    form = {"client": client, "actor": actor, "action": action, "from": since, "to": until}
    return pages.render(
        request,
        "audit.html",
        status=422 if problems else 200,
        visitor=visitor,
        page=page,
        form=form,
        problems=problems,
        verification=verification,
        checkpoint_age=views.seconds_label(verification.newest_checkpoint_age_seconds),
        next_query={k: v for k, v in form.items() if v}
        | ({"before": page.next_before} if page.next_before else {}),
    )


@router.get("/console/audit/events/{event_id}", response_class=HTMLResponse)
async def event_detail(
    event_id: Annotated[int, Path(ge=1, le=MAX_ID)], request: Request, visitor: Officer, conn: ReadConn
) -> HTMLResponse:
    event = await queries.event(conn, visitor.principal, event_id)
    return pages.render(request, "event.html", visitor=visitor, event=event)


@router.get("/console/audit/export", response_class=StreamingResponse)
async def export_download(
    visitor: Officer,
    pool: DbPool,
    fmt: Annotated[Literal["jsonl", "csv"], Query(alias="format")] = "jsonl",
) -> StreamingResponse:
    """The same export as `GET /audit/export`: events with hashes and MACs, the signed checkpoints and a
    signed seal, verifiable offline."""
    return audit_export(pool, visitor.principal, None, None, fmt)
