"""`inbox_routes`: the one call that puts the caseworker inbox on the server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.inbox import admin, login, observatory, views
from bot.inbox.accounts import Accounts
from bot.inbox.app import INBOX, PREFIX, STATIC, Inbox, StaffAction, guard, security_headers
from bot.inbox.app import templates as make_templates
from bot.inbox.live import Live
from bot.observatory.config import Observatory
from bot.storage.cases import CaseStore


def inbox_routes(app: web.Application, store: CaseStore, act: StaffAction,
                 canned: Sequence[tuple[str, str]], clock: Callable[[], datetime], *,
                 timezone: tzinfo | None = None, live: Live | None = None,
                 observatory_config: Observatory | None = None) -> Live:
    """Mount the inbox on `app` under /inbox (before the app starts). `canned`: (canned_id,
    French text) pairs for the picker; `timezone` (default Europe/Paris): where "today" is
    counted for urgency and where times are shown; `live`: raised after each committed turn,
    so open pages update (returned; one is made if not given)."""
    zone = timezone or ZoneInfo("Europe/Paris")
    live = live or Live()
    inbox = web.Application(middlewares=[guard])
    inbox[INBOX] = Inbox(store, Accounts(store.storage), act, dict(canned), clock, zone,
                         make_templates(zone), live)
    inbox.on_shutdown.append(lambda _: _close(live))
    inbox.on_response_prepare.append(security_headers)
    inbox.router.add_static("/static/", STATIC, name="static")
    login.add_routes(inbox.router)
    views.add_routes(inbox.router)
    admin.add_routes(inbox.router)
    if observatory_config is not None:  # the statistics page and the case page's note
        inbox[observatory.OBSERVATORY] = observatory_config
        observatory.add_routes(inbox.router)
    # Before the sub-application, whose prefix would otherwise take /inbox itself.
    app.router.add_get(PREFIX, _to_inbox)
    app.add_subapp(PREFIX, inbox)
    return live


async def _close(live: Live) -> None:
    live.close()


async def _to_inbox(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"{PREFIX}/")
