// Labels on a conversation (transcript page, handoff card): add and remove; text only via textContent.
const DeskLabels = (() => {
  function attach(box) {
    const conversation = encodeURIComponent(box.dataset.conversation);
    const list = box.querySelector(".label-list");
    const error = box.querySelector(".error");
    function draw(labels) {
      list.replaceChildren(...labels.map((label) => Desk.el("li", {class: "label-chip", "data-label": label}, label + " ",
        Desk.el("button", {type: "button", class: "label-remove", "data-label": label,
          "aria-label": Desk.t("label_remove"), text: "×"}))));
    }
    function show(result) {
      if (result.ok) { error.hidden = true; draw(result.data.labels); return; }
      error.textContent = result.data.detail || "";
      error.hidden = false;
    }
    box.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = event.target.elements.label;
      const result = await Desk.call("POST", `/api/conversations/${conversation}/labels`, {label: input.value});
      if (result.ok) input.value = "";
      show(result);
    });
    list.addEventListener("click", async (event) => {
      const button = event.target.closest("button.label-remove");
      if (!button) return;
      show(await Desk.call("POST", `/api/conversations/${conversation}/labels/delete`, {label: button.dataset.label}));
    });
  }
  const box = document.getElementById("labels-box");
  if (box && box.dataset.conversation) attach(box);
  return {attach};
})();
