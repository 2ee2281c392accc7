// Progressive enhancement for the member portal: every page works without this file.
// With it, coupon codes and invitation links get a working "Copy" button (and "Share" where the device can share),
// and a confirmation form cannot be sent twice by a double click.
(function () {
  "use strict";

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) {
      return; // no clipboard access (e.g. not https): the code stays selectable text
    }
    var status = document.getElementById(button.dataset.status);
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () {
        status.textContent = button.dataset.done;
      });
    });
  });

  // The device's own share sheet (phones), for an invitation link.
  document.querySelectorAll("button[data-share]").forEach(function (button) {
    if (!navigator.share) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.share({ title: button.dataset.title, url: button.dataset.share }).catch(function () {});
    });
  });

  // A read-only field to copy by hand: one tap selects all of it.
  document.querySelectorAll("input[data-select]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // An installable app: the service worker keeps the home page and the card readable offline.
  var worker = document.querySelector('meta[name="punchcard-worker"]');
  if ("serviceWorker" in navigator && worker) {
    navigator.serviceWorker.register(worker.content, { scope: worker.dataset.scope }).catch(function () {});
  }
  var offline = document.querySelector("[data-offline]");
  if (offline) {
    var show = function () { offline.hidden = navigator.onLine; };
    window.addEventListener("online", show);
    window.addEventListener("offline", show);
    show();
  }
  // Signing out forgets what was kept for offline reading, on this device.
  document.querySelectorAll("form.sign-out").forEach(function (form) {
    form.addEventListener("submit", function () {
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage("forget");
      }
      if (window.caches) {
        caches.keys().then(function (names) {
          names.filter(function (name) { return name.indexOf("punchcard-portal:") === 0; }).forEach(function (name) { caches.delete(name); });
        });
      }
    });
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (submit) {
        submit.disabled = true;
      });
    });
  });
})();
