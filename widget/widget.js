/*
 * The shop's chat window: one script tag on any page, no build step.
 *
 *   <script src="https://desk.example/widget/widget.js" data-token="<signed token>" defer></script>
 *
 * data-token: the signed-in customer's token from the shop's server (desk/widget_tokens.py); without
 * it the customer chats as a guest. data-lang="zh|en" overrides the browser's language.
 * It talks to /widget/ws on the server it was loaded from (protocol: desk/console/routes/widget.py).
 * Every line is shown with textContent, never as HTML.
 */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__kicChatWidget) return;
  window.__kicChatWidget = true;

  const base = new URL(script.src, window.location.href);
  const SOCKET_URL = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/widget/ws";
  const TOKEN = script.dataset.token || null;
  const TEXT_MAX = 2000;
  const PREFIX = "kic-chat:";

  const store = {
    get(key, session) {
      try { return (session ? sessionStorage : localStorage).getItem(PREFIX + key); } catch (e) { return null; }
    },
    set(key, value, session) {
      try { (session ? sessionStorage : localStorage).setItem(PREFIX + key, value); } catch (e) { /* private mode */ }
    },
  };

  function pickLanguage() {
    const forced = script.dataset.lang;
    if (forced === "zh" || forced === "en") return forced;
    for (const tag of navigator.languages || [navigator.language || ""]) {
      const primary = String(tag).toLowerCase().split("-")[0];
      if (primary === "zh" || primary === "en") return primary;
    }
    return "zh";
  }

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  const CSS = `
    :host { all: initial; }
    .widget { --accent: #b3261e; --ink: #1f2933; --soft: #f3f4f6; font: 15px/1.5 system-ui, "PingFang SC",
      "Microsoft YaHei", sans-serif; color: var(--ink); position: fixed; right: 20px; bottom: 20px;
      z-index: 2147483000; display: flex; flex-direction: column; align-items: flex-end; gap: 12px; }
    .widget.large { font-size: 20px; }
    .sr { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0);
      white-space: nowrap; border: 0; }
    button { font: inherit; cursor: pointer; }
    button:focus-visible, textarea:focus-visible, .log:focus-visible { outline: 3px solid #1a73e8; outline-offset: 2px; }
    .launcher { display: flex; align-items: center; gap: 8px; border: 0; border-radius: 999px; padding: .7em 1.2em;
      background: var(--accent); color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); }
    .badge { background: #fff; color: var(--accent); border-radius: 999px; padding: 0 .5em; font-size: .8em; }
    .panel { width: min(380px, calc(100vw - 40px)); height: min(560px, calc(100vh - 110px)); display: flex;
      flex-direction: column; background: #fff; border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.25); overflow: hidden; }
    .widget.large .panel { width: min(460px, calc(100vw - 40px)); height: min(680px, calc(100vh - 110px)); }
    .panel[hidden] { display: none; }
    header { display: flex; align-items: center; gap: 8px; padding: .6em .8em; background: var(--accent); color: #fff; }
    header h2 { font-size: 1.05em; margin: 0; flex: 1; }
    header p { margin: 0; font-size: .8em; opacity: .9; }
    header button { background: rgba(255,255,255,.15); color: #fff; border: 1px solid rgba(255,255,255,.5);
      border-radius: 6px; padding: .2em .6em; }
    header button[aria-pressed="true"] { background: #fff; color: var(--accent); }
    .status { margin: 0; padding: 0 .8em; font-size: .85em; color: #52606d; min-height: 0; }
    .status:not(:empty) { padding: .3em .8em; background: #fff8e1; }
    .notices:not(:empty) { padding: .4em .8em; background: #e8f0fe; font-size: .9em; }
    .notices p { margin: 0; }
    .log { list-style: none; margin: 0; padding: .8em; flex: 1; overflow-y: auto; display: flex; flex-direction: column; gap: .6em; }
    .msg { max-width: 85%; padding: .5em .8em; border-radius: 12px; background: var(--soft); white-space: pre-wrap;
      word-break: break-word; align-self: flex-start; }
    .msg.from-customer { align-self: flex-end; background: var(--accent); color: #fff; }
    .msg.from-agent { background: #e6f4ea; }
    .msg .who { display: block; font-size: .75em; color: #52606d; }
    .msg.from-customer .who { color: #fde7e5; }
    .msg .state { display: block; font-size: .75em; opacity: .85; }
    .quick { display: flex; flex-wrap: wrap; gap: .4em; margin-top: .5em; }
    .quick button { border: 1px solid var(--accent); color: var(--accent); background: #fff; border-radius: 999px;
      padding: .25em .8em; }
    .quick button:disabled { opacity: .5; cursor: default; }
    .icon { width: 1.2em; height: 1.2em; fill: currentColor; flex: none; vertical-align: -.2em; }
    .icon.star { width: 1em; height: 1em; fill: #f5a623; }
    .typing { padding: 0 .8em .4em; font-size: .85em; color: #52606d; min-height: 1.2em; }
    .typing .dots span { display: inline-block; width: .45em; height: .45em; margin-right: .2em; border-radius: 50%;
      background: #9aa5b1; animation: blink 1.2s infinite both; }
    .typing .dots span:nth-child(2) { animation-delay: .2s; } .typing .dots span:nth-child(3) { animation-delay: .4s; }
    @keyframes blink { 0%, 80%, 100% { opacity: .2; } 40% { opacity: 1; } }
    @media (prefers-reduced-motion: reduce) { .typing .dots span { animation: none; } }
    form { display: flex; gap: .5em; padding: .6em; border-top: 1px solid #e4e7eb; }
    textarea { flex: 1; resize: none; font: inherit; padding: .4em .6em; border: 1px solid #cbd2d9; border-radius: 8px; }
    .send { border: 0; border-radius: 8px; padding: 0 1em; background: var(--accent); color: #fff; }
    .menu { padding: .6em .8em; border-bottom: 1px solid #e4e7eb; background: #fafafa; max-height: 55%; overflow-y: auto; }
    .menu[hidden], .my-data[hidden] { display: none; }
    .menu-item { border: 1px solid #cbd2d9; background: #fff; border-radius: 8px; padding: .3em .8em; }
    .menu-label { width: 100%; margin: .2em 0 0; font-size: .85em; color: #52606d; }
    .my-data h3 { font-size: 1em; margin: .6em 0 .2em; }
    .my-data .level { margin: 0 0 .3em; font-weight: 600; }
    .my-data-lines { margin: 0; padding-left: 1.2em; font-size: .9em; }
  `;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === true) node.setAttribute(name, "");
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, String(value));
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // Icons are inline SVG: an emoji shows as an empty box where no emoji font is installed.
  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    star: "M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5L2.5 9.4l6.6-.9z",
  };
  const STAR = "\u2B50";

  function icon(name, cls) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon " + (cls || name));
    svg.dataset.icon = name;
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  // "⭐⭐⭐ 3" (a rating quick reply) -> { stars: 3, label: "3" }; other titles are left as they are
  function ratingOf(title) {
    const stars = (String(title).match(new RegExp(STAR, "g")) || []).length;
    if (!stars) return null;
    return { stars, label: String(title).split(STAR).join("").replace(/\uFE0F/g, "").trim() || String(stars) };
  }

  function start(t, lang) {
    const host = el("div", { id: "kic-chat-widget", "data-state": "idle" });
    document.body.append(host);
    const root = host.attachShadow({ mode: "open" });
    root.append(el("style", {}, CSS));

    const widget = el("div", { class: "widget", lang: lang === "zh" ? "zh-CN" : "en" });
    const panel = el("section", { class: "panel", id: "panel", role: "dialog", "aria-labelledby": "title",
                                  "aria-describedby": "subtitle", hidden: true });
    const header = el("header");
    const titles = el("div", { style: "flex:1" });
    titles.append(el("h2", { id: "title" }, t.title), el("p", { id: "subtitle" }, t.subtitle));
    const largeButton = el("button", { type: "button", class: "large-toggle", "aria-pressed": "false",
                                       "data-testid": "larger-text" }, "A+");
    largeButton.append(el("span", { class: "sr" }, " " + t.larger_text));
    largeButton.title = t.larger_text;
    const closeButton = el("button", { type: "button", class: "close", "aria-label": t.close, title: t.close,
                                       "data-testid": "close" }, "×");
    const menuButton = el("button", { type: "button", class: "menu-toggle", "aria-expanded": "false",
                                      "aria-controls": "menu", "data-testid": "menu" }, "☰");
    menuButton.append(el("span", { class: "sr" }, " " + t.menu));
    menuButton.title = t.menu;
    header.append(titles, menuButton, largeButton, closeButton);
    const status = el("p", { class: "status", role: "status", "data-testid": "status" });
    const notices = el("div", { class: "notices", "aria-live": "polite", "data-testid": "notices" });
    const log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.log_label,
                           tabindex: "0", "data-testid": "log" });
    const typing = el("div", { class: "typing", "aria-live": "polite", "data-testid": "typing" });
    const form = el("form", { class: "composer" });
    const input = el("textarea", { id: "input", rows: "2", maxlength: String(TEXT_MAX), placeholder: t.placeholder,
                                   "aria-label": t.input_label, "data-testid": "input" });
    const sendButton = el("button", { type: "submit", class: "send", "data-testid": "send" }, t.send);
    form.append(input, sendButton);
    // the menu: the customer's data (transparency report) and one-tap personalisation / opt-out
    const menu = el("div", { class: "menu", id: "menu", hidden: true, "data-testid": "menu-panel" });
    const myDataButton = el("button", { type: "button", class: "menu-item", "data-testid": "my-data" }, t.my_data);
    const intensity = el("div", { class: "quick", role: "group", "aria-label": t.intensity_label });
    intensity.append(el("p", { class: "menu-label" }, t.intensity_label));
    const CHOICES = [["off", "/personalization_off"], ["low", "/personalization_less"],
                     ["medium", "/personalization_standard"], ["high", "/personalization_more"]];
    for (const [level, payload] of CHOICES) {
      const choice = el("button", { type: "button", class: "quick-reply", "data-testid": "intensity-" + level },
                        t["intensity_" + level]);
      choice.addEventListener("click", () => { toggleMenu(false); say(payload, t["intensity_" + level]); });
      intensity.append(choice);
    }
    const optOut = el("button", { type: "button", class: "quick-reply", "data-testid": "opt-out" }, t.opt_out);
    optOut.addEventListener("click", () => { toggleMenu(false); say("/stop_messages", t.opt_out); });
    intensity.append(optOut);
    const myData = el("section", { class: "my-data", hidden: true, "aria-live": "polite", "data-testid": "my-data-panel",
                                   "aria-label": t.my_data_title });
    menu.append(myDataButton, intensity, myData);
    panel.append(header, status, notices, menu, log, typing, form);
    const launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false",
                                    "aria-controls": "panel", "data-testid": "launcher" });
    const badge = el("span", { class: "badge", hidden: true }, "1");
    launcher.append(icon("chat"), el("span", {}, t.title), badge);
    badge.append(el("span", { class: "sr" }, " " + t.new_message));
    widget.append(panel, launcher);
    root.append(widget);

    // --- state -------------------------------------------------------------------------------
    let socket = null;
    let ready = false; // welcome received on the current socket
    let attempt = 0;
    let retryTimer = null;
    let historyTexts = new Set();
    const rendered = new Map(); // idempotency key -> the customer's <li>
    let outbox = [];
    try { outbox = JSON.parse(store.get("outbox") || "[]").filter((m) => m && m.id && m.text); } catch (e) { outbox = []; }
    const saveOutbox = () => store.set("outbox", JSON.stringify(outbox));

    function showLarge(on) {
      widget.classList.toggle("large", on);
      largeButton.setAttribute("aria-pressed", on ? "true" : "false");
    }
    function setLarge(on) { // the customer's own choice: kept, and it wins over the profile's default
      showLarge(on);
      store.set("large", on ? "1" : "0");
    }
    showLarge(store.get("large") === "1");
    largeButton.addEventListener("click", () => setLarge(!widget.classList.contains("large")));

    function toggleMenu(on) {
      menu.hidden = !on;
      menuButton.setAttribute("aria-expanded", on ? "true" : "false");
      if (!on) myData.hidden = true;
    }
    menuButton.addEventListener("click", () => toggleMenu(menu.hidden));
    myDataButton.addEventListener("click", () => {
      myData.hidden = false;
      myData.replaceChildren(el("p", {}, t.my_data_loading));
      if (socket && ready && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "my_data", lang }));
      else connect();
    });

    function showMyData(frame) {
      const list = el("ul", { class: "my-data-lines" });
      for (const text of frame.lines || []) list.append(el("li", {}, text));
      myData.replaceChildren(el("h3", {}, t.my_data_title),
                             el("p", { class: "level", "data-testid": "my-data-level" },
                                t.my_data_level + " " + (t["intensity_" + frame.level] || frame.level)),
                             list);
      myData.hidden = false;
    }

    function setTyping(on) {
      typing.replaceChildren();
      if (on) {
        const dots = el("span", { class: "dots", "aria-hidden": "true" });
        dots.append(el("span"), el("span"), el("span"));
        typing.append(dots, el("span", {}, " " + t.typing));
      }
      host.dataset.typing = on ? "true" : "false";
    }

    function scrollDown() { log.scrollTop = log.scrollHeight; }

    function line(from, text, extra) {
      const item = el("li", { class: "msg from-" + from, "data-from": from });
      const who = from === "agent" ? t.from_agent + (extra && extra.agent ? " " + extra.agent : "")
        : from === "customer" ? t.from_customer : t.from_bot;
      item.append(el("span", { class: from === "agent" ? "who" : "who sr" }, who + (from === "agent" ? "" : "：")));
      item.append(el("span", { class: "text" }, text));
      return item;
    }

    function quickReplies(item, buttons) {
      if (!buttons || !buttons.length) return;
      const group = el("div", { class: "quick", role: "group", "aria-label": t.quick_replies });
      for (const b of buttons) {
        const rating = ratingOf(b.title);
        const shown = rating ? rating.label : b.title;
        const button = el("button", { type: "button", class: rating ? "quick-reply rating" : "quick-reply" });
        if (rating) {
          for (let i = 0; i < rating.stars; i++) button.append(icon("star"));
          button.append(el("span", { class: "rating-label" }, " " + rating.label));
          button.setAttribute("aria-label", rating.label);
        } else {
          button.textContent = b.title;
        }
        button.addEventListener("click", () => {
          for (const other of group.querySelectorAll("button")) other.disabled = true;
          say(b.payload, shown);
          input.focus();
        });
        group.append(button);
      }
      item.append(group);
    }

    function show(from, text, buttons, extra) {
      const item = line(from, text, extra);
      quickReplies(item, buttons);
      log.append(item);
      scrollDown();
      if (panel.hidden && from !== "customer") badge.hidden = false;
      return item;
    }

    function pendingLine(message) {
      const item = line("customer", message.shown || message.text);
      item.dataset.id = message.id;
      item.classList.add("pending");
      item.append(el("span", { class: "state" }, t.pending));
      rendered.set(message.id, item);
      log.append(item);
      scrollDown();
      return item;
    }

    function settled(id, note) {
      const item = rendered.get(id);
      if (!item) return;
      item.classList.remove("pending");
      const state = item.querySelector(".state");
      if (note) { if (state) state.textContent = note; } else if (state) state.remove();
    }

    function transmit(message) {
      if (socket && ready && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "message", id: message.id, text: message.text, shown: message.shown }));
        return true;
      }
      return false;
    }

    function say(text, shown) {
      const message = { id: newId(), text, shown: shown || text };
      outbox.push(message);
      saveOutbox();
      pendingLine(message);
      store.set("active", "1");
      if (transmit(message)) setTyping(true);
      else connect();
    }

    function renderHistory(frame) {
      log.setAttribute("aria-busy", "true");
      log.replaceChildren();
      rendered.clear();
      historyTexts = new Set();
      const messages = frame.messages || [];
      if (!messages.length) show("bot", t.welcome).classList.add("intro");
      messages.forEach((m, index) => {
        const item = show(m.from, m.text, index === messages.length - 1 ? frame.buttons : null);
        if (m.from === "customer") historyTexts.add(m.text);
        item.dataset.history = "true";
      });
      for (const message of outbox) pendingLine(message);
      log.setAttribute("aria-busy", "false");
      badge.hidden = true;
      scrollDown();
    }

    function handle(frame) {
      switch (frame.type) {
        case "welcome":
          ready = true;
          attempt = 0;
          if (frame.guest) store.set("guest", frame.guest);
          // a declared accessibility need: larger text by default, unless the customer chose a size here
          if (frame.large_text && store.get("large") === null) showLarge(true);
          host.dataset.identity = frame.identity;
          status.textContent = "";
          host.dataset.state = "open";
          break;
        case "notice":
          if (t[frame.code]) notices.replaceChildren(el("p", { "data-code": frame.code }, t[frame.code]));
          break;
        case "history":
          renderHistory(frame);
          for (const message of outbox) transmit(message);
          if (outbox.length) setTyping(true);
          break;
        case "typing":
          setTyping(Boolean(frame.on));
          break;
        case "my_data":
          showMyData(frame);
          break;
        case "message":
          if (frame.from === "customer") {
            if (!rendered.has(frame.id)) rendered.set(frame.id, show("customer", frame.text));
            break;
          }
          show(frame.from === "agent" ? "agent" : "bot", frame.text || "", frame.buttons, frame);
          break;
        case "ack": {
          outbox = outbox.filter((m) => m.id !== frame.id);
          saveOutbox();
          const item = rendered.get(frame.id);
          if (frame.duplicate && item && item.classList.contains("pending") &&
              historyTexts.has(item.querySelector(".text").textContent)) {
            item.remove(); // already in the history shown after the reconnect
          } else {
            settled(frame.id);
          }
          break;
        }
        case "error":
          if (frame.code === "unavailable" || frame.code === "rate_limited") {
            settled(frame.id, t.unavailable);
            rendered.get(frame.id) && rendered.get(frame.id).classList.add("pending");
            setTimeout(() => { const m = outbox.find((x) => x.id === frame.id); if (m) transmit(m); }, 3000);
          } else if (frame.id) {
            outbox = outbox.filter((m) => m.id !== frame.id);
            saveOutbox();
            settled(frame.id, frame.code === "too_long" ? t.too_long : "");
          }
          setTyping(false);
          break;
        default:
          break;
      }
    }

    function connect() {
      if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) return;
      if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
      ready = false;
      host.dataset.state = "connecting";
      if (!log.childElementCount) status.textContent = t.connecting;
      const current = new WebSocket(SOCKET_URL);
      socket = current;
      current.addEventListener("open", () => {
        current.send(JSON.stringify({ type: "hello", token: TOKEN, guest: store.get("guest") }));
      });
      current.addEventListener("message", (event) => {
        let frame;
        try { frame = JSON.parse(event.data); } catch (e) { return; }
        if (frame && typeof frame === "object") handle(frame);
      });
      current.addEventListener("close", () => {
        if (socket !== current) return;
        ready = false;
        setTyping(false);
        host.dataset.state = "closed";
        status.textContent = t.reconnecting;
        // back off: 0.5 s, 1 s, 2 s … up to 15 s, with jitter so a restarted server is not stampeded
        const delay = Math.min(15000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
        attempt += 1;
        retryTimer = setTimeout(connect, delay);
      });
    }
    window.addEventListener("online", () => { if (host.dataset.state === "closed") { attempt = 0; connect(); } });

    function open() {
      panel.hidden = false;
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", t.close);
      badge.hidden = true;
      store.set("open", "1", true);
      connect();
      input.focus();
      scrollDown();
    }

    function close() {
      panel.hidden = true;
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-label", t.open);
      store.set("open", "0", true);
      launcher.focus();
    }

    launcher.setAttribute("aria-label", t.open);
    launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
    closeButton.addEventListener("click", close);
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); close(); }
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      say(text.slice(0, TEXT_MAX));
    });

    if (store.get("open", true) === "1") open();
    else if (TOKEN || store.get("active") === "1" || outbox.length) connect();
  }

  const lang = pickLanguage();
  fetch(new URL("strings.json", base).href)
    .then((response) => response.json())
    .then((all) => {
      const go = () => start(all[lang] || all.zh, lang);
      if (document.body) go(); else document.addEventListener("DOMContentLoaded", go);
    })
    .catch(() => { /* the shop page keeps working without the chat */ });
})();
