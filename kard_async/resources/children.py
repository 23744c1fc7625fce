"""Child organizations (API reference §9.2): organizations cloned from yours."""

from __future__ import annotations

from collections.abc import Sequence

from .. import _params as params
from .._pagination import AsyncPaginator
from .._validate import require_id
from ..models._base import ResourceIdentifier
from ..models.organizations import (
    MAX_LIST_PAGE_SIZE,
    ChildOrganization,
    ChildOrganizationsPage,
    encode_child,
)
from ._base import AsyncResource


class AsyncChildren(AsyncResource):
    """``kard.organizations.children``: organizations cloned from yours."""

    def list(
        self,
        *,
        page_size: int | None = None,
        after: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[ChildOrganization, ChildOrganizationsPage]:
        """Your child organizations. ``await`` for a page (``page_size`` 1 to 200, the
        server's default 200), ``async for`` for all of them."""
        return self._get_page(
            self._org_path("children", organization_id=organization_id),
            query=params.paging(page_size, after, max_size=MAX_LIST_PAGE_SIZE),
            cast_to=ChildOrganizationsPage,
        )

    async def get(self, child_id: str, *, organization_id: str | None = None) -> ChildOrganization:
        """One child organization (``NotFoundError`` if there is none with this id)."""
        return await self._get(
            self._org_path(
                "children", require_id("child_id", child_id), organization_id=organization_id
            ),
            cast_to=ChildOrganization,
        )

    async def create(
        self,
        name: str,
        *,
        external_id: str | None = None,
        bins: Sequence[str] | None = None,
        organization_id: str | None = None,
    ) -> ChildOrganization:
        """Create a child organization, cloned from yours: what you leave out (``bins``)
        is your organization's. Kard issues its id (8 digits) and checks ``name`` (letters,
        digits and spaces, at least two letters or digits). A name or external id already
        in use is a ``ConflictError`` (HTTP 409).

        Not retried once it may have been processed: a failure then has
        ``outcome_unknown=True`` (list the children before creating it again).
        """
        return await self._post(
            self._org_path("children", organization_id=organization_id),
            body=encode_child(name, external_id, bins, create=True),
            cast_to=ChildOrganization,
        )

    async def update(
        self,
        child_id: str,
        *,
        name: str | None = None,
        external_id: str | None = None,
        bins: Sequence[str] | None = None,
        organization_id: str | None = None,
    ) -> ChildOrganization:
        """Change some attributes of a child organization (a PATCH: what you leave out is
        kept). At least one of ``name``, ``external_id`` and ``bins`` is required."""
        return await self._patch(
            self._org_path(
                "children", require_id("child_id", child_id), organization_id=organization_id
            ),
            body=encode_child(name, external_id, bins, create=False),
            cast_to=ChildOrganization,
        )

    async def delete(
        self, child_id: str, *, organization_id: str | None = None
    ) -> ResourceIdentifier:
        """Delete a child organization; returns its ``type`` and ``id``."""
        return await self._delete(
            self._org_path(
                "children", require_id("child_id", child_id), organization_id=organization_id
            ),
            cast_to=ResourceIdentifier,
            unwrap=True,
        )
