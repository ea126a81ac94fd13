"""Imported once by the server process that forks the killable simulators
(tests/simulator_process.py), never by the tests: the assistant's modules and one engine for
the settings the environment gives, which every simulator forked from it shares (built from
the same settings, as tests/conftest.py's `one_engine_per_content` shares one in the test
process: an engine keeps nothing between turns)."""

from __future__ import annotations

import bot.__main__  # imported here once, for every fork
import bot.runtime
from bot.core.engine import Engine
from bot.core.flows.registry import REGISTRY, Registry
from bot.settings import Settings
from tests.simulator_process import ENGINE_SETTINGS

_build = bot.runtime.engine_for
_built: dict[tuple[str, ...], Engine] = {}


def _shared(settings: Settings, registry: Registry = REGISTRY) -> Engine:
    if registry is not REGISTRY:
        return _build(settings, registry)
    key = tuple(repr(getattr(settings, name)) for name in ENGINE_SETTINGS)
    if key not in _built:
        _built[key] = _build(settings, registry)
    return _built[key]


bot.runtime.engine_for = _shared
_shared(Settings.load())
