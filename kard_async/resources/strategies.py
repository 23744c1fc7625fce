"""Content strategies (API reference §9.3): how placements choose their offers."""

from __future__ import annotations

from collections.abc import Sequence

from .. import _params as params
from .._pagination import AsyncPaginator
from .._validate import require_id
from ..models._base import ResourceIdentifier
from ..models.organizations import (
    MAX_LIST_PAGE_SIZE,
    ContentStrategiesPage,
    ContentStrategy,
    ContentStrategySort,
    OfferFeature,
    encode_content_strategy,
)
from ..models.rewards import CategoryOption
from ._base import AsyncResource


class AsyncContentStrategies(AsyncResource):
    """``kard.organizations.content_strategies``: how placements choose their offers."""

    def list(
        self,
        *,
        name: str | None = None,
        page_size: int | None = None,
        after: str | None = None,
        organization_id: str | None = None,
    ) -> AsyncPaginator[ContentStrategy, ContentStrategiesPage]:
        """Your content strategies (``name``: exactly this name). ``await`` for a page
        (``page_size`` 1 to 200, the server's default 200), ``async for`` for all."""
        return self._get_page(
            self._org_path("contentStrategies", organization_id=organization_id),
            query=[
                ("filter[name]", params.text("name", name)),
                *params.paging(page_size, after, max_size=MAX_LIST_PAGE_SIZE),
            ],
            cast_to=ContentStrategiesPage,
        )

    async def get(
        self, content_strategy_id: str, *, organization_id: str | None = None
    ) -> ContentStrategy:
        """One content strategy (``NotFoundError`` if there is none with this id)."""
        return await self._get(
            self._path(content_strategy_id, organization_id), cast_to=ContentStrategy
        )

    async def create(
        self,
        name: str,
        *,
        categories: Sequence[CategoryOption] = (),
        category_exclusions: Sequence[CategoryOption] = (),
        merchant_exclusions: Sequence[str] = (),
        sort: ContentStrategySort | None = None,
        offer_features: Sequence[OfferFeature] | None = None,
        organization_id: str | None = None,
    ) -> ContentStrategy:
        """Create a content strategy. ``name`` must be unique in the organization (else
        ``ConflictError``, HTTP 409). ``categories`` to include, ``category_exclusions`` and
        ``merchant_exclusions`` (merchant ids) to leave out; ``sort`` orders the offers;
        ``offer_features=["INTERACTIVE"]`` keeps offers with that feature.

        Not retried once it may have been processed: a failure then has
        ``outcome_unknown=True`` (look it up by name before creating it again).
        """
        return await self._post(
            self._org_path("contentStrategies", organization_id=organization_id),
            body=encode_content_strategy(
                name,
                sort=sort,
                categories=categories,
                category_exclusions=category_exclusions,
                merchant_exclusions=merchant_exclusions,
                offer_features=offer_features,
            ),
            cast_to=ContentStrategy,
        )

    async def update(
        self,
        content_strategy_id: str,
        name: str,
        *,
        categories: Sequence[CategoryOption] = (),
        category_exclusions: Sequence[CategoryOption] = (),
        merchant_exclusions: Sequence[str] = (),
        sort: ContentStrategySort | None = None,
        offer_features: Sequence[OfferFeature] | None = None,
        organization_id: str | None = None,
    ) -> ContentStrategy:
        """Replace a content strategy: a full replacement (PUT), not a patch. Every
        attribute is sent, and what you leave out is cleared (no ``sort``, empty lists),
        so pass everything the strategy should keep. Arguments as for ``create``."""
        return await self._put(
            self._path(content_strategy_id, organization_id),
            body=encode_content_strategy(
                name,
                sort=sort,
                categories=categories,
                category_exclusions=category_exclusions,
                merchant_exclusions=merchant_exclusions,
                offer_features=offer_features,
            ),
            cast_to=ContentStrategy,
        )

    async def delete(
        self, content_strategy_id: str, *, organization_id: str | None = None
    ) -> ResourceIdentifier:
        """Delete a content strategy; returns its ``type`` and ``id``.

        A strategy still linked to a placement is not deleted: Kard answers HTTP 409, raised
        as ``ConflictError`` whose message carries Kard's explanation. Link those placements
        to another strategy (or delete them) first. A 409 is never retried.
        """
        return await self._delete(
            self._path(content_strategy_id, organization_id),
            cast_to=ResourceIdentifier,
            unwrap=True,
        )

    def _path(self, content_strategy_id: str, organization_id: str | None) -> str:
        return self._org_path(
            "contentStrategies",
            require_id("content_strategy_id", content_strategy_id),
            organization_id=organization_id,
        )
