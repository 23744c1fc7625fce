"""Base Structs and the forward-compatible decoding machinery shared by every model module.

Responses are decoded straight from bytes, by the decoder :func:`decoder_for` derives from
the response type (once, cached). The fast path is a strict msgspec decoder whose
resource lists are tagged unions on ``type``; if the server sends a resource type we do not
know, that path fails and the lenient path decodes the same bytes again, keeping each
unknown resource as an :class:`UnknownResource` instead of failing the whole response.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, Union, cast, get_args, get_origin
from urllib.parse import parse_qsl, urlsplit

import msgspec

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = TypeVar("P", bound="Page")


class Model(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, gc=False):
    """Base of every response model: camelCase on the wire, unknown fields ignored.

    ``gc=False``: models are trees (no reference cycles), so the garbage collector never
    needs to track them; this halves decode time and tail latency on large pages.
    """


class Resource(Model, tag_field="type"):
    """A JSON:API resource whose ``type`` is known; the tag selects the class."""

    id: str

    @property
    def type(self) -> str:
        """The resource type: the ``type`` tag it has on the wire."""
        return str(self.__struct_config__.tag)


class ResourceIdentifier(Model):
    """A ``{type, id}`` pointer to another resource (a JSON:API resource identifier)."""

    type: str
    id: str


class Relationship(Model):
    """A JSON:API relationship: one identifier, a list of them, or null."""

    data: list[ResourceIdentifier] | ResourceIdentifier | None = None

    @property
    def ids(self) -> list[str]:
        if self.data is None:
            return []
        if isinstance(self.data, ResourceIdentifier):
            return [self.data.id]
        return [item.id for item in self.data]


class Links(Model):
    """Relative URLs of this page and its neighbours, as the API returns them."""

    self_: str | None = msgspec.field(default=None, name="self")
    prev: str | None = None
    next: str | None = None


class UnknownResource(Model):
    """A resource of a type this version of the library does not know. Kept, never fatal."""

    type: str
    id: str = ""
    attributes: dict[str, Any] = {}
    relationships: dict[str, Any] = {}


class _TypePeek(msgspec.Struct, gc=False):
    type: str = ""


_PEEK = msgspec.json.Decoder(_TypePeek)
_UNKNOWN = msgspec.json.Decoder(UnknownResource)


class ResourceResolver:
    """Decodes one raw resource with the decoder of its ``type``, or as UnknownResource.

    ``fallbacks`` give known types a lenient second try, for resources that nest resource
    lists of their own (a placement slot's offers).
    """

    def __init__(
        self,
        known: Iterable[type[Resource]],
        fallbacks: Mapping[str, Callable[[msgspec.Raw], Any]] | None = None,
    ) -> None:
        self._decoders: dict[str, msgspec.json.Decoder[Any]] = {
            cls.__struct_config__.tag: msgspec.json.Decoder(cls)  # type: ignore[misc]
            for cls in known
        }
        self._fallbacks = dict(fallbacks or {})

    def __call__(self, raw: msgspec.Raw) -> Any:
        kind = _PEEK.decode(raw).type
        decoder = self._decoders.get(kind)
        if decoder is None:
            return _UNKNOWN.decode(raw)
        try:
            return decoder.decode(raw)
        except msgspec.ValidationError:
            if kind not in self._fallbacks:
                raise
            return self._fallbacks[kind](raw)


class _ResponseDecoder(Generic[T]):
    """Decodes a response into ``model``, forward compatibly.

    ``resource_lists`` maps each list field that holds resources to the types it may hold.
    The fast decoder reads those lists as a tagged union; if that fails (for example on a
    resource type we do not know), the lenient decoder reads them as raw items and resolves
    each by its ``type``. Fields named in ``known_only`` are typed as known resources only:
    there, resources of other types are moved to the model's ``unknown`` list. Both paths
    produce a subclass of ``model`` with the same name, so callers only ever see ``model``.
    """

    def __init__(
        self,
        model: type[T],
        resource_lists: dict[str, tuple[type[Resource], ...]],
        *,
        known_only: tuple[str, ...],
        fallbacks: Mapping[str, Callable[[msgspec.Raw], Any]],
    ) -> None:
        fast: list[tuple[str, Any, Any]] = [
            (name, list[Union[known]], msgspec.field(default_factory=list))  # type: ignore[valid-type]  # noqa: UP007
            for name, known in resource_lists.items()
        ]
        raw: list[tuple[str, Any, Any]] = [
            (name, list[msgspec.Raw], msgspec.field(default_factory=list))
            for name in resource_lists
        ]
        self._fast: msgspec.json.Decoder[T] = msgspec.json.Decoder(
            msgspec.defstruct(
                model.__name__, fast, bases=(model,), kw_only=True, module=model.__module__
            )
        )
        self._lenient: msgspec.json.Decoder[Any] = msgspec.json.Decoder(
            msgspec.defstruct(
                model.__name__, raw, bases=(model,), kw_only=True, module=model.__module__
            )
        )
        self._fields = tuple(resource_lists)
        self._known_only = known_only
        self._resolve = ResourceResolver(
            {cls for known in resource_lists.values() for cls in known}, fallbacks
        )

    def decode(self, body: bytes, /) -> T:
        try:
            return self._fast.decode(body)
        except msgspec.ValidationError:
            pass
        page = self._lenient.decode(body)
        for name in self._fields:
            resources = [self._resolve(raw) for raw in getattr(page, name)]
            if name in self._known_only:  # typed as known resources: set the others aside
                page.unknown.extend(r for r in resources if isinstance(r, UnknownResource))
                resources = [r for r in resources if not isinstance(r, UnknownResource)]
            setattr(page, name, resources)
        return page  # type: ignore[no-any-return]


class _Envelope(msgspec.Struct, Generic[T], gc=False):
    data: T


class _Unwrap(Generic[T]):
    """Decodes ``{"data": <T>, ...}`` and returns the ``T``."""

    def __init__(self, model: type[T]) -> None:
        self._decoder = msgspec.json.Decoder(_Envelope[model])  # type: ignore[valid-type]

    def decode(self, buf: bytes, /) -> T:
        envelope: _Envelope[T] = self._decoder.decode(buf)
        return envelope.data


class Decoder(Protocol[T_co]):
    """Turns response bytes into a typed value (a ``msgspec.json.Decoder`` or a wrapper)."""

    def decode(self, buf: bytes, /) -> T_co: ...


def decoder_for(model: type[T], *, unwrap: bool = False) -> Decoder[T]:
    """The decoder of a response type, built once from its annotations and cached.

    Resource lists (fields typed ``list[SomeResource | ...]``) get the forward-compatible
    two-path decoder; a list that does not admit :class:`UnknownResource` sets unknown
    resource types aside in the model's ``unknown`` field. ``unwrap=True`` decodes
    ``{"data": <model>}`` and returns the inner value.
    """
    decoder: Decoder[T] = _decoder_for(cast(Hashable, model), unwrap)
    return decoder


@functools.cache
def _decoder_for(model: Any, unwrap: bool) -> Decoder[Any]:
    if unwrap:
        return _Unwrap(model)
    lists = _resource_lists(model)
    if not lists:
        return msgspec.json.Decoder(model)
    known_only = tuple(name for name, (_, open_) in lists.items() if not open_)
    fallbacks = {
        str(cls.__struct_config__.tag): _lenient_resource(cls)
        for known, _ in lists.values()
        for cls in known
        if _resource_lists(_attributes_type(cls))
    }
    return _ResponseDecoder(
        model,
        {name: known for name, (known, _) in lists.items()},
        known_only=known_only,
        fallbacks=fallbacks,
    )


def _resource_lists(model: object) -> dict[str, tuple[tuple[type[Resource], ...], bool]]:
    """``field -> (resource types, admits UnknownResource)`` for each resource-list field."""
    if not (isinstance(model, type) and issubclass(model, msgspec.Struct)):
        return {}
    found: dict[str, tuple[tuple[type[Resource], ...], bool]] = {}
    for info in msgspec.structs.fields(model):
        if get_origin(info.type) is not list:
            continue
        (item,) = get_args(info.type)
        members = get_args(item) if get_origin(item) in (Union, types.UnionType) else (item,)
        known = tuple(m for m in members if isinstance(m, type) and issubclass(m, Resource))
        if known:
            found[info.name] = (known, UnknownResource in members)
    return found


def _attributes_type(cls: type[Resource]) -> object:
    for info in msgspec.structs.fields(cls):
        if info.name == "attributes":
            return info.type
    return None


class _RawResource(msgspec.Struct, gc=False):
    id: str
    attributes: msgspec.Raw


def _lenient_resource(cls: type[Resource]) -> Callable[[msgspec.Raw], Any]:
    """For a resource whose attributes hold resource lists of their own (a placement slot's
    offers): decode those attributes forward compatibly too."""
    attributes: Decoder[Any] = _decoder_for(_attributes_type(cls), False)
    raw_decoder = msgspec.json.Decoder(_RawResource)

    def decode(raw: msgspec.Raw) -> Any:
        item = raw_decoder.decode(raw)
        return cls(id=item.id, attributes=attributes.decode(item.attributes))  # type: ignore[call-arg]

    return decode


# --- pages ---


def cursor_from_link(link: str | None, key: str = "page[after]") -> str | None:
    """Pull a cursor such as ``page[after]`` out of a relative ``links.next`` URL."""
    if not link:
        return None
    for name, value in parse_qsl(urlsplit(link).query, keep_blank_values=True):
        if name == key:
            return value or None
    return None


class Page(Model, gc=True, dict=True):
    """Base of every page of a list endpoint: ``data``, ``links`` and the cursors.

    ``await page.next_page()`` fetches the page after it (None after the last). Pages are
    tracked by the garbage collector and carry a ``__dict__`` (for the link back to the
    request that made them); the many items inside stay untracked.
    """

    links: Links = msgspec.field(default_factory=Links)
    unknown: list[UnknownResource] = msgspec.field(default_factory=list, name="kard-async:unknown")
    """Items of ``data`` whose resource type this version does not know (never on the wire)."""

    if TYPE_CHECKING:  # every page type declares its own ``data`` list

        @property
        def data(self) -> Sequence[Any]: ...

    @property
    def next_cursor(self) -> str | None:
        """Pass as ``after=`` to get the next page; None on the last page."""
        return cursor_from_link(self.links.next, "page[after]")

    @property
    def prev_cursor(self) -> str | None:
        """Pass as ``before=`` to get the previous page; None on the first page."""
        return cursor_from_link(self.links.prev, "page[before]")

    def has_next_page(self) -> bool:
        """True when the server links a next page (and this one was not empty)."""
        return bool(self.data) and self.next_cursor is not None

    async def next_page(self: P) -> P | None:
        """The next page, with the same filters; None after the last page."""
        cursor = self.next_cursor
        if not self.has_next_page() or cursor is None:
            return None
        fetch: Callable[[str], Awaitable[P]] | None = vars(self).get("_kard_next")
        if fetch is None:
            raise RuntimeError("this page was not fetched by a client, so it cannot fetch more")
        return await fetch(cursor)
