"""The web chat's download of a document: /chat/documents/<token>.

The link (an unguessable token, working for 24 hours) opens a small page where the person may
type their name, written on that one PDF and kept nowhere, then downloads the PDF. The page
loads nothing else and runs no script; the token never leaves through a Referer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from html import escape

from aiohttp import web

from bot.documents.delivery import DocumentSource
from bot.documents.note import MAX_NAME

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; "
                               "frame-ancestors 'self'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
RTL = {"fa_AF", "ps", "ar"}
#: The page's few words, in the person's language (the chat passes it in `lang`).
UI = {
    "fr": {"title": "Votre document", "name": "Votre nom (si vous voulez qu'il soit écrit sur "
           "la note ; il n'est gardé nulle part)", "download": "Télécharger le PDF",
           "gone": "Ce lien ne marche plus (24 heures). Demandez la note à nouveau dans le "
           "chat : /note"},
    "fa_AF": {"title": "سند شما", "name": "نام شما (اگر می‌خواهید روی نامه نوشته شود؛ در هیچ "
              "جا نگه داشته نمی‌شود)", "download": "دانلود PDF",
              "gone": "این لینک دیگر کار نمی‌کند (۲۴ ساعت). نامه را دوباره در چت بخواهید: /note"},
    "ps": {"title": "ستاسو سند", "name": "ستاسو نوم (که غواړئ پر لیک ولیکل شي؛ هېڅ چېرې نه "
           "ساتل کېږي)", "download": "PDF ښکته کړئ",
           "gone": "دا لینک نور کار نه کوي (۲۴ ساعته). لیک بیا په چټ کې وغواړئ: /note"},
    "ar": {"title": "وثيقتك", "name": "اسمك (إذا أردت أن يُكتب على الرسالة؛ لا يُحفظ في أي "
           "مكان)", "download": "تنزيل ملف PDF",
           "gone": "هذا الرابط لم يعد يعمل (24 ساعة). اطلب الرسالة من جديد في المحادثة: /note"},
    "en": {"title": "Your document", "name": "Your name (if you want it written on the note; "
           "it is kept nowhere)", "download": "Download the PDF",
           "gone": "This link no longer works (24 hours). Ask for the note again in the chat: "
           "/note"},
}


class DocumentDownloads:
    def __init__(self, source: DocumentSource, clock: Callable[[], datetime]) -> None:
        self.source = source
        self.clock = clock

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/chat/documents/{token}", self.page)
        router.add_post("/chat/documents/{token}", self.download)

    async def page(self, request: web.Request) -> web.Response:
        token, ui, lang = self._ask(request)
        found = await self.source.facts(token, self.clock())
        if found is None:
            return _html(lang, ui["title"], f"<p>{escape(ui['gone'])}</p>", status=404)
        body = (f'<form method="post" action="/chat/documents/{escape(token)}?lang={lang}">'
                f'<label for="name">{escape(ui["name"])}</label>'
                f'<input id="name" name="name" maxlength="{MAX_NAME}" autocomplete="name" '
                f'dir="auto"><button type="submit">{escape(ui["download"])}</button></form>')
        return _html(lang, ui["title"], body)

    async def download(self, request: web.Request) -> web.StreamResponse:
        token, ui, lang = self._ask(request)
        form = await request.post()
        name = form.get("name")
        found = await self.source.pdf(token, self.clock(), name if isinstance(name, str) else "")
        if found is None:
            return _html(lang, ui["title"], f"<p>{escape(ui['gone'])}</p>", status=404)
        filename, pdf = found
        return web.Response(body=pdf, content_type="application/pdf", headers={
            **HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'})

    def _ask(self, request: web.Request) -> tuple[str, dict[str, str], str]:
        token = request.match_info["token"]
        if not _TOKEN.match(token):
            raise web.HTTPNotFound()
        lang = request.query.get("lang", "fr")
        lang = lang if lang in UI else "fr"
        return token, UI[lang], lang


def _html(lang: str, title: str, body: str, status: int = 200) -> web.Response:
    direction = "rtl" if lang in RTL else "ltr"
    page = (f'<!doctype html><html lang="{lang.replace("_", "-")}" dir="{direction}"><head>'
            f'<meta charset="utf-8"><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><title>{escape(title)}</title></head><body><main>'
            f"<h1>{escape(title)}</h1>{body}</main></body></html>")
    return web.Response(text=page, content_type="text/html", status=status, headers=HEADERS)
