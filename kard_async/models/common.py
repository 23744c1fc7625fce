"""Models shared by several API areas."""

from __future__ import annotations

from .._errors import ErrorObject, ErrorSource
from ._base import Links, Model, Relationship, Resource, ResourceIdentifier, UnknownResource

__all__ = [
    "Category",
    "CategoryAttributes",
    "ErrorObject",
    "ErrorSource",
    "Job",
    "JobAttributes",
    "Links",
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
    def type(self) -> str:
        return "category"

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
