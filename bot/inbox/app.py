"""The caseworker inbox as an aiohttp sub-application under /inbox, and its guard.

Every page but the login needs a live session; every POST needs the session's CSRF token
(the login form a token of its own, in a cookie and a hidden field). The pages load nothing
from elsewhere and run no inline script (one static file keeps them live), so the content
security policy can forbid all of it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from yarl import URL

from bot.inbox.accounts import Accounts, StaffSession
from bot.inbox.live import Live
from bot.storage.cases import CaseStore

log = logging.getLogger(__name__)

#: `await act(user_key, action, text, canned_id)`, action "reply", "canned", "ready" (`text`:
#: the association's ready reply in every language, as JSON) or "close": the conversation
#: renders it to the user in their language.
StaffAction = Callable[[str, str, str, str], Awaitable[None]]

PREFIX = "/inbox"
COOKIE = "relais_staff"
LOGIN_COOKIE = "relais_login"  # the login form's CSRF token, before any session exists
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
#: Pages reachable without a session, and pages reachable before the one-time password is
#: replaced.
PUBLIC = frozenset({"login", "login_post", "static"})
BEFORE_NEW_PASSWORD = frozenset({"password", "password_post", "logout"})
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


@dataclass
class Inbox:
    store: CaseStore
    accounts: Accounts
    act: StaffAction
    canned: Mapping[str, str]
    clock: Callable[[], datetime]
    timezone: tzinfo
    templates: jinja2.Environment
    live: Live

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().astimezone(self.timezone).date()

    def render(self, request: web.Request, name: str, status: int = 200,
               **values: Any) -> web.Response:
        session = request.get(SESSION)
        html = self.templates.get_template(name).render(
            session=session, me=session.caseworker if session else None,
            csrf=session.csrf if session else "", **values)
        return web.Response(text=html, status=status, content_type="text/html")

    def refuse(self, request: web.Request, status: int, message: str) -> web.Response:
        return self.render(request, "error.html", status=status, message=message)


INBOX = web.AppKey("inbox", Inbox)
SESSION = web.RequestKey("inbox_session", StaffSession)


def same(sent: str, expected: str) -> bool:
    """Constant-time, and on bytes: a non-ASCII string would make compare_digest raise."""
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def session_of(request: web.Request) -> StaffSession:
    return request[SESSION]


def inbox_of(request: web.Request) -> Inbox:
    return request.app[INBOX]


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str
               ) -> None:
    # Secure whenever the page came over HTTPS (directly or through the reverse proxy): a
    # plain-HTTP local test still works, a deployment never sends the token in clear.
    secure = request.secure or request.headers.get("X-Forwarded-Proto") == "https"
    response.set_cookie(name, value, path=PREFIX, httponly=True, samesite="Strict",
                        secure=secure)


@web.middleware
async def guard(request: web.Request,
                handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                ) -> web.StreamResponse:
    inbox = inbox_of(request)
    name = request.match_info.route.name
    if name in PUBLIC:
        return await handler(request)
    token = request.cookies.get(COOKIE)
    session = await inbox.accounts.session(token, inbox.now()) if token else None
    if session is None:
        back = {"next": request.path} if request.method == "GET" else {}
        raise web.HTTPSeeOther(URL(f"{PREFIX}/login").with_query(back))
    request[SESSION] = session
    if request.method == "POST":
        form = await request.post()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not same(sent, session.csrf):
            return inbox.refuse(request, 403, "Formulaire expiré ou invalide : rechargez la "
                                              "page et recommencez.")
    if session.caseworker.must_change_password and name not in BEFORE_NEW_PASSWORD:
        raise web.HTTPSeeOther(f"{PREFIX}/password")
    return await handler(request)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(HEADERS)


def templates(timezone: tzinfo) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["when"] = lambda moment: moment.astimezone(timezone).strftime("%d/%m/%Y %H:%M")
    env.filters["day"] = lambda day: day.strftime("%d/%m/%Y")
    return env
