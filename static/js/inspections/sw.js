// The phone flow's service worker (served at /m/inspections/sw.js): keeps the page and its scripts
// in a cache, so a visit opened online still opens in a dead spot. Network first, the cache when the
// network fails. The writes themselves wait in the page's IndexedDB queue (queue.js).
const CACHE = "inspections-v1";

self.addEventListener("install", (event) => { self.skipWaiting(); });
self.addEventListener("activate", (event) => { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") { return; }
  event.respondWith(
    fetch(req).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(req, copy));
      }
      return response;
    }).catch(() => caches.match(req).then((hit) => hit || Response.error()))
  );
});
