// Refreshes a running send's counts on the admin page (same-origin JSON, no reload).
(function () {
  "use strict";
  var panel = document.getElementById("issue-progress");
  if (!panel) { return; }
  var url = panel.getAttribute("data-url");
  var done = ["sent", "cancelled"];

  function show(name, value) {
    var element = panel.querySelector('[data-field="' + name + '"]');
    if (element) { element.textContent = value; }
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        show("queued", data.queued);
        show("sent", data.sent);
        show("failed", data.failed);
        show("rate", data.rate);
        show("eta", data.eta_seconds ? data.eta_seconds + " s" : "–");
        show("status", data.status);
        if (done.indexOf(data.status) === -1) { window.setTimeout(refresh, 2000); }
      })
      .catch(function () { window.setTimeout(refresh, 10000); });
  }

  refresh();
})();
