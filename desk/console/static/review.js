// Supervisor transcript page: reveal one masked field at a time (the server writes the audit row first).
(function () {
  const box = document.querySelector("[data-testid=masked-data]");
  if (!box) return;
  const csrf = document.querySelector("meta[name=csrf-token]").content;
  const error = box.querySelector("[data-testid=reveal-error]");
  box.querySelectorAll("button.reveal").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = button.dataset.field;
      const reason = document.getElementById("reveal-reason").value.trim();
      error.hidden = true;
      const response = await fetch("/supervisor/api/reveal", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
        body: JSON.stringify({ customer_id: box.dataset.customer, conversation_id: box.dataset.conversation, field, reason }),
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        error.textContent = data.detail || String(response.status);
        error.hidden = false;
        return;
      }
      const cell = box.querySelector(`[data-testid=value-${field}]`);
      cell.textContent = data.value;  // textContent: never parsed as HTML
      cell.classList.add("revealed");
      button.disabled = true;
    });
  });
})();
