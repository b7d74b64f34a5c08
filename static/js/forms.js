// Behaviour our forms ask for with data attributes, so that no page needs an inline script
// (the Content-Security-Policy allows scripts from our origin only).
(function () {
  // A gateway's payment form submits itself, as the gateway's own page would.
  const autosubmit = document.querySelector("[data-autosubmit] form");
  if (autosubmit) autosubmit.submit();
  // Forms that undo something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();
