// Progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";

  // Print buttons.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });

  // A submit form sends once: the server is idempotent too, this only avoids a confusing wait.
  document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    });
  });

  // Autosave drafts every 20 seconds when something changed (files are sent only on Save).
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = form.querySelector(".autosave-status");
  var dirty = false;
  form.addEventListener("input", function () { dirty = true; });
  form.addEventListener("change", function () { dirty = true; });
  form.addEventListener("submit", function () { dirty = false; });
  function save() {
    if (!dirty) { return; }
    dirty = false;
    var data = new FormData(form);
    Array.from(data.keys()).forEach(function (key) {
      if (data.get(key) instanceof File) { data.delete(key); }
    });
    data.set("autosave", "1");
    fetch(form.dataset.autosave, { method: "POST", body: data, credentials: "same-origin",
                                   headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function () {
        if (status) {
          var time = new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
          status.textContent = (document.documentElement.lang === "es" ? "Borrador guardado a las " : "Draft saved at ") + time;
        }
      })
      .catch(function () {
        dirty = true;
        if (status) {
          status.textContent = document.documentElement.lang === "es"
            ? "No se pudo guardar automáticamente. Use «Guardar borrador»."
            : "Could not save automatically. Use “Save draft”.";
        }
      });
  }
  window.setInterval(save, 20000);
})();
