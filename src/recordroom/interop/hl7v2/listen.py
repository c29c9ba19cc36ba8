"""The MLLP listener: python-hl7's asyncio server, database work in threads.

Messages on one connection are handled one after the other (the next block is read
only once the previous ACK is written); connections are served side by side. On SQLite
their database work goes through one worker thread (SQLite has one writer). On
PostgreSQL it goes through RECORDROOM_HL7_WORKERS threads, each message to the thread
of its patient (PID-3), so that two messages about one patient, or a message and its
resend on another connection, are never applied at the same time. A message past
RECORDROOM_HL7_MAX_MESSAGE_MB is read to its end without being held in memory (its
first bytes are kept) and answered AR naming the limit; the connection stays usable.
A connection idle past RECORDROOM_HL7_IDLE_TIMEOUT_SECONDS, or a message not whole
RECORDROOM_HL7_FRAME_TIMEOUT_SECONDS after its first byte, is closed (the partial
message dropped unanswered, so the sender resends it); past
RECORDROOM_HL7_MAX_CONNECTIONS a new connection is closed at once.
Run it with `recordroom hl7 listen` or
`python -m recordroom.interop.hl7v2.listen --port 2575`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

# named, not __name__: run as `python -m` this module is __main__, outside "recordroom"
log = logging.getLogger("recordroom.interop.hl7v2.listen")
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


# SQLite's checkpoints, run by a thread of their own while the listener serves
_CHECKPOINTS: list[Any] = []


def handle_block(block: bytes) -> bytes:
    """Run one message through the service in this (worker) thread; never raises."""
    from .services import handle

    check_connections()
    try:
        if _CHECKPOINTS:  # this thread's commits no longer checkpoint (SQLite)
            from django.db import connection

            from recordroom.kernel import walcheckpoint

            walcheckpoint.defer(connection)
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


class FrameTimeout(Exception):
    """A message begun but not whole within the frame timeout."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


@dataclass(frozen=True)
class Limits:
    """What the listener allows a connection (settings RECORDROOM_HL7_*)."""

    max_bytes: int
    idle: float  # seconds without a message before closing; 0: none
    frame: float  # seconds for a whole message once begun; 0: none
    connections: int

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(
            settings.HL7_MAX_MESSAGE_BYTES,
            settings.HL7_IDLE_TIMEOUT,
            settings.HL7_FRAME_TIMEOUT,
            settings.HL7_MAX_CONNECTIONS,
        )


async def wait_for_message(reader: asyncio.StreamReader, idle_timeout: float) -> bool:
    """Wait until the next block begins and take its start character: False when
    the connection stayed idle for `idle_timeout` seconds (0: no limit).

    Raises:
        IncompleteReadError: the sender closed the connection.
        ValueError: the first byte is not the MLLP start character.
    """
    try:
        async with asyncio.timeout(idle_timeout or None):
            first = await reader.readexactly(1)  # consumes nothing when cancelled
    except TimeoutError:
        return False
    if first != _START:
        raise ValueError("block does not begin with the MLLP start character <VT>")
    return True


async def read_message(
    reader: asyncio.StreamReader, frame_timeout: float = 0
) -> bytes | Oversized:
    """The rest of a block whose start character `wait_for_message` took, without
    its framing, or what is known of one past the reader's limit (its head and size;
    the rest is read and dropped, never held).

    The whole block must arrive within `frame_timeout` seconds (0: no limit), else
    FrameTimeout. The stream reader buffers into one bytearray grown in place, so a
    block sent slowly costs its own size in memory, not more."""
    try:
        async with asyncio.timeout(frame_timeout or None):
            return await _read_block(reader)
    except TimeoutError:
        raise FrameTimeout(len(getattr(reader, "_buffer", b""))) from None


async def _read_block(reader: asyncio.StreamReader) -> bytes | Oversized:
    try:
        block = await reader.readuntil(_END)
    except asyncio.LimitOverrunError as exc:
        head = await reader.readexactly(min(exc.consumed, HEAD_KEPT))
        size = len(head) + await _drop_until_end(reader, exc.consumed - len(head))
        return Oversized(head, size)
    return block[: -len(_END)]


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


