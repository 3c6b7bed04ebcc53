// A classic script, run before the page's modules: where they cannot start it says so on
// the page, in one plain sentence, instead of leaving it silent. Opened from disk
// (file://), a browser forbids the page its modules, its model and its runtime.
(function () {
  "use strict";

  function notice(text) {
    var element = document.getElementById("start-notice");
    element.textContent = text;
    element.hidden = false;
    document.body.dataset.state = "error";
    document.getElementById("status").textContent = text;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (location.protocol === "file:") {
      var folder = decodeURIComponent(location.pathname).replace(/\/[^/]*$/, "") || ".";
      if (/^\/[A-Za-z]:\//.test(folder)) folder = folder.slice(1); // Windows: C:/...
      notice("Opened from disk, this page cannot load its model (the browser forbids it): " +
        "in a terminal, run  cellseg serve " + folder + "  and open the address it prints " +
        "(http://127.0.0.1:8000/).");
    }
  });

  window.addEventListener("load", function () {
    if (location.protocol !== "file:" && !document.body.dataset.app) {
      notice("This page's scripts did not start in this browser: open it in a current " +
        "Chrome, Edge, Firefox or Safari, served by  cellseg serve FOLDER.");
    }
  });
})();
