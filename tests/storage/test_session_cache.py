"""The cache of recent sessions: bounded, least recently seen out first, erasure wins."""

from __future__ import annotations

from bot.core.model import Session
from bot.storage.session_cache import SessionCache


def _session(user: str, version: int = 1) -> Session:
    return Session(user, "menu", "main", version=version)


def test_the_least_recently_seen_go_first() -> None:
    cache = SessionCache(limit=2)
    cache.committed([_session("a"), _session("b")], [])
    assert cache.get("a") is not None  # "a" seen again: "b" is now the oldest
    cache.committed([_session("c")], [])
    assert len(cache) == 2
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


def test_a_commit_keeps_the_newest_version_and_forgets_the_erased() -> None:
    cache = SessionCache()
    cache.committed([_session("a", 1), _session("b", 1)], [])
    cache.committed([_session("a", 2)], ["b"])
    cached = cache.get("a")
    assert cached is not None
    assert cached.version == 2
    assert cache.get("b") is None
    cache.forget(["a", "unknown"])
    assert len(cache) == 0
