// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Show how many characters are left in long text fields.
  document.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    var max = parseInt(area.getAttribute("maxlength"), 10);
    var note = document.createElement("p");
    note.className = "hint";
    note.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", note);
    function update() {
      var left = max - area.value.length;
      note.textContent = left < 200 ? left + " tekens over" : "";
    }
    area.addEventListener("input", update);
    update();
  });
})();

// A print button where the page offers one (the intake brief); without JavaScript the browser's own print works.
(function () {
  "use strict";
  document.querySelectorAll("button.js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
