// Behaviour for every page, loaded from the platform (the Content-Security-Policy allows no
// inline script or handler). Pages work without it; it only adds conveniences.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // <button data-print> prints the page (the service guides offer it).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });
});
