// The officer's visit on the phone (/m/inspections/): today's visits in route order; a visit shows its
// merged checklist; each item is recorded pass / fail / not applicable with a note, photos and, when
// failed, on-the-spot or deadline rectification; the representative signs on the canvas (sent as a
// PNG) or refuses. Every write goes through the IndexedDB queue (queue.js), so a visit opened online
// keeps working in a dead spot; the service worker (sw.js) keeps the page itself available offline.
import { clientId, enqueue, flush, pending } from "./queue.js";

const config = JSON.parse(document.getElementById("inspections-config").textContent);
const T = config.text;
const csrf = document.getElementById("csrf").value;
const net = document.getElementById("net");
let current = null;

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(config.swUrl, { scope: config.scope }).catch(() => {});
}

async function showState() {
  const n = await pending();
  net.textContent = (navigator.onLine ? T.online : T.offline) + (n ? " · " + T.pending + " " + n : " · " + T.allSent);
  net.dataset.pending = String(n);
}

async function send() {
  await flush(csrf, () => {});
  await showState();
}

window.addEventListener("online", send);
window.addEventListener("offline", showState);

async function openVisit(id) {
  const cacheKey = "inspection-items-" + id;
  let items;
  try {
    const r = await fetch(config.visitsUrl + id + "/items/", { credentials: "same-origin" });
    if (!r.ok) { throw new Error(String(r.status)); }
    items = await r.json();
    localStorage.setItem(cacheKey, JSON.stringify(items));
  } catch (e) {
    items = JSON.parse(localStorage.getItem(cacheKey) || "null");
    if (!items) { net.textContent = T.failed; return; }
  }
  current = { id, base: config.visitsUrl + id + "/" };
  document.getElementById("list").hidden = true;
  document.getElementById("visit").hidden = false;
  const button = document.querySelector('[data-open="' + id + '"]');
  document.getElementById("visit-title").textContent = button ? button.textContent : "";
  const form = document.getElementById("items");
  form.replaceChildren();
  const tpl = document.getElementById("item-tpl");
  items.forEach((item, n) => {
    const node = tpl.content.firstElementChild.cloneNode(true);
    node.dataset.item = item.code;
    node.querySelector("legend").textContent = (n + 1) + ". [" + item.department_name + "] " + item.text;
    node.querySelectorAll('input[type="radio"]').forEach((r) => { r.name = "r-" + item.code; });
    node.addEventListener("change", (e) => {
      if (e.target.type === "radio") {
        node.querySelector(".rect").hidden = e.target.value !== "fail";
      }
    });
    node.querySelector(".save").addEventListener("click", () => saveItem(node));
    form.appendChild(node);
  });
  document.getElementById("visit").scrollIntoView();
}

async function saveItem(node) {
  const state = node.querySelector(".state");
  const checked = node.querySelector('input[type="radio"]:checked');
  if (!checked) { state.textContent = T.chooseResult; return; }
  const findingId = node.dataset.clientId || clientId("f");
  node.dataset.clientId = findingId;
  const body = { client_id: findingId, item: node.dataset.item, result: checked.value,
                 note: node.querySelector("textarea").value };
  if (checked.value === "fail") { body.rectification = node.querySelector("select").value; }
  await enqueue(current.base + "findings/", body);
  for (const file of node.querySelector('input[type="file"]').files) {
    await enqueue(current.base + "photos/", { client_id: clientId("p"), finding: findingId }, file);
  }
  node.querySelector(".save").disabled = true;
  state.textContent = navigator.onLine ? T.saved : T.queued;
  await send();
}

// The signature: drawn with a finger (pointer events), kept as a PNG data URL.
const canvas = document.getElementById("sig");
const ctx = canvas.getContext("2d");
let drawing = false;
let signed = false;
ctx.lineWidth = 2;
ctx.strokeStyle = "#000";
function at(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
}
canvas.addEventListener("pointerdown", (e) => { drawing = true; ctx.beginPath(); ctx.moveTo(...at(e)); });
canvas.addEventListener("pointermove", (e) => { if (drawing) { ctx.lineTo(...at(e)); ctx.stroke(); signed = true; } });
window.addEventListener("pointerup", () => { drawing = false; });
document.getElementById("sig-clear").addEventListener("click", () => {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  signed = false;
});

document.getElementById("complete").addEventListener("click", async () => {
  const refused = document.getElementById("refused").checked;
  const name = document.getElementById("rep-name").value.trim();
  if (!refused && (!name || !signed)) { net.textContent = T.needSignature; return; }
  const body = { client_id: clientId("c"), refused, representative_name: refused ? name : name };
  if (!refused) { body.signature = canvas.toDataURL("image/png"); }
  await enqueue(current.base + "complete/", body);
  document.getElementById("complete").disabled = true;
  net.textContent = T.completed;
  await send();
});

document.getElementById("back").addEventListener("click", () => {
  document.getElementById("visit").hidden = true;
  document.getElementById("list").hidden = false;
});
document.querySelectorAll("[data-open]").forEach((b) => b.addEventListener("click", () => openVisit(b.dataset.open)));
send();
