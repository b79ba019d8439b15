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

  // The header's menu folds behind a button on narrow screens (CSS decides when; the page
  // marks the header so the fold only happens when this script runs).
  var header = document.querySelector(".site-header");
  var toggle = header && header.querySelector(".menu-toggle");
  if (toggle) {
    header.classList.add("js-menu");
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("open", open);
    });
  }
});
