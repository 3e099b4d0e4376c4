// The handoff card's context: the customer's earlier conversations and tickets one click away, and the
// conversation's labels (static/labels.js). Filled from /api/handoffs/{id}/context.
(async () => {
  const section = document.getElementById("context");
  if (!section) return;
  const result = await Desk.call("GET", `/api/handoffs/${section.dataset.handoff}/context`);
  if (!result.ok) { section.hidden = true; return; }
  const data = result.data;
  const links = document.getElementById("context-links");
  if (data.tickets_url) links.append(Desk.el("a", {href: data.tickets_url, "data-testid": "context-tickets", text: Desk.t("context_tickets")}));
  if (data.transcripts_url) links.append(" · ", Desk.el("a", {href: data.transcripts_url, "data-testid": "context-transcripts", text: Desk.t("context_transcripts")}));
  const rows = document.querySelector("#context-conversations tbody");
  rows.replaceChildren(...data.conversations.map((c) => Desk.el("tr", {"data-conversation": c.conversation_id},
    Desk.el("td", {}, c.url ? Desk.el("a", {href: c.url, text: c.started_at.replace("T", " ")}) : c.started_at.replace("T", " "),
      c.current ? " (" + Desk.t("context_current") + ")" : ""),
    Desk.el("td", {text: c.channel}), Desk.el("td", {text: c.reason}), Desk.el("td", {text: c.agent || "–"}),
    Desk.el("td", {text: c.csat === null ? "–" : String(c.csat)}), Desk.el("td", {text: c.labels.join(", ")}))));
  document.getElementById("context-empty").hidden = data.conversations.length > 0;
  const box = document.getElementById("labels-box");
  box.dataset.conversation = data.conversation_id;
  box.querySelector(".label-list").replaceChildren(...data.labels.map((label) => Desk.el("li", {class: "label-chip", "data-label": label}, label + " ",
    Desk.el("button", {type: "button", class: "label-remove", "data-label": label, "aria-label": Desk.t("label_remove"), text: "×"}))));
  if (data.may_label) { box.querySelector("form").hidden = false; DeskLabels.attach(box); }
  else for (const button of box.querySelectorAll("button.label-remove")) button.remove();
})();
