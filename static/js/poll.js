// Polls the order status while the learner waits; counts down to the order's expiry.
(function () {
  const box = document.querySelector("[data-poll]");
  if (box) {
    const statusLine = box.querySelector("[data-poll-status]");
    const done = box.querySelector("[data-poll-done]");
    let tries = 0;
    const poll = async () => {
      tries += 1;
      try {
        const reply = await fetch(box.dataset.poll, { headers: { Accept: "application/json" } });
        const order = await reply.json();
        if (order.paid) {
          if (box.dataset.done) { window.location = box.dataset.done; return; }
          if (statusLine) statusLine.textContent = "Payment confirmed.";
          if (done) done.hidden = false;
          return;
        }
        if (order.status === "closed") {
          if (statusLine) statusLine.textContent = "This order was closed without payment.";
          return;
        }
      } catch (err) { /* a network blip: keep polling */ }
      setTimeout(poll, tries < 20 ? 2000 : 5000);
    };
    setTimeout(poll, 1500);
  }
  const countdown = document.querySelector(".countdown[data-expires]");
  if (countdown) {
    const expires = new Date(countdown.dataset.expires).getTime();
    const tick = () => {
      const left = Math.max(0, Math.floor((expires - Date.now()) / 1000));
      countdown.textContent = String(Math.floor(left / 60)).padStart(2, "0") + ":" + String(left % 60).padStart(2, "0");
      if (left > 0) setTimeout(tick, 1000);
    };
    tick();
  }
})();
