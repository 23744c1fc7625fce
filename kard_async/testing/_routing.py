"""Routes: the ``@route`` decorator, the parsed request a handler gets, and path matching."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

import msgspec

from ._jsonapi import ApiError, Params

if TYPE_CHECKING:
    from ._emulator import KardEmulator

Document = dict[str, Any]


@dataclass
class Call:
    """One routed request, as a handler sees it."""

    emulator: KardEmulator
    method: str
    headers: Mapping[str, str]
    body: bytes
    raw_path: str
    raw_query: str
    params: Params
    path: dict[str, str]
    """Path parameters by template name, percent-decoded: ``call.path["user"]``."""
    organization_id: str = ""
    """The organization of the bearer token (empty on routes without auth)."""
    extras: bool = False
    """The "extras" fault fires: the dispatcher decorates the document (handlers ignore it)."""
    status: int | None = None
    """Set by a handler whose success status depends on the request (207 Multi-Status)."""

    @property
    def user_id(self) -> str:
        return self.path["user"]

    @property
    def user_path(self) -> str:
        """``/v2/issuers/{org}/users/{user}`` exactly as the client encoded it (for links)."""
        return "/".join(self.raw_path.split("/")[:6])

    def json(self) -> Any:
        """The request body decoded as JSON; a 400 if it is not JSON."""
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError as exc:
            raise ApiError(400, f"request body is not valid JSON: {exc}") from None


Handler = Callable[[Call], Document]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool
    status: int
    segments: tuple[str, ...]


_ROUTE_ATTRIBUTE = "__kard_route__"


def route(method: str, template: str, *, auth: bool = True, status: int = 200) -> Callable[[H], H]:
    """Declare the endpoint a handler serves.

    ``template`` is the API path with ``{name}`` placeholders (``call.path["name"]``). With
    ``auth`` (the default) the request needs a live bearer token, and a ``{org}`` segment
    must be the token's organization. ``status`` is the status of a successful reply: the
    handler returns the JSON document and raises ``ApiError`` for anything else.
    """
    if not template.startswith("/"):
        raise ValueError(f"route template must start with '/': {template!r}")

    def declare(handler: H) -> H:
        segments = tuple(template[1:].split("/"))
        setattr(handler, _ROUTE_ATTRIBUTE, Route(method, template, handler, auth, status, segments))
        return handler

    return declare


class Router:
    """Matches a raw request path against the routes of the given API area modules."""

    def __init__(self, modules: Iterable[ModuleType]) -> None:
        self._by_template: dict[str, dict[str, Route]] = {}
        for module in modules:
            for value in vars(module).values():
                found = getattr(value, _ROUTE_ATTRIBUTE, None)
                if isinstance(found, Route) and value.__module__ == module.__name__:
                    self._add(found)
        # By segment count: (literal segments by position, parameter names by position, routes).
        self._by_length: dict[int, list[_Template]] = {}
        for methods in self._by_template.values():
            segments = next(iter(methods.values())).segments
            literals = tuple((i, s) for i, s in enumerate(segments) if not s.startswith("{"))
            names = tuple((i, s[1:-1]) for i, s in enumerate(segments) if s.startswith("{"))
            self._by_length.setdefault(len(segments), []).append((literals, names, methods))

    def _add(self, found: Route) -> None:
        methods = self._by_template.setdefault(found.template, {})
        if found.method in methods:
            raise ValueError(f"two handlers for {found.method} {found.template}")
        methods[found.method] = found

    @property
    def routes(self) -> list[Route]:
        return [found for methods in self._by_template.values() for found in methods.values()]

    def match(self, raw_path: str) -> tuple[dict[str, Route], dict[str, str]] | None:
        """``({method: route}, path parameters)`` for a raw path, or None (a 404)."""
        if not raw_path.startswith("/"):
            return None
        # Split the raw path before decoding, so that an encoded "/" stays in its segment.
        values = [unquote(raw) if "%" in raw else raw for raw in raw_path[1:].split("/")]
        for literals, names, methods in self._by_length.get(len(values), ()):
            for i, text in literals:
                if values[i] != text:
                    break
            else:
                params = {name: values[i] for i, name in names}
                if all(params.values()):
                    return methods, params
        return None


_Template = tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...], dict[str, Route]]
