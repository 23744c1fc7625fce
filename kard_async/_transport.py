"""The one path every request takes.

URL and query -> headers -> bearer token -> send (connection always released) -> read bytes
(at most ``max_response_size``) -> status check -> decode with the call's prebuilt msgspec
decoder -> typed error -> retry decision. Resource methods only describe calls
(:class:`~kard_async._call.Call`); everything cross-cutting happens here, once.

Errors never chain aiohttp's exceptions: those carry the request's headers (the client
secret, the bearer token) and the full URL with its query string. Messages name the call by
method and path only.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from ssl import SSLContext
from typing import Any, TypeVar

import aiohttp
import backoff
import msgspec
from yarl import URL

from ._auth import TokenSource
from ._call import Call, StreamingDecoder
from ._errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ErrorObject,
    KardError,
    ResponseTooLargeError,
    ResponseValidationError,
    status_error_class,
)
from ._pool import Pool
from ._retry import RetryPolicy, may_have_processed, parse_retry_after, should_retry, wait_times

T = TypeVar("T")

logger = logging.getLogger("kard_async")

_REQUEST_ID_HEADERS = ("X-Request-Id", "X-Amzn-RequestId", "X-Amzn-Trace-Id")
_REDACTED_TOKEN_BODY = b"<token response redacted>"
# A URL inside an aiohttp message: everything after its path (query, fragment) is dropped.
_URL = re.compile(
    r"""([a-zA-Z][a-zA-Z0-9+.-]*://)   # scheme
    (?:[^/@\s'"<>]*@)?                 # user info: dropped
    ([^/?#\s'"<>]*)                    # host
    ([^?#\s'"<>]*)                     # path
    (?:[?#][^\s'"<>]*)?                # query and fragment: dropped
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class ResponseInfo:
    """What the ``on_response`` hook receives for every HTTP response, success or error."""

    method: str
    path: str
    status: int
    headers: Mapping[str, str]
    request_id: str | None
    elapsed: float


@dataclass(frozen=True)
class RequestOptions:
    """Per-client settings that apply to each call; ``with_options`` makes a changed copy."""

    timeout: aiohttp.ClientTimeout
    retry_policy: RetryPolicy = field(default_factory=RetryPolicy)
    headers: Mapping[str, str] = field(default_factory=dict)
    retry_writes: bool = False
    on_response: Callable[[ResponseInfo], None] | None = None
    # Internal: told of each 429/503 (also those retried), for the batch engine's limit.
    on_pushback: Callable[[], None] | None = field(default=None, repr=False, compare=False)


class _ErrorBody(msgspec.Struct, gc=False):
    errors: list[ErrorObject] = []


_ERROR_DECODER = msgspec.json.Decoder(_ErrorBody)


class _Throttle:
    """When the server says "retry after N seconds" (429/503), every request of this client
    waits until then, not only the one that was told."""

    def __init__(self) -> None:
        self._not_before = 0.0

    def defer(self, seconds: float) -> None:
        self._not_before = max(self._not_before, time.monotonic() + seconds)

    def delay(self) -> float:
        """Seconds to wait before the next request (0 or less: none)."""
        return self._not_before - time.monotonic() if self._not_before else 0.0


class Transport:
    """Owns the connection pools and the token source; shared by ``with_options`` copies."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: TokenSource | None,
        user_agent: str,
        max_connections: int,
        session: aiohttp.ClientSession | None,
        proxy: str | None = None,
        ssl: SSLContext | bool = True,
        trust_env: bool = False,
        max_response_size: int = 64 * 1024 * 1024,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self._user_agent = user_agent
        self._max_connections = max_connections
        self._session = session
        self._owns_session = session is None
        self._proxy = proxy
        self._ssl = ssl
        self._trust_env = trust_env
        self._max_response_size = max_response_size
        self._pool: Pool | None = None
        self._closed = False
        self.throttle = _Throttle()
        self._retry_loops: dict[
            tuple[RetryPolicy, bool, bool],
            Callable[[Call[Any], RequestOptions, list[KardError]], Coroutine[Any, Any, Any]],
        ] = {}

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def owns_session(self) -> bool:
        """False when the caller passed its own ``session`` (never closed by the client)."""
        return self._owns_session

    def abandon(self) -> list[object]:
        """Make this transport inert without closing anything (in a child after ``fork()``:
        its sockets and its loop's epoll instance are the parent's). Returns the objects
        the caller must keep alive so that no destructor closes them later."""
        self._closed = True  # a stale coroutine of this client fails instead of using it
        pool, self._pool = self._pool, None
        sessions = pool.sessions if pool is not None else ()
        for session in sessions:
            connector = session.connector
            if connector is not None and hasattr(connector, "_closed"):
                # aiohttp's destructors neither close nor warn about a connector marked closed.
                connector._closed = True
        return [*sessions]

    async def _open_pool(self) -> Pool:
        """Connections for the running loop: made on first use, and again on a new loop."""
        if self._closed:
            raise RuntimeError("this Kard client is closed")
        old = self._pool
        if old is not None and not old.closed and old.loop.is_running():
            raise RuntimeError(
                "this AsyncKard is in use on another event loop, which is still running; "
                "make one client per event loop"
            )
        # An old pool whose loop ended without closing it (no asyncio.run()) is dropped.
        if self._session is not None:
            self._pool = Pool.borrow(self._session)
        else:
            self._pool = await Pool.open(
                max_connections=self._max_connections, trust_env=self._trust_env
            )
        return self._pool

    async def close_pool(self) -> None:
        """Close the connections; the client stays usable and reconnects when next used."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def aclose(self) -> None:
        self._closed = True
        await self.close_pool()

    async def send(self, call: Call[T], options: RequestOptions) -> T:
        policy = options.retry_policy
        try:
            # Most calls succeed at once, so the first attempt runs outside backoff: its
            # per-call bookkeeping (two datetime.now(), a details dict, a primed wait
            # generator, handler coroutines) cost ~15-20 us, a tenth of a small request.
            return await self._attempt(call, options)
        except KardError as error:
            if policy.max_retries == 0 or not should_retry(
                error, write=call.write, retry_writes=options.retry_writes
            ):
                raise
            failed = [error]
        # A retryable failure: backoff takes over and sees it as its first attempt's, so
        # waits, give-up and logging are as before (the budget starts after that attempt).
        retrying = self._retrying(policy, call.write, options.retry_writes)
        result: T = await retrying(call, options, failed)
        return result

    def _retrying(
        self, policy: RetryPolicy, write: bool, retry_writes: bool
    ) -> Callable[[Call[Any], RequestOptions, list[KardError]], Coroutine[Any, Any, Any]]:
        key = (policy, write, retry_writes)
        retrying = self._retry_loops.get(key)
        if retrying is None:
            retrying = self._retry_loops[key] = self._retry_loop(policy, write, retry_writes)
        return retrying

    def _retry_loop(
        self, policy: RetryPolicy, write: bool, retry_writes: bool
    ) -> Callable[[Call[Any], RequestOptions, list[KardError]], Coroutine[Any, Any, Any]]:
        decorate = backoff.on_exception(
            wait_times,
            KardError,
            max_tries=policy.max_retries + 1,
            giveup=lambda error: not should_retry(error, write=write, retry_writes=retry_writes),
            on_backoff=_log_retry,
            jitter=None,
            logger=None,
            policy=policy,
        )
        return decorate(self._replay_then_attempt)

    async def _replay_then_attempt(
        self, call: Call[T], options: RequestOptions, failed: list[KardError]
    ) -> T:
        """backoff's target: first re-raises the failure of the attempt made outside it."""
        if failed:
            raise failed.pop()
        return await self._attempt(call, options)

    async def _attempt(self, call: Call[T], options: RequestOptions) -> T:
        token = None
        if call.authenticated and self.auth is not None:
            # Nearly always at hand: awaiting get() would cost two coroutines per request.
            token = self.auth.ready() or await self._token()
        try:
            return await self._exchange(call, options, token)
        except AuthenticationError:
            # The token may have been revoked or expired early: refresh once, retry once.
            if token is None or self.auth is None or not self.auth.invalidate(token):
                raise
            return await self._exchange(call, options, await self._token())

    async def _token(self) -> str | None:
        if self.auth is None:
            return None
        try:
            return await self.auth.get()
        except APIError as error:
            error.before_send = True  # the call itself was not sent: safe to retry, even a write
            raise

    async def _exchange(self, call: Call[T], options: RequestOptions, token: str | None) -> T:
        url = call.path if call.absolute else self.base_url + call.path
        if call.query:
            url = f"{url}?{call.query}"
        headers = {"User-Agent": self._user_agent, "Accept": "application/json"}
        if options.headers:
            headers.update(options.headers)
        if call.headers:
            headers.update(call.headers)
        data: Any = call.body
        if data is not None:
            if call.content_type is not None:
                headers["Content-Type"] = call.content_type
            if not isinstance(data, bytes):  # a BodyStream: sent anew from its start
                if data.size is not None:
                    headers["Content-Length"] = str(data.size)
                data = data.open()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"

        delay = self.throttle.delay()
        if delay > 0:
            await asyncio.sleep(delay)
        pool = self._pool
        if pool is None or pool.loop is not asyncio.get_running_loop():
            pool = await self._open_pool()
        if call.write and not pool.checks_stale_writes:
            # A caller's session: one pass of the loop first, so that a pooled connection
            # whose close has arrived is seen closed and skipped (our own write pool checks
            # that itself, cheaper: see _pool._WriteConnector and WRITE_REUSE_IDLE).
            await asyncio.sleep(0)
        session = pool.writes if call.write else pool.reads
        started = time.monotonic()
        limit = self._max_response_size
        failure: APIError | None = None
        streamed, result = False, None
        try:
            async with session.request(
                call.method,
                URL(url, encoded=True) if call.absolute else _api_url(url),
                data=data,
                headers=headers,
                timeout=options.timeout,
                # The API does not redirect; following one would replay the body (the client
                # secret, a write) to wherever the Location header points.
                allow_redirects=False,
                proxy=self._proxy,
                ssl=self._ssl,
            ) as response:
                status = response.status
                response_headers = response.headers
                body: bytes | None = b""
                if 200 <= status < 300 and isinstance(call.decoder, StreamingDecoder):
                    # A download: consumed as it arrives (to a file, to a reader), never held whole.
                    result = await call.decoder.consume(response.content, response_headers)
                    streamed = True
                elif (length := response.content_length) is not None and length <= limit:
                    # A declared length within the limit (most answers): aiohttp reads
                    # exactly that much, in one call.
                    body = await response.read()
                else:
                    body = await _read_limited(response, limit)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            failure = _connection_error(call, error)
        if failure is not None:
            raise failure  # raised here, not in the except: aiohttp's error is not chained
        if body is None:
            raise self._too_large(call, status, response_headers)

        if options.on_response is not None:
            options.on_response(
                ResponseInfo(
                    method=call.method,
                    path=_public_path(call),
                    status=status,
                    headers=response_headers,
                    request_id=_request_id(response_headers),
                    elapsed=time.monotonic() - started,
                )
            )
        if streamed:
            return result  # type: ignore[return-value]
        if 200 <= status < 300:
            assert not isinstance(call.decoder, StreamingDecoder)
            try:
                return call.decoder.decode(body)
            except (msgspec.ValidationError, msgspec.DecodeError, RecursionError) as error:
                reason = "nested too deeply" if isinstance(error, RecursionError) else str(error)
                invalid = ResponseValidationError(
                    reason,
                    method=call.method,
                    path=_public_path(call),
                    status=status,
                    # A token response's body holds the token: never keep or show it.
                    body=body if call.authenticated else _REDACTED_TOKEN_BODY,
                    write=call.write,
                )
            invalid.outcome_unknown = call.write and may_have_processed(status)  # it did
            raise invalid  # here, not in the except: nothing is chained
        raise self._status_error(call, options, status, response_headers, body)

    def _too_large(
        self, call: Call[Any], status: int, headers: Mapping[str, str]
    ) -> ResponseTooLargeError:
        error = ResponseTooLargeError(
            method=call.method,
            path=_public_path(call),
            status=status,
            limit=self._max_response_size,
            body=b"",
            write=call.write,
        )
        error.outcome_unknown = call.write and may_have_processed(status)
        return error

    def _status_error(
        self,
        call: Call[Any],
        options: RequestOptions,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
    ) -> APIStatusError:
        try:
            errors = _ERROR_DECODER.decode(body).errors
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            errors = []
        error = status_error_class(status)(
            method=call.method,
            path=_public_path(call),
            status=status,
            headers=headers,
            body=body,
            errors=errors,
            request_id=_request_id(headers),
        )
        error.outcome_unknown = call.write and may_have_processed(status)
        error.retry_after = parse_retry_after(headers)
        if status in (429, 503) and options.on_pushback is not None:
            options.on_pushback()
        if error.retry_after is not None and status in (429, 503):
            # Capped like the retry wait, or a huge Retry-After would stall the retry anyway.
            self.throttle.defer(min(error.retry_after, options.retry_policy.max_retry_after))
        return error


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, read as it arrives; None when it exceeds ``limit`` bytes, in which case the
    connection is closed rather than reused (the rest of the body is still on it)."""
    length = response.content_length
    if length is not None and length > limit:
        response.close()
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        size += len(chunk)
        if size > limit:
            response.close()
            return None
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


@lru_cache(maxsize=1024)
def _api_url(url: str) -> URL:
    """The URL object of an API URL (already encoded), made once while the same one keeps
    coming (a bulk upload's per-user paths, a page fetched again): yarl computes its parts,
    which aiohttp reads several times per request, once per object. Absolute URLs (a
    presigned file URL is a credential) are never kept."""
    return URL(url, encoded=True)


def _connection_error(call: Call[Any], error: BaseException) -> APIConnectionError:
    """Classify a failure to get a response: could the server have processed the request?

    The reason is built from what aiohttp's error says, minus any URL's query string; the
    error itself is not kept (its repr and args hold the request headers).
    """
    kind, reason, maybe_processed, transient = APIConnectionError, "", call.write, True
    if isinstance(error, aiohttp.ClientSSLError):
        reason, maybe_processed, transient = f"TLS error: {error}", False, False
    elif isinstance(error, aiohttp.ConnectionTimeoutError):
        kind, reason, maybe_processed = APITimeoutError, "timed out connecting", False
    elif isinstance(error, aiohttp.ClientProxyConnectionError):
        reason, maybe_processed = f"cannot connect to the proxy: {error.os_error}", False
    elif isinstance(error, aiohttp.ClientConnectorError):
        reason, maybe_processed = f"cannot connect: {error.os_error}", False
    elif isinstance(error, aiohttp.ClientHttpProxyError):
        reason, maybe_processed = f"the proxy refused: HTTP {error.status} {error.message}", False
    elif isinstance(error, aiohttp.ClientResponseError):
        reason = "invalid response: " + " ".join(str(error.message).split())
    elif isinstance(error, asyncio.TimeoutError):
        kind, reason = APITimeoutError, "timed out waiting for the response"
    else:
        reason = f"connection failed: {type(error).__name__}: {error}"
    path = _public_path(call)
    return kind(
        f"{call.method} {path}: {_without_queries(reason)}",
        method=call.method,
        path=path,
        outcome_unknown=maybe_processed,
        transient=transient,
    )


def _without_queries(text: str) -> str:
    """``text`` with every URL in it cut to scheme, host and path (no user info, no query)."""
    return _URL.sub(r"\1\2\3", text)


def _public_path(call: Call[Any]) -> str:
    """The path without query string or host: safe to put in messages and logs."""
    if call.absolute:
        return URL(call.path, encoded=True).path
    return call.path


def _request_id(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _log_retry(details: Mapping[str, Any]) -> None:
    call: Call[Any] = details["args"][0]
    error = details.get("exception")
    logger.debug(
        "retrying %s %s in %.2fs (attempt %d failed: %s)",
        call.method,
        _public_path(call),
        details.get("wait", 0.0),
        details["tries"],
        error,
    )
