// Notifications on this device (Web Push), for a signed-in member: the profile page's switch, and forgetting this
// device when the member signs out, so that a shared device does not go on showing their notifications.
// Every page works without this file, and the switch shows only where the browser can take push notifications.
(function () {
  "use strict";

  var worker = document.querySelector('meta[name="punchcard-worker"]');
  if (!worker || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return;
  }
  var scope = worker.dataset.scope;
  var subscriptions = scope + "/push/subscriptions";

  // The device's subscription to this portal's notifications, or null.
  function current() {
    return navigator.serviceWorker.getRegistration(scope).then(function (found) {
      return found ? found.pushManager.getSubscription() : null;
    });
  }

  function send(method, subscription, token) {
    return fetch(subscriptions, {
      method: method,
      credentials: "same-origin",
      keepalive: method === "DELETE",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(subscription.toJSON())
    }).then(function (response) {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response;
    });
  }

  // The server's key (base64url) as the bytes PushManager.subscribe wants.
  function bytes(text) {
    var raw = atob((text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/"));
    var found = new Uint8Array(raw.length);
    for (var index = 0; index < raw.length; index += 1) {
      found[index] = raw.charCodeAt(index);
    }
    return found;
  }

  var section = document.getElementById("push");
  if (section) {
    var toggle = document.getElementById("push-toggle");
    var status = document.getElementById("push-status");
    var say = function (name) { status.textContent = section.dataset[name]; };

    var turnOn = function () {
      return Notification.requestPermission().then(function (permission) {
        if (permission !== "granted") {
          throw new Error("blocked");
        }
        var key = fetch(section.dataset.key, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        });
        return Promise.all([navigator.serviceWorker.ready, key]);
      }).then(function (both) {
        return both[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(both[1].public_key) });
      }).then(function (subscription) {
        // Kept by the server, or not on at all: a device must never look on while nothing is sent to it.
        return send("POST", subscription, section.dataset.csrf).then(function () { return true; }, function (error) {
          return subscription.unsubscribe().then(function () { throw error; });
        });
      });
    };

    var turnOff = function () {
      return current().then(function (subscription) {
        if (!subscription) {
          return false;
        }
        // Unsubscribed here even if the server cannot be told now: its next push then hears 410 Gone.
        return send("DELETE", subscription, section.dataset.csrf).catch(function () {}).then(function () {
          return subscription.unsubscribe();
        }).then(function () { return false; });
      });
    };

    section.hidden = false;
    current().then(function (subscription) {
      toggle.checked = Boolean(subscription) && Notification.permission === "granted";
      if (Notification.permission === "denied") {
        say("blocked");
      } else if (subscription) {
        say("on");
        send("POST", subscription, section.dataset.csrf).catch(function () {}); // the server keeps its current keys
      }
    });
    toggle.addEventListener("change", function () {
      var wanted = toggle.checked;
      toggle.disabled = true;
      say("working");
      (wanted ? turnOn() : turnOff()).then(function (on) {
        toggle.checked = on;
        say(on ? "on" : "off");
      }, function (error) {
        toggle.checked = !wanted;
        say(error && error.message === "blocked" ? "blocked" : "failed");
      }).then(function () {
        toggle.disabled = false;
      });
    });
  }

  // Signing out forgets this device first (at most two seconds: signing out never waits on a push service).
  document.querySelectorAll('form[action$="/sign-out"]').forEach(function (form) {
    var left = false;
    form.addEventListener("submit", function (event) {
      if (left) {
        return;
      }
      event.preventDefault();
      var token = form.querySelector('input[name="csrf"]').value;
      var leave = function () {
        if (!left) {
          left = true;
          form.submit();
        }
      };
      setTimeout(leave, 2000);
      current().then(function (subscription) {
        if (subscription) {
          return send("DELETE", subscription, token).catch(function () {}).then(function () {
            return subscription.unsubscribe();
          });
        }
        return null;
      }).catch(function () {}).then(leave);
    });
  });
})();
