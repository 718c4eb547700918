// Swap the preset amounts when the reader changes frequency or currency (same origin, no
// third-party code). Without this script the form still works: its "Update amounts" button
// asks the server for the presets of the new choice; with it, that button is not needed.
(function () {
  "use strict";
  var form = document.querySelector(".support-form");
  var data = document.getElementById("support-presets");
  var symbolsData = document.getElementById("support-symbols");
  if (!form || !data || !symbolsData) { return; }
  var presets = JSON.parse(data.textContent);
  var symbols = JSON.parse(symbolsData.textContent);
  var amounts = form.querySelector(".amounts");
  var custom = amounts.querySelector(".custom-amount");
  var update = form.querySelector(".update-amounts");
  if (update) { update.hidden = true; }

  function chosen(name) {
    var field = form.querySelector("[name=" + name + "]:checked") || form.querySelector("select[name=" + name + "]");
    return field ? field.value : "";
  }

  function render() {
    var options = (presets[chosen("frequency")] || {})[chosen("currency")] || [];
    amounts.querySelectorAll("label:not(.custom-amount)").forEach(function (label) { label.remove(); });
    options.forEach(function (option) {
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "radio";
      input.name = "amount";
      input.value = option.amount;
      input.checked = option["default"];
      label.appendChild(input);
      label.appendChild(document.createTextNode(" " + (symbols[chosen("currency")] || "") + option.amount));
      amounts.insertBefore(label, custom);
    });
  }

  custom.querySelector("input").addEventListener("input", function () {
    amounts.querySelectorAll("input[name=amount]").forEach(function (radio) { radio.checked = false; });
  });

  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (name === "frequency" || name === "currency") { render(); }
    if (name === "amount") { custom.querySelector("input").value = ""; }
  });
})();
