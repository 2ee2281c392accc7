// The portal's service worker: the member's home page and card stay readable offline, and the member's
// notifications show on this device.
// Pages come from the network whenever it answers (so they are never stale online); the home page and the card are
// kept as they were last seen, and shown from the cache only when the network fails. Nothing else is kept, and
// signing out clears what was (the page posts "forget" before it signs out).
// A push carries {title, body, url, tag, lang} (docs/push.md); the tag names the mail, so a push sent again replaces
// its notification instead of showing a second one, and a tap opens the portal, only ever a page of this portal.
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

// Where a notification may lead: a page of this portal, else the portal's home page.
function inScope(address) {
  try {
    const url = new URL(address, self.location.origin);
    if (url.origin === self.location.origin && (url.pathname === SCOPE || url.pathname.startsWith(SCOPE + "/"))) {
      return url.href;
    }
  } catch (error) {
    // not a URL: the home page
  }
  return new URL(SCOPE, self.location.origin).href;
}

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {}; // a push always shows something (userVisibleOnly), even one we cannot read
  }
  event.waitUntil(
    self.registration.showNotification(message.title || "", {
      body: message.body || "",
      icon: "__ASSETS__/icon-192.png",
      tag: message.tag || "",
      lang: message.lang || "",
      data: { url: inScope(message.url || SCOPE) },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = inScope((event.notification.data && event.notification.data.url) || SCOPE);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => {
        const path = new URL(client.url).pathname;
        return (path === SCOPE || path.startsWith(SCOPE + "/")) && "focus" in client;
      });
      if (!open) {
        return self.clients.openWindow(target);
      }
      return open
        .focus()
        .then((focused) => focused.navigate(target))
        .catch(() => self.clients.openWindow(target));
    })
  );
});
