"""Auth (API reference §1.2): ``POST /v2/auth/token`` in both documented styles."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs

import msgspec

from .._jsonapi import ApiError
from .._records import TokenRequest
from .._routing import Call, Document, route


def _basic_credentials(header: str | None) -> tuple[str, str]:
    if header is None:
        raise ApiError(400, "Authorization header is missing", header="Authorization")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(
            400, "Authorization header must use the Basic scheme", header="Authorization"
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(
            400, "Authorization header is not valid Basic credentials", header="Authorization"
        ) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise ApiError(
            400, "Basic credentials must be 'client_id:client_secret'", header="Authorization"
        )
    return client_id, secret


def _json_credentials(body: bytes) -> tuple[str, str]:
    try:
        document = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise ApiError(400, "request body must be JSON {client_id, client_secret}") from None
    if not isinstance(document, dict):
        raise ApiError(400, "request body must be a JSON object", pointer="")
    values = []
    for key in ("client_id", "client_secret"):
        value = document.get(key)
        if not isinstance(value, str) or not value:
            raise ApiError(400, f"{key} is required and must be a string", pointer=f"/{key}")
        values.append(value)
    return values[0], values[1]


@route("POST", "/v2/auth/token", auth=False)
def token(call: Call) -> Document:
    """JSON ``{client_id, client_secret}`` (the SDK), or Basic + form (the Authentication guide)."""
    emulator = call.emulator
    target = call.headers.get("X-Kard-Target-Issuer") or None
    content_type = call.headers.get("Content-Type", "")
    authorization = call.headers.get("Authorization")
    basic = authorization is not None or content_type.startswith(
        "application/x-www-form-urlencoded"
    )
    succeeded = False
    try:
        if basic:
            client_id, secret = _basic_credentials(authorization)
            form = parse_qs(call.body.decode("utf-8", "replace"))
            grant = form.get("grant_type", [None])[0]
            if grant != "client_credentials":
                raise ApiError(
                    400,
                    f"grant_type must be 'client_credentials', got {grant!r}",
                    parameter="grant_type",
                )
        else:
            client_id, secret = _json_credentials(call.body)
        if (client_id, secret) != (emulator.client_id, emulator.client_secret):
            raise ApiError(401, "invalid client credentials")
        access_token, expires_in = emulator._issue_token(target or emulator.organization_id)
        succeeded = True
    finally:
        emulator._record_token_request(
            TokenRequest("basic" if basic else "json", target, succeeded)
        )
    return {"access_token": access_token, "expires_in": expires_in, "token_type": "Bearer"}
