// The handoff page: live transcript (Server-Sent Events), replies, canned replies, notes, endings.
(() => {
  const page = document.getElementById("handoff");
  const id = page.dataset.id;
  const transcript = document.getElementById("transcript");
  let cursor = parseFloat(page.dataset.cursor) || 0;

  function addLine(message) {
    if (message.timestamp <= cursor) return;
    cursor = message.timestamp;
    const who = Desk.t("from_" + message.from) + (message.agent ? ` (${message.agent})` : "");
    transcript.append(Desk.el("li", {class: "msg from-" + message.from},
      Desk.el("span", {class: "who", text: who}), Desk.el("span", {class: "text", text: message.text})));
    transcript.scrollTop = transcript.scrollHeight;
  }
  const stream = new EventSource(`/api/handoffs/${id}/stream?after=${cursor}`);
  stream.addEventListener("message", (event) => addLine(JSON.parse(event.data)));
  stream.addEventListener("held", (event) => {  // WeChat: what waits for the customer's next message
    const held = document.getElementById("held");
    if (!held) return;
    const messages = JSON.parse(event.data).messages;
    document.getElementById("held-list").replaceChildren(...messages.map((m) =>
      Desk.el("li", {class: "msg from-" + m.source},
        Desk.el("span", {class: "who", text: m.from_label}), " ",
        Desk.el("span", {class: "why", text: m.reason_label}), " ",
        Desk.el("span", {class: "since", text: m.since_label}),
        Desk.el("span", {class: "text", text: m.text}))));
    held.hidden = messages.length === 0;
  });
  stream.addEventListener("notes", (event) => {  // what the customer adds while queued
    const notes = JSON.parse(event.data).notes;
    document.getElementById("customer-notes").replaceChildren(...notes.map((n) =>
      Desk.el("li", {}, Desk.el("span", {class: "since", text: n.at}), " ", Desk.el("span", {class: "text", text: n.text}))));
    document.getElementById("customer-notes-box").hidden = notes.length === 0;
  });
  stream.addEventListener("handoff", (event) => {
    const state = JSON.parse(event.data);
    const status = document.getElementById("status");
    status.textContent = Desk.t("status_" + state.status);
    status.className = "status status-" + state.status;
  });

  const claim = document.getElementById("claim");
  if (claim) claim.addEventListener("click", async () => {
    if (typeof DeskQueue === "object") DeskQueue.claiming(id);  // the agent's own claim: no "assigned to you" alert
    const result = await Desk.call("POST", `/api/handoffs/${id}/claim`);
    if (result.ok) window.location.reload(); else Desk.notice(result.data.detail);
  });

  const reply = document.getElementById("reply");
  if (reply) {
    const box = document.getElementById("reply-text");
    reply.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = box.value.trim();
      if (!text) return;
      const result = await Desk.call("POST", `/api/handoffs/${id}/messages`, {text});
      if (result.ok) { box.value = ""; Desk.notice(result.data.notice || ""); }
      else Desk.notice(result.data.detail);
    });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) reply.requestSubmit();
    });
    for (const button of document.querySelectorAll(".canned-reply")) {
      button.addEventListener("click", () => { box.value = button.dataset.text; box.focus(); });
    }
    const end = (path) => async () => {
      const result = await Desk.call("POST", `/api/handoffs/${id}/${path}`);
      if (!result.ok) { Desk.notice(result.data.detail); return; }
      if (!result.data.notice) { window.location.href = "/"; return; }
      Desk.notice(result.data.notice);  // closed; the bot takes over once the assistant answers again
      setTimeout(() => { window.location.href = "/"; }, 8000);
    };
    document.getElementById("resolve").addEventListener("click", end("resolve"));
    document.getElementById("back-to-bot").addEventListener("click", end("back-to-bot"));
    document.getElementById("requeue").addEventListener("click", end("requeue"));
    document.getElementById("ticket").addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = new FormData(event.target);
      const result = await Desk.call("POST", `/api/handoffs/${id}/tickets`,
        {topic: form.get("topic"), subject: form.get("subject")});
      Desk.notice(result.ok ? result.data.notice : result.data.detail);
      if (result.ok) event.target.reset();
    });
  }

  const note = document.getElementById("note");  // only for the agent holding it, or a supervisor
  if (note) note.addEventListener("submit", async (event) => {
    event.preventDefault();
    const box = event.target.elements.text;
    const result = await Desk.call("POST", `/api/handoffs/${id}/notes`, {text: box.value});
    if (!result.ok) { Desk.notice(result.data.detail); return; }
    box.value = "";
    document.getElementById("notes").append(Desk.el("li", {},
      Desk.el("span", {class: "who", text: result.data.agent}), " " + result.data.text));
  });
})();
