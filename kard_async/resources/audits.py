"""``kard.users.audits``: ask Kard to re-examine a user's transaction (§7.3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._errors import InvalidParameterError
from .._validate import nested
from ..models.users import Audit, AuditsCreated, as_audit, encode_audits
from ._base import AsyncResource


def prepare_audits(audits: Sequence[Audit | Mapping[str, Any]]) -> list[Audit]:
    """Check the audits of one request: at least one, each transaction at most once (a
    refused audit is reported by its transaction id)."""
    if isinstance(audits, (str, bytes, Mapping)) or not isinstance(audits, Sequence):
        raise InvalidParameterError("audits", audits, "must be a list of Audit objects or mappings")
    if not audits:
        raise InvalidParameterError("audits", audits, "must hold at least one audit")
    prepared: list[Audit] = []
    first: dict[str, int] = {}
    for index, given in enumerate(audits):
        try:
            audit = as_audit(given)
        except InvalidParameterError as error:
            raise nested(f"audits[{index}]", error, "audit") from None
        seen = first.setdefault(audit.transaction_id, index)
        if seen != index:
            raise InvalidParameterError(
                f"audits[{index}].transaction_id",
                audit.transaction_id,
                f"duplicates audits[{seen}].transaction_id: one audit per transaction",
            )
        prepared.append(audit)
    return prepared


class AsyncAudits(AsyncResource):
    """``kard.users.audits``: disputes about a user's cashback."""

    async def create(
        self,
        user_id: str,
        audits: Sequence[Audit | Mapping[str, Any]],
        *,
        organization_id: str | None = None,
    ) -> AuditsCreated:
        """Ask Kard to audit transactions of ``user_id`` (missing or incorrect cashback):
        :class:`~kard_async.models.Audit` objects or their wire form, one per transaction.

        Some audits may be refused while the others are opened (HTTP 207): ``data`` holds
        the audits opened (each with its audit request ``id``), ``errors`` one entry per
        audit refused, whose ``id`` is that audit's transaction id (``status`` ``"409"``:
        an audit of that transaction is already open). Check ``result.ok`` or call
        ``result.raise_for_errors()``. Kard reports progress with ``auditUpdate``
        notifications.

        Retried only when it surely was not processed; otherwise an error with
        ``outcome_unknown=True`` says the audits may have been opened.
        """
        return await self._post(
            self._user_path(user_id, "audits", organization_id=organization_id),
            body=encode_audits(prepare_audits(audits)),
            cast_to=AuditsCreated,
        )
