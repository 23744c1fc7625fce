"""The aiohttp application: the one dispatcher (routing, auth, recording, fault injection)."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
from aiohttp import web

from . import _storage
from ._emulator import KardEmulator
from ._extras import with_extras
from ._faults import Fault
from ._jsonapi import ApiError, Params, error_object
from ._records import RecordedRequest
from ._routing import Call, Layer, Respond, Route, Router
from .api import ROUTER

_TRUNCATED_JSON = b'{"data": ['
_encode = msgspec.json.Encoder().encode


def _respond(found: Route, call: Call) -> bytes:
    document = found.handler(call)
    return _encode(with_extras(document) if call.extras else document)


def _layered(layer: Layer | None) -> Respond:
    if layer is None:
        return _respond
    return lambda found, call: layer(found, call, _respond)


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
    __slots__ = ("_emulator", "_respond", "_router", "in_flight")

    def __init__(self, emulator: KardEmulator, router: Router, respond: Respond) -> None:
        self._emulator = emulator
        self._router = router
        self._respond = respond
        self.in_flight: set[asyncio.Task[object]] = set()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.transport is None:
            # The connection was closed before this handler started: by quiesce() between
            # tests (aiohttp still runs a request it had already read), or by the client.
            # Processing it now could record it in the next test's state.
            return web.Response()
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - aiohttp always runs handlers in a task
            return await self._handle(request)
        self.in_flight.add(task)
        try:
            return await self._handle(request)
        finally:
            self.in_flight.discard(task)

    def _dispatch(
        self, request: web.Request, body: bytes, raw_path: str, raw_query: str, extras: bool
    ) -> tuple[int, bytes]:
        matched = self._router.match(raw_path)
        if matched is None:
            raise ApiError(404, f"No route matches {request.method} {request.path}")
        methods, path = matched
        found = methods.get(request.method)
        if found is None:
            raise ApiError(
                405,
                f"Method {request.method} is not allowed here; allowed: {', '.join(methods)}",
                headers={"Allow": ", ".join(methods)},
            )
        call = Call(
            emulator=self._emulator,
            method=request.method,
            headers=request.headers,
            body=body,
            raw_path=raw_path,
            raw_query=raw_query,
            params=Params(request.query.items()),
            path=path,
            extras=extras,
        )
        if found.auth:
            organization = _bearer_organization(
                self._emulator, request.headers.get("Authorization")
            )
            call.organization_id = organization
            if "org" in path and path["org"] != organization:
                raise ApiError(
                    403, f"The access token is not authorized for organization {path['org']!r}"
                )
        payload = self._respond(found, call)
        return call.status or found.status, payload

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
            if fault.kind in ("drop_before", "drop_mid_body"):
                return _drop(request)
        try:
            status, payload = self._dispatch(
                request,
                body,
                raw_path,
                raw_query,
                extras=fault is not None and fault.kind == "extras",
            )
        except ApiError as exc:
            status, payload = exc.status, _encode({"errors": exc.errors})
            headers.update(exc.headers)
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


def build_app(emulator: KardEmulator, *, layer: Layer | None = None) -> web.Application:
    """The emulator's aiohttp application; an optional ``layer`` wraps every handler call."""
    app = web.Application(client_max_size=8 * 1024 * 1024)
    handler = _RequestHandler(emulator, ROUTER, _layered(layer))
    app[_HANDLER] = handler
    _storage.add_routes(app, emulator, handler.in_flight)  # presigned file URLs, streamed
    app.router.add_route("*", "/{tail:.*}", handler.handle)
    app.cleanup_ctx.append(emulator._webhooks.serve)  # notifications are delivered from here
    return app


async def cancel_in_flight(app: web.Application, timeout: float) -> None:
    """Cancel the requests this app is still handling and wait for them to end."""
    tasks = list(app[_HANDLER].in_flight)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=timeout)
