// Relais web chat on another site: <script src="https://YOUR-RELAIS/chat/embed.js" async></script>
// Adds a round button at the bottom corner that opens the chat in a frame. The button and the
// frame are named in the language of the site (its <html lang>, or data-lang on the script
// tag, else the browser's), then in the language the person chose in the chat.
(() => {
  const script = document.currentScript;
  const origin = new URL(script.src).origin;
  const org = script.dataset.org ? "?org=" + encodeURIComponent(script.dataset.org) : "";
  const WORDS = {
    fr: {open: "Ouvrir le chat Relais", close: "Fermer le chat Relais",
         title: "Relais, aide pour le site ANEF"},
    fa_AF: {open: "باز کردن گفتگو با \u2068Relais\u2069", close: "بستن گفتگو با \u2068Relais\u2069",
            title: "\u2068Relais\u2069، کمک برای سایت \u2068ANEF\u2069"},
    ps: {open: "له \u2068Relais\u2069 سره خبرې پرانیستل", close: "له \u2068Relais\u2069 سره خبرې بندول",
         title: "\u2068Relais\u2069، د \u2068ANEF\u2069 سایټ لپاره مرسته"},
    ar: {open: "افتح المحادثة مع \u2068Relais\u2069", close: "أغلق المحادثة مع \u2068Relais\u2069",
         title: "\u2068Relais\u2069، مساعدة لموقع \u2068ANEF\u2069"},
    en: {open: "Open the Relais chat", close: "Close the Relais chat",
         title: "Relais, help with the ANEF website"},
  };
  // "fa-AF", "prs", "ps-AF", "ar-SY", "en-GB"...: one of the chat's five languages, or French.
  function ours(tag) {
    const code = String(tag || "").toLowerCase().replace("_", "-");
    if (code === "prs" || code.startsWith("fa")) return "fa_AF";
    const base = code.split("-")[0];
    return ["fr", "ps", "ar", "en"].includes(base) ? base : null;
  }
  let locale = ours(script.dataset.lang) || ours(document.documentElement.lang) ||
    ours(navigator.language) || "fr";

  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "💬";
  button.style.cssText = "position:fixed;bottom:16px;inset-inline-end:16px;width:56px;height:56px;" +
    "border-radius:50%;border:0;background:#1f5fae;color:#fff;font-size:26px;z-index:2147483646;";
  const frame = document.createElement("iframe");
  // The chat speaks the site's language until the person chooses theirs.
  frame.src = origin + "/" + (org ? org + "&" : "?") + "lang=" + locale;
  frame.style.cssText = "position:fixed;bottom:84px;inset-inline-end:16px;width:min(380px,94vw);" +
    "height:min(600px,80vh);border:1px solid #ccc;border-radius:12px;display:none;" +
    "z-index:2147483647;background:#fff;";
  function name() {
    const words = WORDS[locale];
    const open = frame.style.display !== "none";
    button.setAttribute("aria-label", open ? words.close : words.open);
    button.title = open ? words.close : words.open;
    button.setAttribute("aria-expanded", String(open));
    frame.title = words.title;
    // lang only: a dir would move them to the other corner (inset-inline-end follows it).
    button.lang = frame.lang = locale.replace("_", "-");
  }
  button.addEventListener("click", () => {
    frame.style.display = frame.style.display === "none" ? "block" : "none";
    name();
  });
  // The chat says which language the person chose (only the chat's own frame is listened to).
  window.addEventListener("message", event => {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    const data = event.data || {};
    if (data.type === "relais:locale" && WORDS[data.locale]) { locale = data.locale; name(); }
  });
  name();
  document.body.append(frame, button);
})();
