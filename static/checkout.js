// caisse checkout: optional help for the page, which works without it. Polls the payment
// status and moves on when the session completes; tells an embedding page what happens;
// copies the QR payload. Loaded from caisse itself, no inline script.
(function () {
  "use strict";
  var body = document.body;
  var session = body.getAttribute("data-session");
  var embedded = body.getAttribute("data-embedded") === "1";
  var origins = (body.getAttribute("data-origins") || "").split(" ").filter(Boolean);

  function tell(event) {
    if (!embedded || window.parent === window) return;
    var message = { type: "caisse.checkout", event: event, checkout_session_id: session };
    origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  if (session) tell(body.getAttribute("data-state") === "completed" ? "completed" : "loaded");

  document.querySelectorAll("[data-cancel]").forEach(function (link) {
    link.addEventListener("click", function () { tell("cancelled"); });
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () { button.setAttribute("aria-pressed", "true"); });
    });
  });

  // Preselects the provider whose network the number typed belongs to (its prefix), until the
  // customer picks one: "05 05 05 05 05" on a Côte d'Ivoire page is MTN.
  var phone = document.getElementById("customer_phone");
  var networks = document.querySelectorAll("input[name=provider][data-networks]");
  if (phone && networks.length) {
    var picked = false;
    document.querySelectorAll("input[name=provider]").forEach(function (radio) {
      radio.addEventListener("change", function () { picked = true; });
    });
    var code = phone.getAttribute("data-calling-code");
    phone.addEventListener("input", function () {
      if (picked) return;
      var typed = phone.value.trim();
      var digits = typed.replace(/\D/g, "");
      var number = typed.charAt(0) === "+" ? "+" + digits
        : digits.indexOf("00") === 0 ? "+" + digits.slice(2)
        : code ? "+" + code + digits : "";
      networks.forEach(function (radio) {
        radio.getAttribute("data-networks").split(" ").forEach(function (prefix) {
          if (number.length > prefix.length && number.indexOf(prefix) === 0) radio.checked = true;
        });
      });
    });
  }

  // The time left to approve a mobile-money prompt, counted down from what the server said.
  document.querySelectorAll("[data-seconds-left]").forEach(function (clock) {
    var left = Number(clock.getAttribute("data-seconds-left"));
    var shown = clock.querySelector("[data-remaining]");
    if (!(left >= 0) || !shown) return;
    var end = Date.now() + left * 1000;
    function tick() {
      var secs = Math.max(0, Math.round((end - Date.now()) / 1000));
      var s = secs % 60;
      shown.textContent = Math.floor(secs / 60) + ":" + (s < 10 ? "0" : "") + s;
      if (secs > 0) setTimeout(tick, 1000);
    }
    tick();
  });

  var poll = document.querySelector("[data-poll]");
  if (!poll) return;
  var url = poll.getAttribute("data-poll");
  var started = Date.now();
  var limit = 60 * 60 * 1000;
  function check() {
    if (Date.now() - started > limit) return;
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && s.redirect_url) {
          if (s.status === "completed") tell("completed");
          // An attempt that ended while the session is open: the page again, as it was asked.
          window.location.assign(s.status === "open" ? s.redirect_url + window.location.search : s.redirect_url);
          return;
        }
        setTimeout(check, 2000);
      })
      .catch(function () { setTimeout(check, 4000); });
  }
  setTimeout(check, 2000);
})();
