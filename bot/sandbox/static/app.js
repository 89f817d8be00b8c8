"use strict";
// The sandbox chat page: one panel per person, each polling its chat through the JSON API.

const POLL_MS = 700;
const RTL = new Set(["ar", "fa", "he", "ur"]);
let people = [];
const panels = new Map();  // user id -> panel state

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showClock(now) {
  const text = now.replace("T", " ").replace("+00:00", " UTC");
  document.getElementById("clock").textContent = text;
}

function label(person) {
  return `${person.name} · ${person.locale} · ${person.country}` +
    (person.registered ? (person.role === "member" ? "" : ` · ${person.role}`) : " · new");
}

async function loadState() {
  const state = await api("/api/state");
  people = state.people;
  const select = document.getElementById("person");
  select.replaceChildren(...people.map((p) => new Option(label(p), p.user_id)));
  const locales = document.getElementById("new-locale");
  locales.replaceChildren(...state.locales.map((code) => new Option(code, code)));
  showClock(state.now);
}

function savePanels() {
  localStorage.setItem("sandbox-panels", JSON.stringify([...panels.keys()]));
}

function openPanel(userId) {
  const person = people.find((p) => p.user_id === userId);
  if (!person || panels.has(userId)) return;
  const node = document.getElementById("panel-template").content.firstElementChild.cloneNode(true);
  node.dataset.user = userId;
  node.lang = person.locale;
  node.dir = RTL.has(person.locale) ? "rtl" : "ltr";
  node.querySelector(".who").textContent = label(person);
  const panel = {
    person, node, chat: userId, seen: new Map(), timer: null,
    log: node.querySelector(".log"), keyboard: node.querySelector(".keyboard"),
    chatSelect: node.querySelector(".chat-select"), toast: node.querySelector(".toast"),
  };
  node.querySelector(".close").addEventListener("click", () => closePanel(userId));
  node.querySelector(".composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = node.querySelector(".composer input.text");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(panel, text);
  });
  node.querySelector(".file-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const form = new FormData();
    form.append("user", panel.person.user_id);
    form.append("chat", panel.chat);
    form.append("file", file);
    const response = await fetch("/api/upload", {method: "POST", body: form});
    if (!response.ok) flash(panel, (await response.json()).error, true);
    event.target.value = "";
    refresh(panel);
  });
  panel.chatSelect.addEventListener("change", () => {
    panel.chat = Number(panel.chatSelect.value);
    panel.seen.clear();
    panel.log.replaceChildren();
    refresh(panel);
  });
  document.getElementById("panels").append(node);
  panels.set(userId, panel);
  savePanels();
  refreshChats(panel);
  refresh(panel);
  panel.timer = setInterval(() => refresh(panel), POLL_MS);
}

function closePanel(userId) {
  const panel = panels.get(userId);
  if (!panel) return;
  clearInterval(panel.timer);
  panel.node.remove();
  panels.delete(userId);
  savePanels();
}

async function refreshChats(panel) {
  const list = await api(`/api/chats?user=${panel.person.user_id}`);
  const current = String(panel.chat);
  panel.chatSelect.replaceChildren(...list.map((c) => new Option(c.title, c.id)));
  panel.chatSelect.value = current;
}

async function send(panel, text) {
  try {
    await api("/api/send", {user: panel.person.user_id, chat: panel.chat, text});
  } catch (error) {
    flash(panel, error.message, true);
  }
  refresh(panel);
}

async function press(panel, message, data) {
  let reply;
  try {
    reply = await api("/api/press", {
      user: panel.person.user_id, chat: panel.chat, message_id: message, data,
    });
  } catch (error) {
    flash(panel, error.message, true);
    return;
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const answer = await api(`/api/answer?id=${encodeURIComponent(reply.query_id)}`);
    if (answer.answered) {
      if (answer.text) flash(panel, answer.text, answer.alert);
      break;
    }
  }
  refresh(panel);
}

async function join(panel, link) {
  try {
    const joined = await api("/api/join", {user: panel.person.user_id, link});
    if (joined.requested) {
      flash(panel, "Join request sent", false);
      return;
    }
    panel.chat = joined.chat;
    await refreshChats(panel);
    panel.seen.clear();
    panel.log.replaceChildren();
    refresh(panel);
  } catch (error) {
    flash(panel, error.message, true);
  }
}

function flash(panel, text, alert) {
  panel.toast.textContent = text;
  panel.toast.dir = "auto";
  panel.toast.classList.toggle("alert", Boolean(alert));
  panel.toast.hidden = false;
  clearTimeout(panel.toastTimer);
  panel.toastTimer = setTimeout(() => { panel.toast.hidden = true; }, alert ? 6000 : 2500);
}

