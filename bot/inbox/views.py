"""The case list and the case page, with what a caseworker does to a case.

Every case is looked up with the caseworker's organisation: another organisation's case is a
404, exactly like a case that does not exist. A reply goes to the conversation first and is
written to the audit log once it was accepted there.
"""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.inbox.app import PREFIX, Inbox, inbox_of, session_of
from bot.inbox.live import stream
from bot.storage.cases import FILTERS, OUTCOMES, Case

log = logging.getLogger(__name__)

#: The association's own ready replies are named so in the picker (the built-in by their key).
OWN = "org:"
MAX_REPLY = 3000  # leaves room for the translation within a Telegram message (4096)
FILTER_LABELS = {"open": "Ouverts", "mine": "Les miens", "unassigned": "Non attribués",
                 "urgent": "Urgents", "closed": "Clos"}
LANGUAGES = {"fr": "français", "fa_AF": "dari", "ps": "pachto", "ar": "arabe",
             "en": "anglais"}
#: Outcomes shown after a redirect, named in the query so no text travels in the URL.
DONE = {"envoye": "Message envoyé.", "attribue": "Le cas vous est attribué.",
        "clos": "Le cas est clos.", "vide": "Le message est vide : rien n'a été envoyé.",
        "long": f"Le message dépasse {MAX_REPLY} caractères : rien n'a été envoyé.",
        "ferme": "Ce cas est clos : rien n'a été envoyé.",
        "echec": "L'envoi a échoué : réessayez dans un moment.",
        "motdepasse": "Votre mot de passe est changé.",
        "deplace": "Le cas est confié à l'autre organisation."}


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", case_list, name="cases")
    router.add_get(r"/cases/{id:\d+}", case_page, name="case")
    router.add_post(r"/cases/{id:\d+}/reply", reply, name="reply")
    router.add_post(r"/cases/{id:\d+}/canned", canned, name="canned")
    router.add_post(r"/cases/{id:\d+}/assign", assign, name="assign")
    router.add_get(r"/cases/{id:\d+}/close", close_page, name="close_page")
    router.add_post(r"/cases/{id:\d+}/close", close, name="close")
    router.add_get(r"/cases/{id:\d+}/lines", new_lines, name="lines")
    router.add_get("/events", events, name="events")
    router.add_post(r"/cases/{id:\d+}/move", move, name="move")


def _done(request: web.Request) -> str:
    return DONE.get(request.query.get("fait", ""), "")


async def case_list(request: web.Request) -> web.Response:
    inbox, me = inbox_of(request), session_of(request).caseworker
    which = request.query.get("filtre", "open")
    if which not in FILTERS:
        which = "open"
    today = inbox.today()
    cases = await inbox.store.list_cases(me.org_id, which, me.id, today)
    organisation = await inbox.store.organisation(me.org_id)
    return inbox.render(request, "cases.html", cases=cases, which=which, today=today,
                        filters=FILTER_LABELS, languages=LANGUAGES, done=_done(request),
                        organisation=organisation)


async def case_page(request: web.Request) -> web.Response:
    inbox, me = inbox_of(request), session_of(request).caseworker
    found = await inbox.store.view_case(me.org_id, int(request.match_info["id"]), me.id,
                                        inbox.now())
    if found is None:
        return _not_found(request)
    case, transcript = found
    others = [org for org, staff, _, _ in await inbox.store.organisations()
              if org.id != me.org_id and staff] if me.is_admin else []
    # The association's own ready replies first (written for its people), then the built-in.
    ready = [(f"{OWN}{rid}", texts["fr"])
             for rid, texts in await inbox.store.ready_replies(me.org_id)]
    return inbox.render(request, "case.html", case=case, today=inbox.today(),
                        transcript=transcript, others=others,
                        ready=ready + list(inbox.canned.items()),
                        language=LANGUAGES.get(case.locale, case.locale),
                        done=_done(request), max_reply=MAX_REPLY)


async def new_lines(request: web.Request) -> web.Response:
    """The transcript rows after `?after=ID`, as list items for the open case page (read by
    the caseworker: the read mark moves)."""
    inbox, me = inbox_of(request), session_of(request).caseworker
    after = request.query.get("after", "0")
    lines = await inbox.store.new_lines(me.org_id, int(request.match_info["id"]), me.id,
                                        int(after) if after.isdigit() else 0)
    if lines is None:
        return _not_found(request)
    return inbox.render(request, "lines.html", lines=lines)


async def events(request: web.Request) -> web.StreamResponse:
    inbox, me = inbox_of(request), session_of(request).caseworker
    return await stream(request, inbox.live, me.org_id, inbox.store.changes)


def _not_found(request: web.Request) -> web.Response:
    return inbox_of(request).refuse(request, 404, "Ce cas n'existe pas ou n'est pas celui de "
                                                  "votre organisation.")


