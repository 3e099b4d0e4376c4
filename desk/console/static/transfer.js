// Transfer on the handoff card: to a team (back in the queue for its members) or a named colleague (who
// holds it at once), with a private note the receiver sees on the card and the customer never does.
(() => {
  const form = document.getElementById("transfer");
  if (!form) return;
  const id = document.getElementById("handoff").dataset.id;
  const team = form.elements.team;
  const agent = form.elements.agent;
  team.addEventListener("change", () => { if (team.value) agent.value = ""; });
  agent.addEventListener("change", () => { if (agent.value) team.value = ""; });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await Desk.call("POST", `/api/handoffs/${id}/transfer`,
      {team: team.value || null, agent: agent.value || null, note: form.elements.note.value});
    if (!result.ok) { Desk.notice(result.data.detail); return; }
    Desk.notice(result.data.notice);
    form.hidden = true;
    setTimeout(() => { window.location.href = result.data.url; }, 1500);
  });
})();
