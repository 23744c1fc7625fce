"""Base Structs and the forward-compatible decoding machinery shared by every model module.

Responses are decoded straight from bytes. The fast path is a strict msgspec decoder whose
resource lists are tagged unions on ``type``; if the server sends a resource type we do not
know, that path fails and the lenient path decodes the same bytes again, keeping each
unknown resource as an :class:`UnknownResource` instead of failing the whole response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar, Union

import msgspec

T = TypeVar("T")


class Model(msgspec.Struct, kw_only=True, rename="camel", omit_defaults=True, gc=False):
    """Base of every response model: camelCase on the wire, unknown fields ignored.

    ``gc=False``: models are trees (no reference cycles), so the garbage collector never
    needs to track them; this halves decode time and tail latency on large pages.
    """


class Resource(Model, tag_field="type"):
    """A JSON:API resource whose ``type`` is known; the tag selects the class."""

    id: str


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


class ResponseDecoder(Generic[T]):
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
        known_only: tuple[str, ...] = (),
        fallbacks: Mapping[str, Callable[[msgspec.Raw], Any]] | None = None,
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

    def decode(self, body: bytes) -> T:
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


class DataDecoder(Generic[T]):
    """Decodes ``{"data": <T>, ...}`` and returns the ``T``."""

    def __init__(self, model: type[T]) -> None:
        self._decoder = msgspec.json.Decoder(_Envelope[model])  # type: ignore[valid-type]

    def decode(self, buf: bytes, /) -> T:
        envelope: _Envelope[T] = self._decoder.decode(buf)
        return envelope.data
