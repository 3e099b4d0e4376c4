// A bare customer chat on /chat/ws (the real widget is issue 4's). ?sender=<id> picks the conversation.
(() => {
  const params = new URLSearchParams(window.location.search);
  const sender = params.get("sender") || "chat-" + crypto.randomUUID().replaceAll("-", "");  // web-… ids belong to the widget
  const list = document.getElementById("messages");
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/chat/ws?sender=${encodeURIComponent(sender)}`);
  function show(from, text, buttons) {
    const item = document.createElement("li");
    item.className = "msg from-" + from;
    item.dataset.from = from;
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.append(body);
    for (const b of buttons || []) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "quick";
      button.textContent = b.title;
      button.addEventListener("click", () => say(b.payload, b.title));
      item.append(button);
    }
    list.append(item);
  }
  function say(text, shown) {
    show("customer", shown || text);
    socket.send(JSON.stringify({text}));
  }
  socket.addEventListener("open", () => document.body.dataset.connected = "true");
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "message") show(message.from, message.text, message.buttons);
  });
  document.getElementById("say").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("text");
    if (input.value.trim()) say(input.value.trim());
    input.value = "";
  });
})();
