// The chat webview view: a conversation about the active radiograph, streamed answers, stop,
// "insert into report". Keyboard: Enter sends, Shift+Enter adds a line, Escape stops.
const vscode = acquireVsCodeApi();
const $ = (id) => document.getElementById(id);
const log = $("log");
const input = $("input");
let streaming;

function entry(role, text, index, note) {
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  div.setAttribute("role", "article");
  div.setAttribute("aria-label", role === "user" ? "You" : "XrayGPT");
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  div.append(body);
  if (note) {
    const n = document.createElement("div");
    n.className = "note";
    n.textContent = note;
    div.append(n);
  }
  if (role === "assistant" && index !== undefined) div.append(insertButton(index));
  log.append(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function insertButton(index) {
  const b = document.createElement("button");
  b.className = "insert";
  b.textContent = "Insert into report";
  b.title = "Append this answer to the image's report as an AI draft";
  b.addEventListener("click", () => vscode.postMessage({ type: "insert", index }));
  return b;
}

function render(m) {
  log.replaceChildren();
  $("subject").textContent = m.image ? `About: ${m.image}` : "Open a radiograph or its report to chat about it.";
  $("subject").title = m.image ?? ""; // the whole name when it is cut
  m.history.forEach((h, i) => entry(h.role, h.text, i, h.interrupted ? "(interrupted)" : undefined));
  setBusy(false);
  input.disabled = !m.image;
  $("send").disabled = !m.image;
}

function setBusy(busy) {
  $("stop").hidden = !busy;
  $("send").hidden = busy;
  document.body.dataset.busy = String(busy);
}

function send() {
  const text = input.value.trim();
  if (!text || streaming) return;
  vscode.postMessage({ type: "ask", text });
  input.value = "";
}

$("send").addEventListener("click", send);
$("stop").addEventListener("click", () => vscode.postMessage({ type: "stop" }));
$("clear").addEventListener("click", () => vscode.postMessage({ type: "clear" }));
input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    send();
  }
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && streaming) vscode.postMessage({ type: "stop" });
});

window.addEventListener("message", (e) => {
  const m = e.data;
  if (!m || typeof m.type !== "string") return;
  if (m.type === "state" && Array.isArray(m.history)) {
    streaming = undefined;
    render(m);
  } else if (m.type === "question" && typeof m.text === "string") {
    entry("user", m.text);
  } else if (m.type === "answerStart") {
    streaming = entry("assistant", "");
    streaming.setAttribute("aria-busy", "true");
    setBusy(true);
  } else if (m.type === "token" && typeof m.text === "string" && streaming) {
    const t = streaming.querySelector(".text");
    t.textContent = m.replace === true ? m.text : t.textContent + m.text;
    t.classList.toggle("provisional", m.provisional === true);
    streaming.scrollIntoView({ block: "end" });
  } else if (m.type === "answerEnd" && streaming) {
    streaming.removeAttribute("aria-busy");
    streaming.querySelector(".text").classList.remove("provisional");
    if (m.interrupted) {
      const n = document.createElement("div");
      n.className = "note";
      n.textContent = `(interrupted${typeof m.reason === "string" ? `: ${m.reason}` : ""})`;
      streaming.append(n);
    }
    if (Number.isInteger(m.index)) streaming.append(insertButton(m.index));
    streaming = undefined;
    setBusy(false);
    input.focus();
  } else if (m.type === "error" && typeof m.message === "string") {
    $("status").textContent = m.message;
  }
});
vscode.postMessage({ type: "ready" });
