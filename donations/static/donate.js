// The donate form, made easier with a script; it works the same without one.
// - Typing under "Other amount" selects Other; choosing a suggested amount empties it.
// - What will be charged (the gift, the card fee, the total) is shown as the donor
//   chooses, worked out by the server with the fee rule it charges by, in the page's language.
// - After a failed submit, the list of problems takes the focus.
(function () {
  "use strict";

  function ready(run) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", run);
    } else {
      run();
    }
  }

  ready(function () {
    var summary = document.getElementById("error-summary");
    if (summary && document.activeElement !== summary) {
      summary.focus();
    }

    var form = document.getElementById("donate-form");
    if (!form) {
      return;
    }
    var other = form.querySelector("#other_amount");
    var otherChoice = form.querySelector('input[name="amount_choice"][value="other"]');
    var presets = form.querySelectorAll('input[name="amount_choice"]:not([value="other"])');
    var output = document.getElementById("charge-summary");
    var url = form.getAttribute("data-charge-url");
    var timer = null;
    var asked = 0;

    function chooseOther() {
      if (otherChoice && !otherChoice.checked) {
        otherChoice.checked = true;
      }
    }

    function query() {
      var params = new URLSearchParams();
      ["amount_choice", "other_amount", "frequency", "cover_fee"].forEach(function (name) {
        var field = form.elements[name];
        if (!field) {
          return;
        }
        if (field.type === "checkbox") {
          if (field.checked) {
            params.set(name, field.value);
          }
        } else if (field.value !== undefined) {
          params.set(name, field.value);
        }
      });
      return params.toString();
    }

    function show(text) {
      output.textContent = text;
      output.hidden = !text;
    }

    function refresh() {
      if (!output || !url) {
        return;
      }
      var mine = ++asked;
      fetch(url + "?" + query(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.ok ? response.json() : { text: "" };
        })
        .then(function (body) {
          if (mine === asked) {
            show(body.text || "");
          }
        })
        .catch(function () {
          // Offline or refused: the server shows the amounts again on submit.
        });
    }

    function soon() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 200);
    }

    if (other) {
      other.addEventListener("focus", chooseOther);
      other.addEventListener("input", function () {
        if (other.value.trim()) {
          chooseOther();
        }
        soon();
      });
    }
    presets.forEach(function (preset) {
      preset.addEventListener("change", function () {
        if (preset.checked && other) {
          other.value = "";
        }
      });
    });
    form.addEventListener("change", soon);
  });
})();
