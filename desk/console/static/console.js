// Shared helpers: CSRF-protected JSON calls and the page's wording. User text is only ever set with
// textContent, never innerHTML.
const Desk = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const words = JSON.parse(document.getElementById("i18n").textContent);
  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* empty body */ }
    return {ok: response.ok, status: response.status, data};
  }
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value; else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child);
    return node;
  }
  function notice(text) {
    const box = document.getElementById("notice");
    if (box) box.textContent = text || "";
  }
  function waited(seconds) {
    return seconds < 60 ? `${seconds} ${words.seconds}` : `${Math.floor(seconds / 60)} ${words.minutes}`;
  }
  return {call, el, notice, waited, t: (key) => words[key] || key};
})();
