"""The server's life: what start-up loaded is kept out of the garbage collector's walks while
it runs, and given back when it stops."""

from __future__ import annotations

import gc
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.server import Server
from bot.settings import Settings


async def test_start_up_memory_is_frozen_while_the_server_runs(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"DATABASE_PATH": str(tmp_path / "s.sqlite3")})
    client = TestClient(TestServer(Server(settings).app()))
    await client.start_server()
    try:
        assert gc.get_freeze_count() > 10_000  # flows, texts, the recogniser...
        health = await (await client.get("/health")).json()
        assert health["status"] == "ok"
    finally:
        await client.close()
    assert gc.get_freeze_count() == 0  # collectable again once stopped
