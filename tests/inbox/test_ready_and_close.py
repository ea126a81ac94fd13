"""What the case page offers: the association's own ready replies (five languages required,
sent with their texts), closing with an outcome kept for statistics, moving a case."""

from __future__ import annotations

import json

from bot.storage.cases import CaseStore
from tests.clients import WebClient
from tests.conftest import NOW
from tests.inbox.conftest import PASSWORD, Recorder, csrf, login, new_case, organisation, worker

TEXTS = {"fr": "Venez mardi à 10 h.", "fa_AF": "سه‌شنبه ساعت ۱۰ بیایید.",
         "ps": "د سه شنبې په ۱۰ بجو راشئ.", "ar": "تعال يوم الثلاثاء الساعة 10.",
         "en": "Come on Tuesday at 10."}


async def test_an_admin_adds_a_ready_reply_only_in_all_five_languages(
        client: WebClient, store: CaseStore, act: Recorder) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org", admin=True)
    user = "telegram:7"
    case_id = await new_case(store, user)
    await login(client, "anne@example.org", PASSWORD)
    token = await csrf(client, "/inbox/replies")
    partial = {f"text_{k}": v for k, v in TEXTS.items() if k != "ps"}
    refused = await client.post("/inbox/replies", data={"csrf": token, **partial})
    assert refused.status == 400
    assert "dans les cinq langues" in await refused.text()
    assert await store.ready_replies(org.id) == []
    added = await client.post("/inbox/replies", data={
        "csrf": token, **{f"text_{k}": v for k, v in TEXTS.items()}})
    assert added.status == 200
    [(reply_id, texts)] = await store.ready_replies(org.id)
    assert texts == TEXTS
    page = await (await client.get(f"/inbox/cases/{case_id}")).text()
    # Ready replies come first, the association's own before the built-in ones.
    assert page.index("Réponse prête") < page.index("Votre message")
    assert page.index(f'value="org:{reply_id}"') < page.index('value="docs"')
    assert "n'est <strong>pas traduit</strong>" in page
    sent = await client.post(f"/inbox/cases/{case_id}/canned",
                             data={"csrf": token, "canned_id": f"org:{reply_id}"},
                             allow_redirects=False)
    assert sent.status == 303
    [(to, action, text, _)] = act.calls
    assert (to, action, json.loads(text)) == (user, "ready", TEXTS)


async def test_closing_asks_for_an_outcome_kept_for_statistics(
        client: WebClient, store: CaseStore, act: Recorder) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org", admin=True)
    case_id = await new_case(store, "telegram:8")
    await login(client, "anne@example.org", PASSWORD)
    confirm = await client.get(f"/inbox/cases/{case_id}/close")
    assert "Confirmer la clôture" in await confirm.text()
    token = await csrf(client, f"/inbox/cases/{case_id}/close")
    missing = await client.post(f"/inbox/cases/{case_id}/close", data={"csrf": token})
    assert missing.status == 400
    assert act.calls == []  # nothing closed without an outcome
    done = await client.post(f"/inbox/cases/{case_id}/close",
                             data={"csrf": token, "outcome": "redirected"},
                             allow_redirects=False)
    assert done.status == 303
    case = await store.case(org.id, case_id)
    assert case is not None
    assert (case.status, case.outcome) == ("closed", "redirected")
    assert await store.outcomes(org.id) == {"redirected": 1}
    assert "Orienté ailleurs : 1" in await (await client.get("/inbox/audit")).text()


async def test_an_admin_moves_a_case_from_the_case_page(
        client: WebClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    other = await organisation(store, "Secours Lyon")
    await worker(store, org, "anne@example.org", admin=True)
    await worker(store, org, "zoe@example.org")
    await worker(store, other, "bob@example.org")
    case_id = await new_case(store, "telegram:9", org_code="cimade")
    await login(client, "zoe@example.org", PASSWORD)
    token = await csrf(client)
    page = await (await client.get(f"/inbox/cases/{case_id}")).text()
    assert "Confier ce cas" not in page  # not an admin
    refused = await client.post(f"/inbox/cases/{case_id}/move",
                                data={"csrf": token, "org_id": str(other.id)})
    assert refused.status == 403
    client.session.cookie_jar.clear()
    await login(client, "anne@example.org", PASSWORD)
    token = await csrf(client)
    assert "Secours Lyon" in await (await client.get(f"/inbox/cases/{case_id}")).text()
    moved = await client.post(f"/inbox/cases/{case_id}/move",
                              data={"csrf": token, "org_id": str(other.id)},
                              allow_redirects=False)
    assert moved.status == 303
    assert await store.case(other.id, case_id) is not None
    assert (await client.get(f"/inbox/cases/{case_id}")).status == 404


async def test_the_case_page_shows_what_was_understood_in_french(
        client: WebClient, store: CaseStore) -> None:
    org = await organisation(store, "Cimade")
    await worker(store, org, "anne@example.org")
    user = "telegram:10"
    case_id = await new_case(store, user)
    async with store.storage.transaction() as tx:
        await tx.append_transcript(user, "in", "بلی", NOW, "bouton « Oui »")
        await tx.append_transcript(user, "in", "کارم را از دست میدهم", NOW, "non traduit")
    await login(client, "anne@example.org", PASSWORD)
    page = await (await client.get(f"/inbox/cases/{case_id}")).text()
    assert "Compris : bouton « Oui »" in page
    assert '<span class="untranslated">non traduit</span>' in page
    assert page.index("کارم را از دست میدهم") < page.index("non traduit</span>")