def routing_key(block: bytes) -> bytes:
    """What decides a message's worker: its patient's first identifier (PID-3),
    else its control id (MSH-10), as raw bytes; never raises."""
    head = block[:8192]
    sep = head[3:4] or b"|"
    for seg in head.replace(b"\n", b"\r").split(b"\r"):
        if seg.startswith(b"PID" + sep):
            ident = (seg.split(sep, 4)[3:4] or [b""])[0]
            return ident.split(b"~", 1)[0].split(b"^", 1)[0].strip()
    fields = head.split(b"\r", 1)[0].split(sep, 10)
    return fields[9] if len(fields) > 9 else b""


class Listener:
    """The connections open and the database workers they share."""

    def __init__(self, limits: Limits, workers: int) -> None:
        self.limits = limits
        self.open = 0
        self.workers = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"hl7-db{n}")
            for n in range(max(1, workers))
        ]

    def worker_for(self, block: bytes) -> ThreadPoolExecutor:
        if len(self.workers) == 1:
            return self.workers[0]
        key = routing_key(block)
        return self.workers[zlib.crc32(key) % len(self.workers)]

    async def connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = writer.get_extra_info("peername")
        if self.open >= self.limits.connections:
            log.warning(
                "HL7 connection %s refused: %d connections open, the most "
                "RECORDROOM_HL7_MAX_CONNECTIONS allows",
                peer,
                self.open,
            )
            writer.close()
            return
        self.open += 1
        try:
            await self._serve(reader, writer, peer)
        except (ConnectionError, OSError) as exc:
            log.info("HL7 connection %s ended: %s", peer, exc)
        finally:
            self.open -= 1
            writer.close()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: object
    ) -> None:
        limits = self.limits
        loop = asyncio.get_running_loop()
        while True:
            try:
                if not await wait_for_message(reader, limits.idle):
                    log.info(
                        "HL7 connection %s closed after %g s without a message",
                        peer,
                        limits.idle,
                    )
                    return
                got = await read_message(reader, limits.frame)
            except asyncio.IncompleteReadError:
                return  # the sender closed the connection
            except ValueError as exc:
                log.warning("HL7 connection %s: bad MLLP framing: %s", peer, exc)
                return
            except FrameTimeout as exc:
                log.warning(
                    "HL7 connection %s closed: a message begun %g s ago is not whole "
                    "(%d bytes received); dropped unapplied and unanswered",
                    peer,
                    limits.frame,
                    exc.received,
                )
                return
            if isinstance(got, Oversized):
                log.warning(
                    "HL7 connection %s: %d-byte message refused", peer, got.size
                )
                ack = await loop.run_in_executor(
                    self.workers[0], refuse_block, got.head, got.size, limits.max_bytes
                )
            else:
                ack = await loop.run_in_executor(
                    self.worker_for(got), handle_block, got
                )
            writer.write(_START + ack + _END)
            try:
                async with asyncio.timeout(limits.frame or None):
                    await writer.drain()
            except TimeoutError:
                log.warning(
                    "HL7 connection %s closed: the sender took no ACK for %g s",
                    peer,
                    limits.frame,
                )
                writer.transport.abort()
                return


def database_workers() -> int:
    """Threads applying messages: one on SQLite (one writer), else the setting."""
    from django.conf import settings
    from django.db import connection

    return 1 if connection.vendor == "sqlite" else settings.HL7_WORKERS


async def serve(host: str, port: int, ready: asyncio.Event | None = None) -> None:
    from django.db import connection
    from hl7.mllp import start_hl7_server

    from recordroom.kernel import walcheckpoint

    limits = Limits.from_settings()
    listener = Listener(limits, database_workers())
    checkpointer = walcheckpoint.start_for(connection)
    if checkpointer is not None:
        _CHECKPOINTS.append(checkpointer)
    # The reader's limit is the largest block held in memory (after its start
    # character); the reader pauses the socket at twice that.
    server = await start_hl7_server(
        listener.connection, host, port, limit=limits.max_bytes
    )
    log.info(
        "HL7 MLLP listener on %s:%s (idle timeout %g s, frame timeout %g s, at most "
        "%d connections, %d database workers)",
        host,
        port,
        limits.idle,
        limits.frame,
        limits.connections,
        len(listener.workers),
    )
    print(f"listening for HL7 v2 (MLLP) on {host}:{port}", flush=True)
    if ready is not None:
        ready.set()
    try:
        async with server:
            await server.serve_forever()
    finally:
        if checkpointer is not None:
            _CHECKPOINTS.remove(checkpointer)
            checkpointer.stop()


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
