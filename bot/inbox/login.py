"""Login, logout and the password change that a one-time password requires."""

from __future__ import annotations

import logging
import re
import secrets

from aiohttp import web

from bot.inbox.accounts import LOCK_FOR, Login, digest, normalise_email
from bot.inbox.app import (
    COOKIE,
    LOGIN_COOKIE,
    PREFIX,
    inbox_of,
    same,
    session_of,
    set_cookie,
)

log = logging.getLogger(__name__)
WRONG = "Adresse ou mot de passe incorrect."
# Said the same way whether or not the address has an account.
LOCKED = (f"Trop d'essais infructueux : la connexion avec cette adresse est bloquée pendant "
          f"{int(LOCK_FOR.total_seconds() // 60)} minutes.")
#: Where a login may send the browser back to: a page of the inbox, never another site.
_LOCAL = re.compile(r"/inbox/[A-Za-z0-9/_-]*")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) makes


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/login", login_page, name="login")
    router.add_post("/login", login, name="login_post")
    router.add_post("/logout", logout, name="logout")
    router.add_get("/password", password_page, name="password")
    router.add_post("/password", change_password, name="password_post")


def _login_form(request: web.Request, message: str = "", status: int = 200,
                email: str = "") -> web.Response:
    # Kept while the browser has one, so two login tabs do not invalidate each other.
    token = request.cookies.get(LOGIN_COOKIE, "")
    if not _TOKEN.fullmatch(token):
        token = secrets.token_urlsafe(32)
    response = inbox_of(request).render(request, "login.html", status=status, message=message,
                                        login_token=token, email=email,
                                        next=request.query.get("next", ""))
    set_cookie(request, response, LOGIN_COOKIE, token)
    return response


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request)


async def login(request: web.Request) -> web.Response:
    """Login is checked against CSRF too (a cookie and a hidden field that must agree), so
    another site cannot sign a caseworker into an account of its choosing."""
    inbox = inbox_of(request)
    form = await request.post()
    sent, expected = form.get("login_token"), request.cookies.get(LOGIN_COOKIE)
    if not (isinstance(sent, str) and expected and _TOKEN.fullmatch(expected)
            and same(sent, expected)):
        return inbox.refuse(request, 403, "Formulaire expiré : rechargez la page de connexion.")
    email, password = str(form.get("email", ""))[:200], str(form.get("password", ""))[:200]
    outcome, worker = await inbox.accounts.authenticate(email, password, inbox.now())
    if worker is None:
        # Never the address itself in the log: the start of its SHA-256 links the attempts.
        log.warning("inbox sign-in refused (%s) for address #%s", outcome.value,
                    digest(normalise_email(email))[:12])
        if outcome is Login.LOCKED:
            return _login_form(request, LOCKED, 429, email)
        return _login_form(request, WRONG, 401, email)
    log.info("caseworker %d signed in to the inbox", worker.id)
    token = await inbox.accounts.start_session(worker.id, inbox.now())
    target = str(form.get("next", ""))
    if worker.must_change_password:
        target = f"{PREFIX}/password"
    elif not _LOCAL.fullmatch(target):
        target = f"{PREFIX}/"
    response = web.HTTPSeeOther(target)
    set_cookie(request, response, COOKIE, token)
    response.del_cookie(LOGIN_COOKIE, path=PREFIX)
    raise response


async def logout(request: web.Request) -> web.Response:
    await inbox_of(request).accounts.end_session(session_of(request))
    response = web.HTTPSeeOther(f"{PREFIX}/login")
    response.del_cookie(COOKIE, path=PREFIX)
    raise response


async def password_page(request: web.Request) -> web.Response:
    return inbox_of(request).render(request, "password.html", message="")


async def change_password(request: web.Request) -> web.Response:
    inbox = inbox_of(request)
    form = await request.post()
    new, again = str(form.get("new", "")), str(form.get("again", ""))
    problem = "Les deux nouveaux mots de passe diffèrent." if new != again else None
    problem = problem or await inbox.accounts.change_password(
        session_of(request), str(form.get("current", "")), new)
    if problem:
        return inbox.render(request, "password.html", status=400, message=problem)
    raise web.HTTPSeeOther(f"{PREFIX}/?fait=motdepasse")
