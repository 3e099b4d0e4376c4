// Alerts on every agent page: a new handoff, or one waiting longer than ALERT_WAIT_S, plays a short tone
// and, while the console is in the background, shows a browser notification (permission asked once, on
// the agent's first click); the tab title shows how many customers are waiting. The queue page draws
// from the same stream (DeskQueue.subscribe) instead of opening a second one.
const DeskQueue = (() => {
  const ALERT_WAIT_S = 180;
  const ASKED_KEY = "desk.notifications.asked";
  const words = JSON.parse(document.getElementById("i18n").textContent);
  const baseTitle = document.title;
  const listeners = [];
  const seen = new Set();
  const late = new Set();
  let queued = [];
  let receivedAt = Date.now();
  let first = true;
  let audio = null;

  function tone() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.15;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio device: the title and the notification still tell */ }
  }

  function notify(title, item) {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    const note = new Notification(title, {body: `#${item.id} · ${item.reason_label}`, tag: `handoff-${item.id}`});
    note.onclick = () => { window.focus(); note.close(); };
  }

  function alert(title, item) {
    tone();
    notify(title, item);
  }

  function retitle() {
    document.title = queued.length ? `(${queued.length}) ${baseTitle}` : baseTitle;
  }

  function checkWaiting() {
    const elapsed = Math.floor((Date.now() - receivedAt) / 1000);
    for (const item of queued) {
      if (!late.has(item.id) && item.waiting_s + elapsed >= ALERT_WAIT_S) {
        late.add(item.id);
        if (!first) alert(words.alert_waiting_long, item);
      }
    }
  }

  function receive(snapshot) {
    queued = snapshot.queued || [];
    receivedAt = Date.now();
    const fresh = queued.filter((item) => !seen.has(item.id));
    for (const item of queued) seen.add(item.id);
    if (!first && fresh.length) alert(words.alert_new_handoff, fresh[0]);
    // handoffs already waiting too long when the page opened are marked, not announced
    checkWaiting();
    first = false;
    retitle();
    for (const listener of listeners) listener(snapshot);
  }

  document.addEventListener("click", () => {
    if (!("Notification" in window) || Notification.permission !== "default") return;
    if (localStorage.getItem(ASKED_KEY)) return;
    localStorage.setItem(ASKED_KEY, "1");
    Notification.requestPermission();
  }, {once: true});

  const stream = new EventSource("/api/queue/stream");
  stream.addEventListener("queue", (event) => receive(JSON.parse(event.data)));
  setInterval(checkWaiting, 5000);
  return {subscribe: (listener) => listeners.push(listener), waitAlertSeconds: ALERT_WAIT_S};
})();
