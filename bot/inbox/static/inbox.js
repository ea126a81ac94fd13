// Keeps the open inbox page up to date without reloading: the server says on a Server-Sent
// Events stream (/inbox/events) *that* something changed in the organisation; the page then
// fetches what it shows through the same pages a reload would. Without this script (or when
// the stream fails) the "actualiser la page" link stays, and works.
"use strict";

(function () {
  const live = document.querySelector("[data-live]");
  if (!live || !window.EventSource || !window.fetch) return;
  const state = live.querySelector(".live-state");
  let busy = false;
  let again = false;

  function say(text) { if (state) state.textContent = text; }

  async function refreshList() {
    const answer = await fetch(location.href, { credentials: "same-origin" });
    if (!answer.ok) throw new Error(String(answer.status));
    const page = new DOMParser().parseFromString(await answer.text(), "text/html");
    const fresh = page.getElementById("cases");
    const shown = document.getElementById("cases");
    if (fresh && shown) shown.replaceWith(document.importNode(fresh, true));
  }

  async function refreshCase() {
    const after = live.dataset.last || "0";
    const answer = await fetch(`/inbox/cases/${live.dataset.case}/lines?after=${after}`,
                               { credentials: "same-origin" });
    if (!answer.ok) throw new Error(String(answer.status));
    const page = new DOMParser().parseFromString(
      `<ol>${await answer.text()}</ol>`, "text/html");
    const list = document.getElementById("transcript");
    for (const item of page.querySelectorAll("li[data-id]")) {
      list.appendChild(document.importNode(item, true));
      live.dataset.last = item.dataset.id;
    }
  }

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      do {
        again = false;
        await (live.dataset.live === "case" ? refreshCase() : refreshList());
      } while (again);
    } catch (error) {
      say("Mise à jour automatique interrompue : ");
    } finally {
      busy = false;
    }
  }

  const events = new EventSource("/inbox/events");
  events.addEventListener("ready", () => {
    say("Mis à jour automatiquement. Sinon : ");
    live.classList.add("connected");
  });
  events.addEventListener("change", refresh);
  events.addEventListener("error", () => {
    live.classList.remove("connected");
    say("Mise à jour automatique indisponible pour l'instant : ");
  });
})();
