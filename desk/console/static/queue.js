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
      Desk.el("td", {text: Desk.waited(item.waiting_s)}),
      Desk.el("td", {}, action));
  }
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
    const result = await Desk.call("POST", `/api/handoffs/${button.dataset.id}/claim`);
    if (result.ok) { window.location.href = result.data.url; return; }
    Desk.notice(result.data.detail || Desk.t("taken"));
  });
  draw(JSON.parse(document.getElementById("initial-queue").textContent));
  DeskQueue.subscribe(draw);  // static/alerts.js holds the one stream of the page
})();
