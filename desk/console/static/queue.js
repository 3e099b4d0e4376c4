// The live queue: a Server-Sent Events stream re-sends the snapshot whenever the queue changes.
(() => {
  function row(item, claimable) {
    const action = claimable
      ? Desk.el("button", {type: "button", class: "claim", "data-id": item.id, text: Desk.t("claim")})
      : Desk.el("a", {href: item.url, text: Desk.t("open")});
    return Desk.el("tr", {"data-id": item.id, "data-reason": item.reason, class: "priority-" + item.priority},
      Desk.el("td", {text: "#" + item.id}),
      Desk.el("td", {text: String(item.priority)}),
      Desk.el("td", {text: item.team_label ? `${item.reason_label} · ${item.team_label}` : item.reason_label}),
      Desk.el("td", {class: "summary", text: item.summary}),
      Desk.el("td", {text: item.channel_label}),
      Desk.el("td", {}, Desk.waited(item.waiting_s), slaBadge(item)),
      Desk.el("td", {}, action));
  }
  // SLA badge (desk/sla.py): moves on by itself from ok to warning to breached between snapshots
  function slaBadge(item) {
    if (!item.sla_state) return "";
    const now = Date.now();
    return Desk.el("span", {class: "badge sla sla-" + item.sla_state, "data-testid": "sla", "data-state": item.sla_state,
      "data-warn-at": String(now + item.sla_warn_in_s * 1000), "data-breach-at": String(now + item.sla_breach_in_s * 1000),
      title: item.sla_step_label + " · " + item.sla_class_label, text: item.sla_label});
  }
  function tickSla() {
    const now = Date.now();
    for (const badge of document.querySelectorAll("span.sla[data-breach-at]")) {
      if (!["ok", "warning"].includes(badge.dataset.state)) continue;
      const state = now > Number(badge.dataset.breachAt) ? "breached" : now >= Number(badge.dataset.warnAt) ? "warning" : "ok";
      if (state === badge.dataset.state) continue;
      badge.dataset.state = state;
      badge.className = "badge sla sla-" + state;
      badge.textContent = Desk.t("sla_state_" + state);
    }
  }
  setInterval(tickSla, 1000);
  function draw(snapshot) {
    for (const [name, claimable] of [["queued", true], ["mine", false]]) {
      const body = document.querySelector(`#${name} tbody`);
      body.replaceChildren(...snapshot[name].map((item) => row(item, claimable)));
      document.getElementById(`${name}-empty`).hidden = snapshot[name].length > 0;
    }
    document.getElementById("queued-count").textContent = String(snapshot.queued.length);
  }
  document.getElementById("queued").addEventListener("click", async (event) => {
    const button = event.target.closest("button.claim");
    if (!button) return;
    button.disabled = true;
    DeskQueue.claiming(button.dataset.id);  // the agent's own claim: no "assigned to you" alert
    const result = await Desk.call("POST", `/api/handoffs/${button.dataset.id}/claim`);
    if (result.ok) { window.location.href = result.data.url; return; }
    Desk.notice(result.data.detail || Desk.t("taken"));
  });
  draw(JSON.parse(document.getElementById("initial-queue").textContent));
  DeskQueue.subscribe(draw);  // static/alerts.js holds the one stream of the page
})();
