// Relais web chat on another site: <script src="https://YOUR-RELAIS/chat/embed.js" async></script>
// Adds a round button at the bottom corner that opens the chat in a frame.
(() => {
  const script = document.currentScript;
  const origin = new URL(script.src).origin;
  const org = script.dataset.org ? "?org=" + encodeURIComponent(script.dataset.org) : "";
  const button = document.createElement("button");
  button.type = "button";
  button.setAttribute("aria-label", "Relais");
  button.textContent = "💬";
  button.style.cssText = "position:fixed;bottom:16px;inset-inline-end:16px;width:56px;height:56px;" +
    "border-radius:50%;border:0;background:#1f5fae;color:#fff;font-size:26px;z-index:2147483646;";
  const frame = document.createElement("iframe");
  frame.title = "Relais";
  frame.src = origin + "/" + org;
  frame.style.cssText = "position:fixed;bottom:84px;inset-inline-end:16px;width:min(380px,94vw);" +
    "height:min(600px,80vh);border:1px solid #ccc;border-radius:12px;display:none;" +
    "z-index:2147483647;background:#fff;";
  button.addEventListener("click", () => {
    frame.style.display = frame.style.display === "none" ? "block" : "none";
  });
  document.body.append(frame, button);
})();
