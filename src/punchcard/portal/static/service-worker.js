// The portal's service worker: the member's home page and card stay readable offline.
// Pages come from the network whenever it answers (so they are never stale online); the home page and the card are
// kept as they were last seen, and shown from the cache only when the network fails. Nothing else is kept, and
// signing out clears what was (the page posts "forget" before it signs out).
"use strict";

const SCOPE = "__SCOPE__";
const CACHE = "punchcard-portal:" + SCOPE;
const KEPT = [SCOPE, SCOPE + "/", SCOPE + "/card"];

function kept(url) {
  const path = new URL(url).pathname;
  return KEPT.includes(path) || path.startsWith("__ASSETS__/");
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  if (event.data === "forget") {
    event.waitUntil(caches.delete(CACHE));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !kept(request.url)) {
    return;
  }
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request.url.split("?")[0], copy));
        }
        return response;
      })
      .catch(() => caches.match(request.url.split("?")[0]).then((found) => found || Response.error()))
  );
});
