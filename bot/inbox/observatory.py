"""The observatory's page for admins (anonymous figures, SVG charts, CSV, monthly PDF report),
and the note about the API a caseworker prints from a case page.

Only aggregates leave these pages: counts of distinct people, every cell under 5 shown
"< 5" (bot/observatory/figures.py). The charts are SVG written here, inline: no script, no
style attribute, so the inbox's content security policy stays as strict as it is.
"""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from bot.documents.delivery import filename
from bot.documents.note import ORGANISATIONS, NoteFacts
from bot.documents.pdf import render
from bot.inbox.app import inbox_of, session_of
from bot.observatory.charts import bar_chart
from bot.observatory.config import Observatory
from bot.observatory.export import as_csv, monthly_report
from bot.observatory.figures import METHOD, Figures, figures

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


OBSERVATORY = web.AppKey("observatory", Observatory)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/observatoire", page, name="observatory")
    router.add_get("/observatoire.csv", export_csv, name="observatory_csv")
    router.add_get("/observatoire/rapport.pdf", report, name="observatory_report")
    router.add_get(r"/cases/{id:\d+}/note", case_note, name="case_note")


def _admin_only(request: web.Request) -> web.Response | None:
    if session_of(request).caseworker.is_admin:
        return None
    return inbox_of(request).refuse(request, 403, "Cette page est réservée aux "
                                                  "administrateurs de l'organisation.")


def _period(request: web.Request, today: date) -> tuple[date, date, str, str]:
    """(start, end exclusive, label, `mois` value): a month `?mois=2026-11`, else the last
    twelve months."""
    raw = request.query.get("mois", "")
    try:
        year, month = (int(p) for p in raw.split("-"))
        start = date(year, month, 1)
    except ValueError:
        start = None
    if start is None:
        return today - timedelta(days=365), today + timedelta(days=1), "les 12 derniers mois", ""
    end = date(year + (month == 12), month % 12 + 1, 1)
    return start, end, f"{MONTHS[month - 1]} {year}", f"{year:04d}-{month:02d}"


async def _figures(request: web.Request) -> tuple[Figures, str]:
    inbox, config = inbox_of(request), request.app[OBSERVATORY]
    start, end, label, month = _period(request, inbox.today())
    raw = await config.store.figures(start, end)
    return figures(raw, config.departements, config.problems, label), month


async def page(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    shown, month = await _figures(request)
    today = inbox_of(request).today()
    months = [(f"{d.year:04d}-{d.month:02d}", f"{MONTHS[d.month - 1]} {d.year}")
              for d in (_month_back(today, n) for n in range(12))]
    charts = [bar_chart("Personnes ayant signalé un problème, par semaine",
                        shown.by_week, "par-semaine"),
              bar_chart("Personnes ayant signalé un problème, par département",
                        shown.by_departement, "par-departement"),
              bar_chart("Dossiers clos, par issue", shown.outcomes, "par-issue")]
    return inbox_of(request).render(request, "observatory.html", figures=shown,
                                    charts=charts, method=METHOD, month=month, months=months)


async def export_csv(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    shown, month = await _figures(request)
    name = f"observatoire-{month or '12-mois'}.csv"
    return web.Response(text=as_csv(shown), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def report(request: web.Request) -> web.Response:
    refused = _admin_only(request)
    if refused:
        return refused
    shown, month = await _figures(request)
    inbox = inbox_of(request)
    organisation = await inbox.store.organisation(session_of(request).caseworker.org_id)
    pdf = monthly_report(shown, organisation.name)
    name = f"observatoire-{month or '12-mois'}.pdf"
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})


async def case_note(request: web.Request) -> web.Response:
    """The same note the person gets, from what they told (their session's kept facts), for
    the organisation chosen on the case page."""
    inbox, me = inbox_of(request), session_of(request).caseworker
    organisation = request.query.get("pour", "")
    if organisation not in ORGANISATIONS:
        return inbox.refuse(request, 400, "Choisissez pour qui est la note.")
    case = await inbox.store.case(me.org_id, int(request.match_info["id"]))
    if case is None:
        return inbox.refuse(request, 404, "Ce cas n'existe pas.")
    slots = await request.app[OBSERVATORY].store.slots(case.user_key)
    api_end = slots.get("api_end")
    facts = NoteFacts("note", organisation, inbox.today(), slots.get("status"),
                      slots.get("request"), date.fromisoformat(api_end) if api_end else None,
                      None, slots.get("departement"))
    pdf = render(request.app[OBSERVATORY].notes.compose(facts))
    return web.Response(body=pdf, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename(facts)}"'})


def _month_back(today: date, n: int) -> date:
    month = today.month - n
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1)

