"""The MLLP listener: python-hl7's asyncio server, database work in threads.

Messages on one connection are handled one after the other (the next block is read
only once the previous ACK is written); connections are served side by side, but their
database work goes through one worker thread, so two senders never race on the same
duplicate check and SQLite never sees two writers. A message past
RECORDROOM_HL7_MAX_MESSAGE_MB is read to its end without being held in memory (its
first bytes are kept) and answered AR naming the limit; the connection stays usable.
Run it with `recordroom hl7 listen` or
`python -m recordroom.interop.hl7v2.listen --port 2575`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)
_DB = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7-db")
_START, _END = b"\x0b", b"\x1c\r"
HEAD_KEPT = 64 * 1024  # bytes of an oversized message kept (its MSH names it)

_FALLBACK_ACK = (
    b"MSH|^~\\&|RECORDROOM||||||ACK|ERR|P|2.5.1\r"
    b"MSA|AR||internal error; message not stored\r"
    b"ERR|||207^Application internal error^HL70357|E\r"
)


def check_connections() -> None:
    """Before each message, drop a database connection that broke (the server
    restarted) or was left outside autocommit, as close_old_connections() does, but
    keep a healthy one open when CONN_MAX_AGE is 0 (SQLite's): reopening it for every
    message -- its pragmas, its functions, a cold page cache -- cost more than the
    message. A maximum age (PostgreSQL's) is honoured."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.settings_dict["CONN_MAX_AGE"] != 0:
            conn.close_if_unusable_or_obsolete()
        elif conn.connection is not None:
            autocommit = conn.settings_dict["AUTOCOMMIT"]
            if conn.get_autocommit() != autocommit or (
                conn.errors_occurred and not conn.is_usable()
            ):
                conn.close()
            conn.errors_occurred = False


def handle_block(block: bytes) -> bytes:
    """Run one message through the service in this (worker) thread; never raises."""
    from .services import handle

    check_connections()
    try:
        return handle(block).encode()
    except Exception:  # storage down, database gone ... still answer the sender
        log.exception("HL7 message could not be stored")
        return _FALLBACK_ACK


def refuse_block(head: bytes, size: int, limit: int) -> bytes:
    """Answer an oversized message (in the worker thread); never raises."""
    from .services import refuse_oversized

    check_connections()
    try:
        return refuse_oversized(head, size, limit).encode()
    except Exception:
        log.exception("oversized HL7 message could not be recorded")
        return _FALLBACK_ACK


@dataclass(frozen=True)
class Oversized:
    head: bytes
    size: int


async def read_message(reader: asyncio.StreamReader) -> bytes | Oversized:
    """One MLLP block without its framing, or what is known of one past the reader's
    limit (its head and size; the rest is read and dropped, never held)."""
    try:
        block = await reader.readuntil(_END)
    except asyncio.LimitOverrunError as exc:
        head = await reader.readexactly(min(exc.consumed, HEAD_KEPT))
        size = len(head) + await _drop_until_end(reader, exc.consumed - len(head))
        framed = head.startswith(_START)
        return Oversized(head.removeprefix(_START), size - framed)
    if not block.startswith(_START):
        raise ValueError("block does not begin with the MLLP start character <VT>")
    return block[1 : -len(_END)]


async def _drop_until_end(reader: asyncio.StreamReader, pending: int) -> int:
    """Read and drop bytes up to and including the end of the block; their count
    (without the end characters)."""
    dropped = 0
    while True:
        while pending:
            n = min(pending, 1 << 20)
            dropped += len(await reader.readexactly(n))
            pending -= n
        try:
            tail = await reader.readuntil(_END)
        except asyncio.LimitOverrunError as exc:
            pending = exc.consumed
            continue
        return dropped + len(tail) - len(_END)


async def _connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    from django.conf import settings

    peer = writer.get_extra_info("peername")
    limit = settings.HL7_MAX_MESSAGE_BYTES
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                got = await read_message(reader)
            except asyncio.IncompleteReadError:
                break  # the sender closed the connection
            except ValueError as exc:
                log.warning("HL7 connection %s: bad MLLP framing: %s", peer, exc)
                break
            if isinstance(got, Oversized):
                log.warning(
                    "HL7 connection %s: %d-byte message refused", peer, got.size
                )
                ack = await loop.run_in_executor(
                    _DB, refuse_block, got.head, got.size, limit
                )
            else:
                ack = await loop.run_in_executor(_DB, handle_block, got)
            writer.write(_START + ack + _END)
            await writer.drain()
    except (ConnectionError, OSError) as exc:
        log.info("HL7 connection %s ended: %s", peer, exc)
    finally:
        writer.close()


async def serve(host: str, port: int, ready: asyncio.Event | None = None) -> None:
    from django.conf import settings
    from hl7.mllp import start_hl7_server

    # The reader's limit is the largest block held in memory: one byte past the
    # message limit (its start character).
    limit = settings.HL7_MAX_MESSAGE_BYTES + 1
    server = await start_hl7_server(_connection, host, port, limit=limit)
    log.info("HL7 MLLP listener on %s:%s", host, port)
    print(f"listening for HL7 v2 (MLLP) on {host}:{port}", flush=True)
    if ready is not None:
        ready.set()
    async with server:
        await server.serve_forever()


def run(host: str = "127.0.0.1", port: int = 2575) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    try:
        asyncio.run(serve(host, port))
    except KeyboardInterrupt:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description="HL7 v2 MLLP listener")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2575)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")
    import django

    from recordroom.kernel import keys
    from recordroom.kernel.files import private_umask

    private_umask()  # data files readable by the service account only
    django.setup()
    keys.require()  # never accept messages without the keys the data needs
    run(args.host, args.port)


if __name__ == "__main__":
    main()
