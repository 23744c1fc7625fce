"""``kard.users``: enroll, read, update and delete users (§4), their WebView tokens (§6),
and the user-scoped API areas (rewards, attributions, audits)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, Union

from .. import bulk
from .._errors import InvalidParameterError
from .._query import path as url_path
from .._validate import nested, require_id
from ..bulk import BatchSpec, BulkProgress, BulkReport
from ..models.common import ResourceIdentifier
from ..models.users import (
    EnrolledUser,
    User,
    UsersCreated,
    WebViewToken,
    as_user,
    encode_user,
    encode_users,
)
from ._base import AsyncResource
from .attributions import AsyncAttributions
from .audits import AsyncAudits
from .rewards import AsyncRewards

MAX_USERS_PER_REQUEST = 100

UserInput = Union[User, Mapping[str, Any]]  # noqa: UP007
UsersInput = Union[Iterable[UserInput], AsyncIterable[UserInput]]  # noqa: UP007


def prepare_users(users: Sequence[User | Mapping[str, Any]]) -> list[User]:
    """Check a batch for one request: 1 to 100 users with distinct ids."""
    if isinstance(users, (str, bytes, Mapping)) or not isinstance(users, Sequence):
        raise InvalidParameterError("users", users, "must be a list of User objects or mappings")
    if not 1 <= len(users) <= MAX_USERS_PER_REQUEST:
        raise InvalidParameterError(
            "users",
            f"<{len(users)} users>",
            f"one request takes 1 to {MAX_USERS_PER_REQUEST} users",
            hint="use kard.users.bulk_create() to enroll any number of users",
        )
    prepared: list[User] = []
    first: dict[str, int] = {}
    for index, given in enumerate(users):
        try:
            user = as_user(given)
        except InvalidParameterError as error:
            raise nested(f"users[{index}]", error, "user") from None
        seen = first.setdefault(user.id, index)
        if seen != index:
            raise InvalidParameterError(
                f"users[{index}].id",
                user.id,
                f"duplicates users[{seen}].id: a request enrolls each user once",
            )
        prepared.append(user)
    return prepared


USERS: BatchSpec[User, UsersCreated] = BatchSpec(
    max_batch=MAX_USERS_PER_REQUEST,
    check=as_user,
    built=frozenset((User,)),
    path=lambda organization, _: url_path("v2", "issuers", organization, "users"),
    encode=encode_users,
    result=UsersCreated,
    job_id=lambda result: None,  # users are enrolled at once: there is no job
    resend=lambda organization, user: user,
    noun="users",
    item_errors=lambda result: result.errors,
    item_id=lambda user: user.id,
)


class AsyncUsers(AsyncResource):
    """Your users, addressed by your own user id, and the calls about one of them."""

    @cached_property
    def rewards(self) -> AsyncRewards:
        return AsyncRewards(self._requester)

    @cached_property
    def attributions(self) -> AsyncAttributions:
        return AsyncAttributions(self._requester)

    @cached_property
    def audits(self) -> AsyncAudits:
        return AsyncAudits(self._requester)

    async def create(
        self,
        users: Sequence[User | Mapping[str, Any]],
        *,
        organization_id: str | None = None,
    ) -> UsersCreated:
        """Enroll 1 to 100 users (:class:`~kard_async.models.User` objects or their wire
        form as mappings), each id at most once. For more, use ``bulk_create``.

        Some users may be refused while the others are enrolled (HTTP 207): the result's
        ``data`` holds the users enrolled and ``errors`` one entry per user refused, with
        its ``id``, ``status`` (``"409"``: the user already exists) and ``detail``. Check
        ``result.ok`` or call ``result.raise_for_errors()``. When every user is refused the
        call raises (``BadRequestError``, or ``ConflictError`` when all already exist).

        Retried only when it surely was not processed; otherwise an error with
        ``outcome_unknown=True`` says the users may have been enrolled.
        """
        return await self._post(
            self._org_path("users", organization_id=organization_id),
            body=encode_users(prepare_users(users)),
            cast_to=UsersCreated,
        )

    async def get(self, user_id: str, *, organization_id: str | None = None) -> EnrolledUser:
        """The user as Kard has it on file; ``NotFoundError`` if it is not enrolled."""
        return await self._get(
            self._user_path(user_id, organization_id=organization_id),
            cast_to=EnrolledUser,
            unwrap=True,
        )

    async def update(
        self,
        user_id: str,
        user: User | Mapping[str, Any],
        *,
        organization_id: str | None = None,
    ) -> EnrolledUser:
        """Replace the user's attributes with ``user`` (a :class:`~kard_async.models.User`
        whose ``id`` is ``user_id``, or its wire form; a mapping may leave the id out).
        ``enrolled_rewards`` is required here too. ``NotFoundError`` if not enrolled.

        To change one field, start from what is on file:
        ``(await kard.users.get(uid)).to_user()`` and ``msgspec.structs.replace`` it.
        """
        return await self._put(
            self._user_path(user_id, organization_id=organization_id),
            body=encode_user(_same_user(user_id, user)),
            cast_to=EnrolledUser,
            unwrap=True,
        )

    async def delete(
        self, user_id: str, *, organization_id: str | None = None
    ) -> ResourceIdentifier:
        """Remove the user from the program and from Kard (the id may be enrolled again
        later). Returns ``{type, id}`` of the user deleted; ``NotFoundError`` if unknown."""
        return await self._delete(
            self._user_path(user_id, organization_id=organization_id),
            cast_to=ResourceIdentifier,
            unwrap=True,
        )

    async def web_view_token(
        self, user_id: str, *, organization_id: str | None = None
    ) -> WebViewToken:
        """A user-scoped OAuth token for Kard's hosted WebView: ``.access_token``,
        ``.expires_in`` (seconds) and ``.token_type``. Hand it to the user's app only; its
        repr never shows the token."""
        return await self._post(
            url_path(
                "v2",
                "auth",
                "issuers",
                self._requester.organization(organization_id),
                "users",
                require_id("user_id", user_id),
                "token",
            ),
            cast_to=WebViewToken,
        )

    async def bulk_create(
        self,
        users: UsersInput,
        *,
        concurrency: int = 16,
        on_progress: Callable[[BulkProgress], None] | None = None,
        max_buffered_users: int = 10_000,
        max_retries: int = 8,
        organization_id: str | None = None,
    ) -> BulkReport:
        """Enroll any number of users.

        ``users`` is an iterable or async iterable of :class:`~kard_async.models.User`
        objects or wire mappings, consumed lazily. They are sent 100 per request with up to
        ``concurrency`` requests in flight, slowing down when the server pushes back
        (HTTP 429/503, ``Retry-After`` honoured); a request is retried (up to
        ``max_retries`` times) only when it surely was not processed.

        Every input user ends up in exactly one of ``report.jobs`` (enrolled; ``job_id`` is
        None), ``report.failed`` or ``report.invalid``. A user the server refuses (invalid,
        or already enrolled: HTTP 409) is invalid, with the server's reason; the others of
        its request are enrolled and never sent twice. ``report.failed_items()`` gives the
        failed users, ready to send again (``include_unknown=False`` leaves out those that
        may have been enrolled). Programming errors and cancellation propagate, with the
        partial report as the exception's ``kard_bulk_report``.
        """
        return await bulk.upload(
            USERS,
            self._requester.derive(organization_id=organization_id),
            users,
            concurrency=concurrency,
            max_buffered=max_buffered_users,
            max_retries=max_retries,
            on_progress=on_progress,
        )


def _same_user(user_id: str, user: User | Mapping[str, Any]) -> User:
    require_id("user_id", user_id)
    if isinstance(user, Mapping) and "id" not in user:
        user = {**user, "id": user_id}
    try:
        checked = as_user(user)
    except InvalidParameterError as error:
        raise nested("user", error, "user") from None
    if checked.id != user_id:
        raise InvalidParameterError(
            "user.id", checked.id, f"must be the user_id of the call ({user_id!r})"
        )
    return checked