async def _open_case(request: web.Request) -> Case | web.Response:
    me = session_of(request).caseworker
    case = await inbox_of(request).store.case(me.org_id, int(request.match_info["id"]))
    return _not_found(request) if case is None else case


def _back(case: Case, done: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/cases/{case.id}?fait={done}")


async def _send(inbox: Inbox, request: web.Request, case: Case, action: str, text: str,
                canned_id: str) -> str:
    """Hand the action to the conversation; the outcome's key for the page."""
    me = session_of(request).caseworker
    if case.status != "open":
        return "ferme"
    try:
        await inbox.act(case.user_key, action, text, canned_id)
    except Exception as exc:
        # The user's words stay out of the log: the case and the error's type are enough.
        log.warning("staff %s on case %d failed: %s", action, case.id, type(exc).__name__)
        return "echec"
    await inbox.store.record(me.org_id, me.id, action, inbox.now(), case.id)
    inbox.live.changed()
    return "envoye"


async def reply(request: web.Request) -> web.Response:
    inbox, case = inbox_of(request), await _open_case(request)
    if isinstance(case, web.Response):
        return case
    text = str((await request.post()).get("text", "")).strip()
    if not text:
        raise _back(case, "vide")
    if len(text) > MAX_REPLY:
        raise _back(case, "long")
    raise _back(case, await _send(inbox, request, case, "reply", text, ""))


async def canned(request: web.Request) -> web.Response:
    inbox, case = inbox_of(request), await _open_case(request)
    if isinstance(case, web.Response):
        return case
    canned_id = str((await request.post()).get("canned_id", ""))
    if canned_id.startswith(OWN) and canned_id[len(OWN):].isdigit():
        me = session_of(request).caseworker
        texts = await inbox.store.ready_reply(me.org_id, int(canned_id[len(OWN):]))
        if texts is not None:
            # The texts travel with the action: the conversation picks the person's language.
            raise _back(case, await _send(inbox, request, case, "ready",
                                          json.dumps(texts, ensure_ascii=False), canned_id))
    if canned_id not in inbox.canned:
        return inbox.refuse(request, 400, "Cette réponse prête n'existe pas.")
    raise _back(case, await _send(inbox, request, case, "canned", inbox.canned[canned_id],
                                  canned_id))


async def assign(request: web.Request) -> web.Response:
    inbox, case = inbox_of(request), await _open_case(request)
    if isinstance(case, web.Response):
        return case
    me = session_of(request).caseworker
    assigned = await inbox.store.assign(me.org_id, case.id, me.id, inbox.now())
    raise _back(case, "attribue" if assigned else "ferme")


async def close_page(request: web.Request) -> web.Response:
    """Closing asks for a confirmation and the outcome, on a page of its own (the pages run
    no inline script, so no confirm() dialog)."""
    inbox, case = inbox_of(request), await _open_case(request)
    if isinstance(case, web.Response):
        return case
    if case.status != "open":
        raise _back(case, "clos")
    return inbox.render(request, "close.html", case=case, outcomes=OUTCOMES, message="")


async def close(request: web.Request) -> web.Response:
    inbox, case = inbox_of(request), await _open_case(request)
    if isinstance(case, web.Response):
        return case
    if case.status != "open":
        raise _back(case, "clos")
    outcome = str((await request.post()).get("outcome", ""))
    if outcome not in OUTCOMES:
        return inbox.render(request, "close.html", status=400, case=case, outcomes=OUTCOMES,
                            message="Choisissez comment le cas se termine.")
    try:
        await inbox.act(case.user_key, "close", "", "")
    except Exception as exc:
        log.warning("staff close on case %d failed: %s", case.id, type(exc).__name__)
        raise _back(case, "echec") from exc
    me = session_of(request).caseworker
    await inbox.store.close(me.org_id, case.id, me.id, inbox.now(), outcome)
    inbox.live.changed()
    raise _back(case, "clos")


async def move(request: web.Request) -> web.Response:
    """An admin hands the case to another organisation (it leaves this one's inbox)."""
    inbox, case = inbox_of(request), await _open_case(request)
    if isinstance(case, web.Response):
        return case
    me = session_of(request).caseworker
    if not me.is_admin:
        return inbox.refuse(request, 403, "Seuls les administrateurs peuvent confier un cas à "
                                          "une autre organisation.")
    target = str((await request.post()).get("org_id", ""))
    if not target.isdigit() or not await inbox.store.move(me.org_id, case.id, int(target),
                                                          me.id, inbox.now()):
        return inbox.refuse(request, 400, "Ce cas ne peut pas être confié à cette "
                                          "organisation.")
    inbox.live.changed()
    raise web.HTTPSeeOther(f"{PREFIX}/?fait=deplace")
