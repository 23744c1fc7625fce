"""The bearer token (API reference §1.2), for callers who must hand it to something else."""

from __future__ import annotations

from ._base import AsyncResource


class AsyncAuth(AsyncResource):
    """``kard.auth``: the token the client sends."""

    async def token(self) -> str:
        """The bearer token the client sends now: cached, fetched (once, however many
        callers ask at the same time) when there is none or it is about to expire. With
        ``token=``, the token you supplied (a callable is asked).

        Treat it as a secret. It is fetched with the client's credentials and target
        issuer; a failure to fetch it raises (``AuthenticationError`` for refused
        credentials) and is not retried here: call again.
        """
        source = self._requester.transport.auth
        if source is None:  # pragma: no cover - every AsyncKard has a token source
            raise RuntimeError("this client has no token source")
        return await source.get()
