"""Admin pages: the organisation's caseworkers (add, new one-time password, disable), its own
ready replies (written in the five languages before they can be used), and the audit log with
the outcomes of closed cases. A caseworker who is not an admin gets 403 on each of them."""

from __future__ import annotations

from aiohttp import web

from bot.inbox.app import PREFIX, inbox_of, session_of
from bot.inbox.views import LANGUAGES
from bot.storage.cases import OUTCOMES, READY_LOCALES, CaseError

ACTIONS = {"view": "a consulté", "assign": "s'est attribué", "reply": "a répondu à",
           "canned": "a envoyé une réponse prête à", "ready": "a envoyé une réponse prête à",
           "close": "a clos", "move": "a confié à une autre organisation",
           "ready_add": "a ajouté une réponse prête",
           "staff_add": "a créé le compte de", "staff_reset": "a réinitialisé le mot de passe de",
           "staff_disable": "a désactivé le compte de",
           "staff_enable": "a réactivé le compte de"}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/audit", audit, name="audit")
    router.add_get("/replies", replies, name="replies")
    router.add_post("/replies", add_reply, name="replies_add")
    router.add_get("/staff", staff, name="staff")
    router.add_post("/staff", add_staff, name="staff_add")
    router.add_post(r"/staff/{id:\d+}/reset", reset_staff, name="staff_reset")
    router.add_post(r"/staff/{id:\d+}/active", activate_staff, name="staff_active")


def _admin_only(request: web.Request) -> web.Response | None:
    if session_of(request).caseworker.is_admin:
        return None
    return inbox_of(request).refuse(request, 403, "Cette page est réservée aux "
                                                  "administrateurs de l'organisation.")


async def audit(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    inbox = inbox_of(request)
    org_id = session_of(request).caseworker.org_id
    rows = await inbox.store.audit_log(org_id)
    counts = await inbox.store.outcomes(org_id)
    return inbox.render(request, "audit.html", rows=rows, actions=ACTIONS,
                        outcomes=[(label, counts.get(key, 0)) for key, label in OUTCOMES.items()])


async def _replies_page(request: web.Request, message: str = "", status: int = 200,
                        typed: dict[str, str] | None = None) -> web.Response:
    inbox = inbox_of(request)
    own = await inbox.store.ready_replies(session_of(request).caseworker.org_id)
    return inbox.render(request, "replies.html", status=status, replies=own, message=message,
                        locales=[(loc, LANGUAGES[loc]) for loc in READY_LOCALES],
                        typed=typed or {}, rtl=RTL)


#: Languages written right to left: their fields are typed and shown so.
RTL = frozenset({"fa_AF", "ps", "ar"})


async def replies(request: web.Request) -> web.Response:
    return _admin_only(request) or await _replies_page(request)


async def add_reply(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    inbox, me = inbox_of(request), session_of(request).caseworker
    form = await request.post()
    texts = {loc: str(form.get(f"text_{loc}", ""))[:2000] for loc in READY_LOCALES}
    try:
        await inbox.store.add_ready_reply(me.org_id, texts, me.id, inbox.now())
    except CaseError:
        return await _replies_page(request, "Écrivez la réponse dans les cinq langues : elle "
                                            "est envoyée traduite.", 400, texts)
    return await _replies_page(request, "Réponse prête ajoutée.")


async def _staff_page(request: web.Request, message: str = "", password: str = "",
                      status: int = 200) -> web.Response:
    inbox = inbox_of(request)
    workers = await inbox.accounts.staff(session_of(request).caseworker.org_id)
    # The one-time password is shown once, on this answer, never put in a URL or a log.
    return inbox.render(request, "staff.html", status=status, workers=workers,
                        message=message, password=password)


async def staff(request: web.Request) -> web.Response:
    return _admin_only(request) or await _staff_page(request)


async def add_staff(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    inbox, me = inbox_of(request), session_of(request).caseworker
    form = await request.post()
    email = str(form.get("email", ""))[:200]
    try:
        worker, password = await inbox.accounts.create(me.org_id, email,
                                                       form.get("admin") == "on", inbox.now())
    except CaseError:
        return await _staff_page(request, "Adresse invalide ou déjà utilisée.", status=400)
    await inbox.store.record(me.org_id, me.id, "staff_add", inbox.now(), target_id=worker.id)
    return await _staff_page(request, f"Compte créé pour {worker.email}. Mot de passe "
                                      "provisoire, à changer à la première connexion :",
                             password)


async def reset_staff(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    inbox, me = inbox_of(request), session_of(request).caseworker
    target = int(request.match_info["id"])
    password = await inbox.accounts.reset(me.org_id, target)
    if password is None:
        return inbox.refuse(request, 404, "Ce compte n'existe pas dans votre organisation.")
    await inbox.store.record(me.org_id, me.id, "staff_reset", inbox.now(), target_id=target)
    return await _staff_page(request, "Nouveau mot de passe provisoire, à changer à la "
                                      "prochaine connexion :", password)


async def activate_staff(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    inbox, me = inbox_of(request), session_of(request).caseworker
    target = int(request.match_info["id"])
    active = (await request.post()).get("active") == "1"
    if target == me.id and not active:
        return await _staff_page(request, "Vous ne pouvez pas désactiver votre propre compte.",
                                 status=400)
    if not await inbox.accounts.set_active(me.org_id, target, active):
        return inbox.refuse(request, 404, "Ce compte n'existe pas dans votre organisation.")
    action = "staff_enable" if active else "staff_disable"
    await inbox.store.record(me.org_id, me.id, action, inbox.now(), target_id=target)
    raise web.HTTPSeeOther(f"{PREFIX}/staff")
