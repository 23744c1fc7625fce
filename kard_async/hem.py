"""Hashed email (HEM): the value of a user's ``hashedEmail`` attribute (API reference §12).

No HTTP call. The rules are those of the official SDK's ``kard.hem`` (UID2/LiveRamp style),
so a hash made here matches one made there. Errors never repeat the address itself.
"""

from __future__ import annotations

import hashlib
import re
from typing import NoReturn

from ._errors import InvalidParameterError

__all__ = ["generate_hem", "normalize_email"]

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def normalize_email(raw: str) -> str:
    """Normalize an email address the way Kard hashes it.

    All whitespace is removed and the address is lower-cased. It must then hold exactly one
    ``@``, with something before and after it. For Gmail addresses (``gmail.com`` and
    ``googlemail.com``) the local part loses its dots and everything from its first ``+``,
    and the domain becomes ``gmail.com``::

        normalize_email(" John.Doe+news@GoogleMail.com ")   # 'johndoe@gmail.com'

    Raises :class:`~kard_async.InvalidParameterError` (a ``ValueError``) when ``raw`` is not
    a string or not an address by these rules, including a Gmail address with nothing left
    before the ``@``. The message describes the problem without repeating the address.
    """
    if not isinstance(raw, str):
        raise InvalidParameterError("raw", f"<{type(raw).__name__}>", "must be a str")
    email = "".join(raw.split()).lower()
    if not email:
        _reject(raw, "must not be empty or only whitespace")
    if _LONE_SURROGATE.search(email):
        _reject(raw, "must be valid Unicode text (it holds a lone surrogate)")
    ats = email.count("@")
    if ats != 1:
        _reject(raw, f"an email address has exactly one '@', this one has {ats}")
    local, domain = email.split("@")
    if not local:
        _reject(raw, "the part before '@' must not be empty")
    if not domain:
        _reject(raw, "the part after '@' must not be empty")
    if domain in _GMAIL_DOMAINS:
        local = local.partition("+")[0].replace(".", "")
        domain = "gmail.com"
        if not local:
            _reject(raw, "nothing is left before '@' once Gmail's dots and '+' tag are removed")
    return f"{local}@{domain}"


def generate_hem(raw: str) -> str:
    """The hashed email for ``raw``: lower-case hex SHA-256 of its normalized UTF-8 form.

    Send it as the user attribute ``hashedEmail``. ``raw`` is normalized with
    :func:`normalize_email`, so the same errors apply::

        generate_hem("John.Doe@gmail.com") == generate_hem("johndoe+kard@googlemail.com")
    """
    return hashlib.sha256(normalize_email(raw).encode("utf-8")).hexdigest()


def _reject(raw: str, allowed: str) -> NoReturn:
    raise InvalidParameterError("raw", f"<email address, {len(raw)} characters>", allowed)