function renderMessage(panel, message) {
  const wrap = document.createElement("div");
  wrap.className = "msg" + (message.from_bot ? "" : " mine");
  wrap.dataset.id = message.id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  bubble.dir = "auto";
  if (panel.chat < 0 && !message.from_bot) {
    const who = document.createElement("div");
    who.className = "sender";
    who.textContent = message.sender;
    bubble.append(who);
  }
  if (message.file) {
    const url = `/api/file/${encodeURIComponent(message.file.id)}`;
    if (message.file.mime.startsWith("image/")) {
      const img = document.createElement("img");
      img.src = url;
      img.alt = message.file.name;
      const link = document.createElement("a");
      link.href = url;
      link.download = message.file.name;
      link.append(img);
      bubble.append(link);
    } else if (message.file.mime.startsWith("audio/")) {
      const audio = document.createElement("audio");
      audio.controls = true;
      audio.src = url;
      bubble.append(audio);
    } else {
      const link = document.createElement("a");
      link.className = "file";
      link.href = url;
      link.download = message.file.name;
      link.textContent = "📎 " + message.file.name;
      bubble.append(link, document.createElement("br"));
    }
  }
  const text = document.createElement("span");
  text.className = "text";
  text.innerHTML = message.html;  // the stand-in's own rendering of Telegram entities
  bubble.append(text);
  if (message.version > 0) {
    const edited = document.createElement("span");
    edited.className = "edited";
    edited.textContent = "edited";
    bubble.append(edited);
  }
  wrap.append(bubble);
  if (message.buttons) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const row of message.buttons) {
      const line = document.createElement("div");
      line.className = "row";
      for (const button of row) {
        let node;
        if (button.url && button.url.startsWith("https://t.me/+")) {
          node = document.createElement("button");
          node.type = "button";
          node.className = "invite";
          node.addEventListener("click", () => join(panel, button.url));
        } else if (button.url) {
          node = document.createElement("a");
          node.href = button.url;
          node.target = "_blank";
          node.rel = "noopener";
        } else {
          node = document.createElement("button");
          node.type = "button";
          node.addEventListener("click", () => press(panel, message.id, button.callback_data));
        }
        node.dir = "auto";
        node.textContent = button.text;
        line.append(node);
      }
      box.append(line);
    }
    wrap.append(box);
  }
  return wrap;
}

function renderKeyboard(panel, keyboard) {
  const key = JSON.stringify(keyboard);
  if (panel.keyboardKey === key) return;
  panel.keyboardKey = key;
  panel.keyboard.replaceChildren();
  for (const row of keyboard || []) {
    const line = document.createElement("div");
    line.className = "row";
    for (const text of row) {
      const button = document.createElement("button");
      button.type = "button";
      button.dir = "auto";
      button.textContent = text;
      button.addEventListener("click", () => send(panel, text));
      line.append(button);
    }
    panel.keyboard.append(line);
  }
}

async function refresh(panel) {
  if (panel.busy) return;
  panel.busy = true;
  try {
    const data = await api(`/api/messages?user=${panel.person.user_id}&chat=${panel.chat}`);
    showClock(data.now);
    const atBottom = panel.log.scrollHeight - panel.log.scrollTop - panel.log.clientHeight < 40;
    const present = new Set();
    for (const message of data.messages) {
      present.add(message.id);
      const old = panel.seen.get(message.id);
      if (old && old.version === message.version) continue;
      const node = renderMessage(panel, message);
      if (old) old.node.replaceWith(node); else panel.log.append(node);
      panel.seen.set(message.id, {version: message.version, node});
    }
    for (const [id, old] of panel.seen) {
      if (!present.has(id)) { old.node.remove(); panel.seen.delete(id); }
    }
    renderKeyboard(panel, data.keyboard);
    if (atBottom) panel.log.scrollTop = panel.log.scrollHeight;
  } catch (error) {
    // The sandbox may be resetting; the next poll tries again.
  } finally {
    panel.busy = false;
  }
}

async function main() {
  await loadState();
  document.getElementById("open").addEventListener("click", () => {
    openPanel(Number(document.getElementById("person").value));
  });
  document.getElementById("plus-hour").addEventListener("click", async () => {
    showClock((await api("/api/clock", {hours: 1})).now);
  });
  document.getElementById("plus-day").addEventListener("click", async () => {
    showClock((await api("/api/clock", {hours: 24})).now);
  });
  document.getElementById("next-event").addEventListener("click", async () => {
    const moved = await api("/api/next", {});
    showClock(moved.now);
    if (!moved.kind) alert("Nothing is scheduled.");
  });
  document.getElementById("reset").addEventListener("click", async () => {
    if (!confirm("Start over with the ready-made content?")) return;
    await api("/api/reset", {});
    for (const id of [...panels.keys()]) closePanel(id);
    await loadState();
    openDefault();
  });
  document.getElementById("person-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const person = await api("/api/people", Object.fromEntries(form));
      await loadState();
      openPanel(person.user_id);
      event.target.reset();
    } catch (error) {
      alert(error.message);
    }
  });
  setInterval(() => panels.forEach(refreshChats), 5000);
  const saved = JSON.parse(localStorage.getItem("sandbox-panels") || "null");
  if (saved && saved.length) saved.forEach(openPanel); else openDefault();
}

function openDefault() {
  const newcomer = people.find((p) => !p.registered);
  const coordinator = people.find((p) => p.role === "coordinator");
  for (const person of [newcomer, coordinator]) if (person) openPanel(person.user_id);
}

main();
