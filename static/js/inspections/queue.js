// The offline queue of the phone flow: every write (finding, photo, completion) is first stored in
// IndexedDB with its client-generated id, then sent in order. A network failure leaves it queued; the
// queue is sent again when the browser comes back online (and on every page load). The server is
// idempotent by the client id, so a write sent twice (the answer lost on the way back) creates nothing
// twice. 4xx answers are final (the write is dropped and reported); 5xx and network errors retry.
// A photo is queued as the file itself (IndexedDB keeps Blobs) and sent as multipart form data, so the
// server stores the picture as taken, not a base64 copy.
const DB = "inspections-offline";
const STORE = "outbox";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const out = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(out && out.result !== undefined ? out.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

export function clientId(prefix) {
  return prefix + "-" + (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random().toString(16).slice(2));
}

export async function enqueue(url, body, file) {
  const db = await open();
  const item = { url, body, at: Date.now() };
  if (file) { item.file = file; item.fileName = file.name || "photo"; }
  await tx(db, "readwrite", (s) => s.add(item));
}

function request(item, csrf) {
  if (!item.file) {
    return { method: "POST", credentials: "same-origin",
             headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(item.body) };
  }
  const form = new FormData();
  for (const [k, v] of Object.entries(item.body)) { form.append(k, v); }
  form.append("image", item.file, item.fileName);
  return { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf }, body: form };
}

export async function pending() {
  const db = await open();
  return tx(db, "readonly", (s) => s.count());
}

let flushing = null;

export function flush(csrf, onResult) {
  if (!flushing) {
    flushing = doFlush(csrf, onResult).finally(() => { flushing = null; });
  }
  return flushing;
}

async function doFlush(csrf, onResult) {
  const db = await open();
  const items = await tx(db, "readonly", (s) => s.getAll());
  for (const item of items) {
    let response;
    try {
      response = await fetch(item.url, request(item, csrf));
    } catch (e) {
      return false; // offline again: keep the rest, in order
    }
    if (response.status >= 500) { return false; }
    await tx(db, "readwrite", (s) => s.delete(item.seq));
    if (onResult) { onResult(item, response); }
  }
  return true;
}
