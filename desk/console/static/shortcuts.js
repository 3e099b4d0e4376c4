// Keyboard shortcuts on every console page (documented in the "?" overlay and the README):
//   c  claim (the open handoff, or on the queue the first waiting one)   r  resolve the chat you hold
//   n  next: open the first waiting handoff                              ?  this help (Esc closes it)
//   Ctrl+Enter / Cmd+Enter  send the reply (also while typing in the reply box)
// Single keys never fire while typing in a text field, a select or an editable element, or with a
// modifier held; only the send shortcut does.
(() => {
  const words = JSON.parse(document.getElementById("i18n").textContent);
  const t = (key) => words[key] || key;
  const KEYS = [["c", "shortcut_claim"], ["r", "shortcut_resolve"], ["n", "shortcut_next"],
    ["Ctrl/⌘ + Enter", "shortcut_send"], ["?", "shortcut_help"], ["Esc", "shortcut_close"]];
  let overlay = null;

  function typing(target) {
    if (!target || !target.tagName) return false;
    const tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function help() {
    if (overlay) { overlay.remove(); overlay = null; return; }
    overlay = document.createElement("div");
    overlay.className = "shortcuts-help";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("data-testid", "shortcuts-help");
    const title = document.createElement("h2");
    title.textContent = t("shortcut_title");
    const list = document.createElement("dl");
    for (const [key, label] of KEYS) {
      const dt = document.createElement("dt");
      const kbd = document.createElement("kbd");
      kbd.textContent = key;
      dt.append(kbd);
      const dd = document.createElement("dd");
      dd.textContent = t(label);
      list.append(dt, dd);
    }
    overlay.append(title, list);
    overlay.addEventListener("click", () => { overlay.remove(); overlay = null; });
    document.body.append(overlay);
  }
  function click(selector) {
    const target = document.querySelector(selector);
    if (target && !target.disabled) { target.click(); return true; }
    return false;
  }
  async function next() {
    const response = await fetch("/api/queue", {credentials: "same-origin"});
    if (!response.ok) return;
    const snapshot = await response.json();
    const first = (snapshot.queued || [])[0];
    if (first) window.location.href = first.url;
  }

  const button = document.getElementById("shortcuts-button");
  if (button) button.addEventListener("click", help);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      const reply = document.getElementById("reply");
      // inside the reply box handoff.js sends it already
      if (reply && event.target.id !== "reply-text") { event.preventDefault(); reply.requestSubmit(); }
      return;
    }
    if (event.key === "Escape" && overlay) { overlay.remove(); overlay = null; return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target) || event.isComposing) return;
    const key = event.key.toLowerCase();
    if (event.key === "?") { event.preventDefault(); help(); }
    else if (key === "c") { if (click("#claim") || click("#queued button.claim")) event.preventDefault(); }
    else if (key === "r") { if (click("#resolve")) event.preventDefault(); }
    else if (key === "n") { event.preventDefault(); next(); }
  });
})();
