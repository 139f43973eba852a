"""schemathesis, with all its checks, against the in-process app (ASGI) on a real database: the OpenAPI
document is a contract a generator can trust. Every answer is declared (status, media type, schema, headers),
valid requests are accepted, invalid ones refused with a 4xx problem, none answers 5xx.

Bounded and deterministic: a fixed seed, derandomized generation, `EXAMPLES` per operation and phase (about
2,500 cases in all), one worker. The key holds every scope and acts for the demo firm's admin (who may
review), so every route is reachable; the app's limits are set out of the way (rate limits, the
authentication back-off that the `ignored_auth` check's wrong keys would trip, the daily note quota), since
what is tested here is the contract, not the limits (tests of their own cover those).

One narrow exclusion, `positive_data_acceptance` on operations whose body names other objects: a request valid
by the schema can name a security the firm does not have, or a transaction of another account, or carry a
policy document the rules refuse (the policy's settings are validated by the service, docs/suitability.md).
Those are the domain's 422s (`urn:wealthgate:problem:invalid` / `rule-violation`), which no schema can
foresee. For them 422 is accepted, and only them: `schema_valid_input_passes_validation` still fails any
schema-valid request that the request *validation* layer refuses (`urn:wealthgate:problem:validation`), on
every operation.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import schemathesis
from schemathesis.engine import events
from schemathesis.engine import from_schema as engine_for
from schemathesis.python import asgi

from tests.support import make_key
from wealthgate.api.app import create_app
from wealthgate.settings import Settings
from wealthgate.vocabulary import SCOPES

SEED = 14
EXAMPLES = 7
MIN_CASES = 1_000
ADMIN_USER = "admin@demo.wealthgate.test"  # may review: approve/reject are reachable
VALIDATION_PROBLEM = "urn:wealthgate:problem:validation"
# Where a schema-valid request may still be refused by the domain with a 422 (see the module's docstring):
DOMAIN_CHECKED = [
    # bodies naming other objects (symbols, transactions, advisors) or carrying a policy document
    "check_suitability",
    "propose_recommendation",
    "post_transaction",
    "execute_recommendation",
    "create_user",
    "publish_policy",
    "call",  # a tool answers as its twin does, the twins here included
    # a cursor is an opaque token: which strings the service issued is no schema's to say (forged ones: 422)
    "list_clients",
    "list_review_queue",
    "search_securities",
    "search_transactions",
    "list_audit_events",
    # a period's ends are checked against each other and the book (`from` after the latest close)
    "get_performance",
    # an Idempotency-Key already used with another request (the generator repeats its values): 422
    "reverse_transaction",
    "approve_recommendation",
    "reject_recommendation",
    "record_note",
]
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429"]


@schemathesis.check
def schema_valid_input_passes_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request valid by the schema is never refused by request validation (the schema and the models agree),
    whatever the domain then says of it."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        kind = orjson.loads(response.content).get("type")
    except (orjson.JSONDecodeError, AttributeError):
        kind = None
    if kind == VALIDATION_PROBLEM:
        raise AssertionError(f"a schema-valid request failed request validation: {response.content[:300]!r}")
    return None


def contract_settings(db_url: str, home: Path) -> Settings:
    return Settings(
        database_url=db_url,
        home=home,
        auth_cache_seconds=0,
        db_pool_min=1,
        db_pool_max=4,
        audit_checkpoint_seconds=0,
        rate_limit_read="1000000/second",
        rate_limit_write="1000000/second",
        auth_max_failures=1000,
        auth_failure_window_seconds=1,
        note_bytes_per_day=10**12,
    )


def config_for(key: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {key}"},
            "workers": 1,
            "generation": {"deterministic": True, "max-examples": EXAMPLES, "mode": "all"},
            "operations": [
                {
                    "include-operation-id": DOMAIN_CHECKED,
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "422"]}
                    },
                }
            ],
        }
    )


class Findings:
    """What a run found: cases, failures (one line each, with the request and the answer), errors."""

    def __init__(self) -> None:
        self.cases = 0
        self.failures: list[str] = []
        self.errors: list[str] = []
        self.checks: set[str] = set()
        self.by_kind: Counter[str] = Counter()

    def scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        self.cases += len(recorder.cases)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                self.checks.add(check.name)
                if check.failure_info is None:
                    continue
                kind = f"{recorder.label} [{check.name}]"
                self.by_kind[kind] += 1
                if self.by_kind[kind] > 2:
                    continue
                interaction = recorder.interactions.get(case_id)
                answer = interaction.response.content[:400] if interaction and interaction.response else b""
                failure = check.failure_info.failure
                self.failures.append(
                    f"{kind} {failure.title}: {failure.message[:500]}\n"
                    f"    {check.failure_info.code_sample[:600]}\n    -> {answer!r}"
                )

    def report(self, elapsed: float) -> str:
        head = f"{self.cases} cases in {elapsed:.1f} s: {sum(self.by_kind.values())} failures"
        return "\n".join([head, *self.failures, *self.errors])


def run(schema: Any) -> Findings:
    found = Findings()
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            found.scenario(event)
        elif isinstance(event, events.NonFatalError):
            found.errors.append(f"{event.label}: {event.info.format()[:800]}")
        elif isinstance(event, events.FatalError):
            found.errors.append(f"fatal: {event.exception!r}")
    return found


def test_schemathesis_with_all_checks_finds_no_failure(db_url: str, tmp_path: Path) -> None:
    key = make_key(db_url, 1, list(SCOPES), name="contract", user=ADMIN_USER)
    app = create_app(contract_settings(db_url, tmp_path / "home"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config_for(key))
    started = time.monotonic()
    try:
        found = run(schema)
    finally:
        asgi.shutdown_lifespans()  # the app's lifespan ran in schemathesis's portal: stop it (pool, tasks)
    report = found.report(time.monotonic() - started)
    print(report)
    assert not found.failures, report
    assert not found.errors, report
    assert found.cases >= MIN_CASES, report
    # every check ran (schemathesis's whole default set, and ours)
    assert {"not_a_server_error", "response_schema_conformance", "negative_data_rejection"} <= found.checks
    assert "schema_valid_input_passes_validation" in found.checks
