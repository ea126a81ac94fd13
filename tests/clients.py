"""Types the tests share: aiohttp's test client of the assistant's web application."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from aiohttp.web import Application, Request

#: A client of the real aiohttp application, running in the test's process.
WebClient = TestClient[Request, Application]
