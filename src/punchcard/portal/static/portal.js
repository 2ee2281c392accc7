// Progressive enhancement for the member portal: every page works without this file.
// With it, coupon codes get a working "Copy" button and a confirmation form cannot be sent twice by a double click.
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

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (submit) {
        submit.disabled = true;
      });
    });
  });
})();
