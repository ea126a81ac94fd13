"""The few WhatsApp Cloud API calls Relais makes (Graph API), over one aiohttp session.

- `send`: POST {base}/{phone number id}/messages; the answer names the message ("wamid...").
- `media`: GET {base}/{media id} gives a short-lived URL, fetched with the same token.
- `upload`: POST {base}/{phone number id}/media (multipart) stores a file to send (the note).

Errors become the sender's vocabulary: 429, 5xx, network errors and throttling codes are
temporary; other 4xx fail for good. Nothing of the message or the user goes into the errors.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp

from bot.channels.base import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

#: Graph error codes that mean "slow down": 4 and 80007 (app and account rate limits), 130429
#: (throughput), 131056 (too many messages to one user).
THROTTLED = frozenset({4, 80007, 130429, 131056})
#: "Re-engagement message": more than 24 hours since the user last wrote. Free text refused.
RE_ENGAGEMENT = 131047
_MEDIA_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


class WindowClosed(PermanentFailure):
    """WhatsApp refused free text: the 24-hour window is closed (the user wrote longer ago
    than the assistant knew, e.g. a message delivered late)."""


class GraphAPI:
    def __init__(self, base: str, token: str, phone_number_id: str,
                 timeout: float = 30.0, max_media_bytes: int = 10 * 1024 * 1024) -> None:
        self.base = base.rstrip("/")
        self.phone_number_id = phone_number_id
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_media_bytes = max_media_bytes
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop, as aiohttp wants.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, payload: dict[str, Any]) -> str:
        """Send one message; return WhatsApp's id for it."""
        url = f"{self.base}/{self.phone_number_id}/messages"
        status, data = await self._post(url, json=payload)
        if status == 200:
            try:
                return str(data["messages"][0]["id"])
            except (KeyError, IndexError, TypeError) as exc:
                raise TemporaryFailure("200 without a message id") from exc
        raise failure(status, data)

    async def upload(self, content: bytes, filename: str, mime: str) -> str:
        """Upload a file to POST {base}/{phone number id}/media; WhatsApp's id for it."""
        url = f"{self.base}/{self.phone_number_id}/media"
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime)
        form.add_field("file", content, filename=filename, content_type=mime)
        status, data = await self._post(url, data=form)
        if status == 200 and isinstance(data, dict) and isinstance(data.get("id"), str):
            return str(data["id"])
        raise failure(status, data)

    async def _post(self, url: str, **body: Any) -> tuple[int, Any]:
        """POST to the Graph API: its status and JSON answer; the network failing is a
        temporary failure (the sender tries again)."""
        try:
            async with self.session().post(url, **body) as response:
                return response.status, await _json(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(type(exc).__name__) from exc

    async def media(self, media_id: str) -> bytes:
        """The bytes of a media the user sent (an image), at most `max_media_bytes`."""
        if not _MEDIA_ID.match(media_id):
            raise PermanentFailure("not a media id")
        try:
            async with self.session().get(f"{self.base}/{media_id}") as response:
                data = await _json(response)
                if response.status != 200:
                    raise failure(response.status, data)
            url = data.get("url") if isinstance(data, dict) else None
            if not isinstance(url, str) or not url.startswith(("https://", "http://")):
                raise PermanentFailure("media answer without a url")
            async with self.session().get(url) as response:
                if response.status != 200:
                    raise failure(response.status, {})
                return await self._bounded(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TemporaryFailure(type(exc).__name__) from exc

    async def _bounded(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, refused as soon as it grows past `max_media_bytes`."""
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_media_bytes:
                raise PermanentFailure("media too large")
            chunks.append(chunk)
        return b"".join(chunks)


async def _json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return {}


def failure(status: int, data: Any) -> PermanentFailure | TemporaryFailure:
    """A Graph error as the sender understands it."""
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    reason = f"{status} code {code}: {str(error.get('message', ''))[:100]}"
    if status == 429 or status >= 500 or code in THROTTLED:
        return TemporaryFailure(reason)
    if code == RE_ENGAGEMENT:
        return WindowClosed(reason)
    return PermanentFailure(reason)
