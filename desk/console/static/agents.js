// Supervisors: each agent's capacity (concurrent chats) and each team's members.
(() => {
  for (const form of document.querySelectorAll("form.capacity")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const result = await Desk.call("POST", `/supervisor/api/agents/${encodeURIComponent(form.dataset.agent)}/capacity`,
        {capacity: Number(form.elements.capacity.value)});
      Desk.notice(result.ok ? Desk.t("capacity_saved") : result.data.detail);
    });
  }
  for (const form of document.querySelectorAll("form.members")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const members = form.elements.members.value.split(/[,，\s]+/).filter(Boolean);
      const result = await Desk.call("POST", `/supervisor/api/teams/${encodeURIComponent(form.dataset.team)}/members`,
        {members});
      if (result.ok) form.elements.members.value = result.data.members.join(", ");
      Desk.notice(result.ok ? Desk.t("team_saved") : result.data.detail);
    });
  }
})();
