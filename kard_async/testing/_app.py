"""The aiohttp application: routing, authentication, recording and fault injection."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from functools import partial
from urllib.parse import unquote

import msgspec
from aiohttp import web

from . import _endpoints as endpoints
from ._emulator import KardEmulator
from ._faults import Fault
from ._jsonapi import ApiError, error_object
from ._records import RecordedRequest

Handler = Callable[[KardEmulator, endpoints.Call], endpoints.Reply]

_USER = ("v2", "issuers", "{org}", "users", "{user}")
# (path template, {method: handler}, needs a bearer token)
_ROUTES: tuple[tuple[tuple[str, ...], dict[str, Handler], bool], ...] = (
    (("v2", "auth", "token"), {"POST": endpoints.token}, False),
    ((*_USER, "attributions"), {"POST": endpoints.attributions}, True),
    ((*_USER, "offers"), {"GET": endpoints.offers}, True),
    (
        (*_USER, "offers", "{offer}", "activate"),
        {"POST": partial(endpoints.offer_event, code="ACTIVATE")},
        True,
    ),
    (
        (*_USER, "offers", "{offer}", "boost"),
        {"POST": partial(endpoints.offer_event, code="BOOST")},
        True,
    ),
    ((*_USER, "locations"), {"GET": endpoints.locations}, True),
    ((*_USER, "placements", "{placement}", "content"), {"GET": endpoints.placement_content}, True),
    (
        (*_USER, "placements", "{placement}", "slot", "{slot}", "activate"),
        {"POST": endpoints.slot_activate},
        True,
    ),
)
_TRUNCATED_JSON = b'{"data": ['
_encode = msgspec.json.Encoder().encode


def _match(raw_path: str) -> tuple[dict[str, Handler], bool, dict[str, str]] | None:
    # Split the raw path ourselves so that an encoded "/" stays inside its segment.
    if not raw_path.startswith("/"):
        return None
    raw_segments = raw_path[1:].split("/")
    for template, methods, needs_auth in _ROUTES:
        if len(template) != len(raw_segments):
            continue
        params: dict[str, str] = {}
        for expected, raw in zip(template, raw_segments, strict=True):
            value = unquote(raw)
            if expected.startswith("{"):
                if not value:
                    break
                params[expected[1:-1]] = value
            elif value != expected:
                break
        else:
            return methods, needs_auth, params
    return None


def _bearer_organization(emulator: KardEmulator, header: str | None) -> str:
    if header is None:
        raise ApiError(
            401,
            "Authorization header with a Bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "Authorization header must be 'Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    organization = emulator._token_organization(token.strip())
    if organization is None:
        raise ApiError(
            401,
            "The access token is invalid, expired or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return organization


def _dispatch(
    emulator: KardEmulator,
    request: web.Request,
    body: bytes,
    raw_path: str,
    raw_query: str,
    extras: bool,
) -> endpoints.Reply:
    matched = _match(raw_path)
    if matched is None:
        raise ApiError(404, f"No route matches {request.method} {request.path}")
    methods, needs_auth, params = matched
    handler = methods.get(request.method)
    if handler is None:
        raise ApiError(
            405,
            f"Method {request.method} is not allowed here; allowed: {', '.join(methods)}",
            headers={"Allow": ", ".join(methods)},
        )
    call = endpoints.Call(
        method=request.method,
        headers=request.headers,
        body=body,
        raw_path=raw_path,
        raw_query=raw_query,
        query=list(request.query.items()),
        path_params=params,
        extras=extras,
    )
    if needs_auth:
        call.organization_id = _bearer_organization(emulator, request.headers.get("Authorization"))
        if params["org"] != call.organization_id:
            raise ApiError(
                403,
                f"The access token is not authorized for organization {params['org']!r}",
            )
    return handler(emulator, call)


def _drop(request: web.Request) -> web.StreamResponse:
    # Closing the transport makes aiohttp's attempt to send the returned response fail
    # quietly (treated as a client disconnect); the client sees the connection close
    # before any status line.
    request.protocol.force_close()
    return web.Response()


async def _truncate(
    request: web.Request, status: int, body: bytes, headers: dict[str, str]
) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers=headers)
    response.content_type = "application/json"
    response.content_length = len(body)
    await response.prepare(request)
    await response.write(body[: len(body) // 2])
    request.protocol.force_close()
    return response


class _RequestHandler:
    __slots__ = ("_emulator", "in_flight")

    def __init__(self, emulator: KardEmulator) -> None:
        self._emulator = emulator
        self.in_flight: set[asyncio.Task[object]] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - aiohttp always runs handlers in a task
            return await self._handle(request)
        self.in_flight.add(task)
        try:
            return await self._handle(request)
        finally:
            self.in_flight.discard(task)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        emulator = self._emulator
        body = await request.read()
        raw_path, _, raw_query = request.raw_path.partition("?")
        emulator._record_request(
            RecordedRequest(request.method, raw_path, raw_query, dict(request.headers), body)
        )
        fault, delay = emulator._select_fault(request.method, request.path)
        if delay:
            await asyncio.sleep(delay)
        headers = {"X-Request-Id": str(uuid.uuid4())}
        if fault is not None:
            if fault.kind == "status":
                return self._fault_status(fault, headers)
            if fault.kind == "drop_before":
                return _drop(request)
        try:
            reply = _dispatch(
                emulator,
                request,
                body,
                raw_path,
                raw_query,
                extras=fault is not None and fault.kind == "extras",
            )
        except ApiError as exc:
            reply = endpoints.Reply(exc.status, _encode({"errors": exc.errors}), exc.headers)
        if reply.headers:
            headers.update(reply.headers)
        status, payload = reply.status, reply.body
        if fault is not None:
            if fault.kind == "drop_after":
                return _drop(request)
            if fault.kind == "truncate":
                return await _truncate(request, status, payload, headers)
            if fault.kind == "malformed":
                status, payload = 200, _TRUNCATED_JSON
        return web.Response(
            status=status, body=payload, headers=headers, content_type="application/json"
        )

    @staticmethod
    def _fault_status(fault: Fault, headers: dict[str, str]) -> web.Response:
        if fault.retry_after is not None:
            headers["Retry-After"] = fault.retry_after
        error = error_object(fault.status, f"Injected fault: HTTP {fault.status}")
        return web.Response(
            status=fault.status,
            body=_encode({"errors": [error]}),
            headers=headers,
            content_type="application/json",
        )


_HANDLER = web.AppKey("kard_request_handler", _RequestHandler)


def build_app(emulator: KardEmulator) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    handler = _RequestHandler(emulator)
    app[_HANDLER] = handler
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    return app


async def cancel_in_flight(app: web.Application, timeout: float) -> None:
    """Cancel the requests this app is still handling and wait for them to end."""
    tasks = list(app[_HANDLER].in_flight)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)
