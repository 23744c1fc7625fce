"""A lighter server than the emulator, for client-bound write measures.

Answers every request at once with a fixed body: a token for ``POST /v2/auth/token``, a
queued job (HTTP 201) for any other POST. No validation, no records: the server's cost per
request is a few microseconds, so the client's own cost decides the throughput.

    python -m benchmarks.light_server --port 0     # prints KARD_BASE_URL=http://127.0.0.1:N
"""

from __future__ import annotations

import argparse
import asyncio

_TOKEN = b'{"access_token": "light", "token_type": "Bearer", "expires_in": 86400}'
_JOB = b'{"data": {"type": "job", "id": "light-job", "attributes": {"status": "queued"}}}'


def _response(status: bytes, body: bytes) -> bytes:
    head = b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
    return head + str(len(body)).encode() + b"\r\n\r\n" + body


_TOKEN_RESPONSE = _response(b"200 OK", _TOKEN)
_JOB_RESPONSE = _response(b"201 Created", _JOB)


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).lower()
            length = 0
            marker = head.find(b"content-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker)
                length = int(head[marker + 15 : line_end if line_end >= 0 else None])
            if len(buffer) < end + 4 + length:
                return
            del buffer[: end + 4 + length]
            assert self._transport is not None
            token = head.startswith(b"post /v2/auth/token")
            self._transport.write(_TOKEN_RESPONSE if token else _JOB_RESPONSE)


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Protocol, "127.0.0.1", port)
    bound = server.sockets[0].getsockname()[1]
    print(f"KARD_BASE_URL=http://127.0.0.1:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(_serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
