"""GET /metrics in the Prometheus text format (prometheus-client), one registry per app.

What is counted, and where:
- HTTP requests and their latency by method, route *template* and status, in two ASGI
  middlewares: the outer one times every answer (a refusal by the Host check or a body
  limit included), the inner one learns which route answered. A path is never a label:
  `/learners/zhangwei/credits` is counted as `/learners/{learner_id}/credits`, a path no
  route matches as `unmatched`.
- Statements stored (new ones, not those sent again) and credits registered (new
  automatic ledger entries), through callbacks the composition root gives the record store
  and the credit ledger (neither imports this module).
- Export jobs by state, read from the store when /metrics is asked.
- Search latency, timed around the search backend's `search` and `suggest`.

Who may read it: callers from NXCE_METRICS_ALLOW (default loopback) without credentials,
any other only with an admin client (ours: a scraper outside the host needs no more).
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nxce.core import db
from nxce.core.auth import authenticate
from nxce.core.clients import Scope as ClientScope
from nxce.core.errors import Forbidden
from nxce.core.json_route import JsonRoute
from nxce.core.params import no_query
from nxce.core.problems import responses
from search.backend import SearchBackend, SearchQuery, SearchResult, Suggestion
from transcripts.models import ExportJob

JOB_STATES = ("queued", "running", "done", "failed")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route: the path itself is never a label
_ROUTE_KEY = "nxce.metrics.route"  # a holder shared by the copies inner middlewares make


class Metrics:
    """The metrics of one app, in their own registry (tests make many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nxce_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "nxce_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.statements = Counter(
            "nxce_statements_stored",
            "xAPI statements stored (a statement sent again is not counted again)",
            registry=self.registry,
        )
        self.credits = Counter(
            "nxce_credits_registered",
            "Credit entries registered from completions (学时), by category",
            ["category"],
            registry=self.registry,
        )
        self.export_jobs = Gauge(
            "nxce_export_jobs",
            "Batch export jobs in the store, by state",
            ["state"],
            registry=self.registry,
        )
        self.search = Histogram(
            "nxce_search_duration_seconds",
            "Time the search backend takes, by operation",
            ["operation"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )

    def statements_stored(self, count: int) -> None:
        """Told by the record store how many new statements a write stored."""
        if count:
            self.statements.inc(count)

    def credit_registered(self, category: str) -> None:
        """Told by the credit ledger of a new automatic entry."""
        self.credits.labels(category=category).inc()

    async def refresh(self) -> None:
        """Read what lives in the store: export jobs by state."""
        found = {state: 0 for state in JOB_STATES}
        pipeline = [{"$group": {"_id": "$status", "n": {"$sum": 1}}}]
        async for row in db.collection(ExportJob).aggregate(pipeline):
            found[str(row["_id"])] = int(row["n"])
        for state, count in found.items():
            self.export_jobs.labels(state=state).set(count)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """Outermost: counts and times every answer, labelled by the route the inner
    `RouteProbe` found (or `unmatched`)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        holder: list[str] = []
        scope[_ROUTE_KEY] = holder
        status = 500
        started = time.perf_counter()

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = holder[0] if holder else UNMATCHED
            method = scope["method"] if scope["method"] in METHODS else "other"
            labels = {"method": method, "route": route, "status": str(status)}
            self.metrics.requests.labels(**labels).inc()
            self.metrics.latency.labels(**labels).observe(time.perf_counter() - started)


class RouteProbe:
    """Innermost: after the router ran, names the template of the route that matched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            holder = scope.get(_ROUTE_KEY)
            route = scope.get("route")
            path = getattr(route, "path", None)
            if holder is not None and not holder and isinstance(path, str):
                holder.append(path or "/")


class TimedSearch:
    """A search backend whose `search` and `suggest` are timed; the rest is the backend's."""

    def __init__(self, backend: SearchBackend, metrics: Metrics) -> None:
        self._backend, self._metrics = backend, metrics

    async def search(self, query: SearchQuery) -> SearchResult:
        with self._metrics.search.labels(operation="search").time():
            return await self._backend.search(query)

    async def suggest(self, q: str, limit: int) -> list[Suggestion]:
        with self._metrics.search.labels(operation="suggest").time():
            return await self._backend.suggest(q, limit)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend, name)


def allowed(address: str | None, networks: tuple[Any, ...]) -> bool:
    """Whether the caller's address is in one of `networks` (an IPv4-mapped IPv6 address
    counts as its IPv4 address)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in networks)


router = APIRouter(route_class=JsonRoute, tags=["system"])


@router.get(
    "/metrics",
    dependencies=[Depends(no_query)],
    response_class=Response,
    responses={
        200: {"description": "Prometheus text format", "content": {CONTENT_TYPE_LATEST: {}}},
        **responses(401, 403, 422, 429),
    },
)
async def metrics(request: Request) -> Response:
    """The service's metrics (Prometheus): to NXCE_METRICS_ALLOW without credentials,
    to an admin client from anywhere else."""
    address = request.client.host if request.client else None
    if not allowed(address, request.app.state.settings.metrics_networks):
        if "authorization" not in request.headers:
            raise Forbidden(
                f"address {address!r} is not in NXCE_METRICS_ALLOW; "
                "ask from there, or with an admin client"
            )
        principal = await authenticate(request)
        if not principal.holds(ClientScope.admin):
            raise Forbidden(f"client {principal.key!r} lacks the scope 'admin'")
    found: Metrics = request.app.state.metrics
    await found.refresh()
    return Response(found.render(), media_type=CONTENT_TYPE_LATEST)
