// The availability switch in the header (every signed-in page): online / away / offline, persisted by the
// desk (an online agent is offered handoffs up to their capacity; signing out or closing the console
// takes them offline).
(() => {
  const select = document.getElementById("availability");
  if (!select) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  async function call(method, body) {
    const response = await fetch("/api/me/availability", {
      method, credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return response.ok ? response.json() : null;
  }
  function show(status) {
    select.value = status;
    select.dataset.status = status;
    select.className = "availability-" + status;
  }
  call("GET").then((data) => { if (data) show(data.status); });
  select.addEventListener("change", async () => {
    const wanted = select.value;
    const data = await call("POST", {status: wanted});
    if (data) show(data.status); else call("GET").then((now) => { if (now) show(now.status); });
  });
})();
