// Inside WeChat: hands the signed payment parameters to WeChat's bridge (getBrandWCPayRequest).
// "ok" from WeChat is not proof of payment: the return page asks WeChat Pay before it says "paid".
(function () {
  "use strict";
  const box = document.querySelector("[data-bridge]");
  const source = document.getElementById("wechat-pay-params");
  if (!box || !source) return;
  const params = JSON.parse(source.textContent);
  const status = box.querySelector("[data-bridge-status]");
  const button = box.querySelector("[data-bridge-pay]");
  const say = (text) => { status.textContent = text; };

  const pay = () => {
    button.disabled = true;
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, (reply) => {
      button.disabled = false;
      const outcome = (reply && reply.err_msg) || "";
      if (outcome === "get_brand_wcpay_request:ok") {
        say("Paid. Confirming with WeChat Pay…");
        window.location = box.dataset.done;
      } else if (outcome === "get_brand_wcpay_request:cancel") {
        say("You cancelled. Nothing was paid: you can pay again, or choose another way to pay.");
      } else {
        const why = reply && reply.err_desc ? " (" + reply.err_desc + ")" : "";
        say("WeChat Pay could not take the payment" + why + ". You can try again, or choose another way to pay.");
      }
    });
  };

  const ready = () => {
    say("Confirm the payment in WeChat Pay.");
    button.hidden = false;
    button.addEventListener("click", pay);
    pay();
  };
  if (window.WeixinJSBridge) ready();
  else document.addEventListener("WeixinJSBridgeReady", ready, { once: true });
})();
