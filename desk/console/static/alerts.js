// Alerts on every agent page: a new handoff, a handoff waiting too long, or a chat handed to this agent
// (auto-assignment or a transfer) plays a short tone and, while the console is in the background, shows a
// browser notification (permission asked once, on the agent's first click); the tab title shows how many
// customers are waiting. "Waiting too long" is the SLA warning of the handoff's first response (the queue's
// "due soon" badge, desk/sla.py); a handoff without SLA fields counts after FALLBACK_WAIT_S.
// The queue page draws from the same stream (DeskQueue.subscribe) instead of opening a second one.
const DeskQueue = (() => {
  const FALLBACK_WAIT_S = 180;
  const ASKED_KEY = "desk.notifications.asked";
  const words = JSON.parse(document.getElementById("i18n").textContent);
  const baseTitle = document.title;
  const listeners = [];
  const seen = new Set();
  const seenMine = new Set();
  const claimed = new Set();  // taken by this agent's own click: nothing to announce
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
    note.onclick = () => { window.focus(); note.close(); if (item.url) window.location.href = item.url; };
  }

  function alert(title, item) {
    tone();
    notify(title, item);
  }

  function retitle() {
    document.title = queued.length ? `(${queued.length}) ${baseTitle}` : baseTitle;
  }

  // seconds since the snapshot until the handoff counts as waiting too long (<= 0: it already does)
  function lateIn(item) {
    if (typeof item.sla_warn_in_s === "number" && item.sla_step === "first_response") return item.sla_warn_in_s;
    return FALLBACK_WAIT_S - item.waiting_s;
  }

  function checkWaiting(quiet = new Set()) {
    const elapsed = (Date.now() - receivedAt) / 1000;
    for (const item of queued) {
      if (late.has(item.id) || lateIn(item) - elapsed > 0) continue;
      late.add(item.id);
      if (!first && !quiet.has(item.id)) alert(words.alert_waiting_long, item);
    }
  }

  function receive(snapshot) {
    queued = snapshot.queued || [];
    const mine = snapshot.mine || [];
    receivedAt = Date.now();
    const fresh = queued.filter((item) => !seen.has(item.id));
    const handed = mine.filter((item) => !seenMine.has(item.id) && !claimed.has(item.id));
    for (const item of queued) seen.add(item.id);
    for (const item of mine) seenMine.add(item.id);
    if (!first && handed.length) alert(words.alert_assigned_to_you, handed[0]);
    else if (!first && fresh.length) alert(words.alert_new_handoff, fresh[0]);
    // handoffs already waiting too long when the page opened, or when they arrive, are marked, not announced twice
    checkWaiting(new Set(fresh.map((item) => item.id)));
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
  setInterval(() => checkWaiting(), 1000);
  return {
    subscribe: (listener) => listeners.push(listener),
    claiming: (id) => claimed.add(Number(id)),  // called before this agent's own claim request
    fallbackWaitSeconds: FALLBACK_WAIT_S,
  };
})();
