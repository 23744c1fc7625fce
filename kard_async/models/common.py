"""Models shared by several API areas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._errors import ErrorObject, ErrorSource, MultiStatusError
from ._base import Links, Model, Relationship, Resource, ResourceIdentifier, UnknownResource

__all__ = [
    "Category",
    "CategoryAttributes",
    "ErrorObject",
    "ErrorSource",
    "Job",
    "JobAttributes",
    "Links",
    "MultiStatus",
    "Relationship",
    "ResourceIdentifier",
    "UnknownResource",
]


class CategoryAttributes(Model):
    name: str


class Category(Resource, tag="category"):
    """A merchant category, e.g. ``Food & Beverage``."""

    attributes: CategoryAttributes

    @property
    def name(self) -> str:
        return self.attributes.name


class JobAttributes(Model):
    status: str
    """``queued`` today; new values are kept as they come."""
    message: str = ""


class Job(Model):
    """An accepted asynchronous job, e.g. a queued batch of attribution events."""

    type: str
    id: str
    attributes: JobAttributes

    @property
    def status(self) -> str:
        return self.attributes.status


class MultiStatus(Model, kw_only=True):
    """The answer to a batch write that may partly succeed (HTTP 207 Multi-Status).

    ``data`` holds what succeeded; ``errors`` one entry per failed item, each with the
    ``id`` of the item, its ``status`` and its ``detail``. A 207 is never silent: check
    ``ok``, or call ``raise_for_errors()``. Each area declares its own ``data`` type.
    """

    errors: list[ErrorObject] = []

    if TYPE_CHECKING:

        @property
        def data(self) -> Sequence[Any]: ...

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return not self.errors

    @property
    def failed_ids(self) -> list[str]:
        """The ids of the items that failed, in the order the server listed them."""
        return [error.id for error in self.errors if error.id is not None]

    def raise_for_errors(self) -> None:
        """Raise :class:`~kard_async.MultiStatusError` if any item failed."""
        if self.errors:
            raise MultiStatusError(self.errors, succeeded=len(self.data))
