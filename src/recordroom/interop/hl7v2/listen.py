"""The MLLP listener: python-hl7's asyncio server, database work in threads.

Messages on one connection are handled one after the other (the next block is read
only once the previous ACK is written); connections are served side by side, but their
database work goes through one worker thread, so two senders never race on the same
duplicate check and SQLite never sees two writers. Run it with
`recordroom hl7 listen` or `python -m recordroom.interop.hl7v2.listen --port 2575`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)
_DB = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hl7-db")

_FALLBACK_ACK = (
    b"MSH|^~\\&|RECORDROOM||||||ACK|ERR|P|2.5.1\r"
    b"MSA|AR||internal error; message not stored\r"
    b"ERR|||207^Application internal error^HL70357|E\r"
)


def handle_block(block: bytes) -> bytes:
    """Run one message through the service in this (worker) thread; never raises."""
    from django.db import close_old_connections

    from .services import handle

    close_old_connections()
    try:
        return handle(block).encode()
    except Exception:  # storage down, database gone ... still answer the sender
        log.exception("HL7 message could not be stored")
        return _FALLBACK_ACK


async def _connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    from hl7.mllp import InvalidBlockError

    peer = writer.get_extra_info("peername")
    try:
        while True:
            try:
                block = await reader.readblock()  # type: ignore[attr-defined]
            except asyncio.IncompleteReadError:
                break  # the sender closed the connection
            except (InvalidBlockError, ValueError) as exc:
                log.warning("HL7 connection %s: bad MLLP framing: %s", peer, exc)
                break
            loop = asyncio.get_running_loop()
            ack = await loop.run_in_executor(_DB, handle_block, bytes(block))
            writer.writeblock(ack)  # type: ignore[attr-defined]
            await writer.drain()
    except (ConnectionError, OSError) as exc:
        log.info("HL7 connection %s ended: %s", peer, exc)
    finally:
        writer.close()


async def serve(host: str, port: int, ready: asyncio.Event | None = None) -> None:
    from hl7.mllp import start_hl7_server

    server = await start_hl7_server(_connection, host, port)
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

    django.setup()
    run(args.host, args.port)


if __name__ == "__main__":
    main()
