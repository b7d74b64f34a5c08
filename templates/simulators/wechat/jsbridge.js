// The local WeChat's WeixinJSBridge, standing in for the one WeChat's app puts on every page.
// Only getBrandWCPayRequest is played: a payment sheet over the page, then the callback.
(function () {
  "use strict";
  if (window.WeixinJSBridge) return;
  const PREPARE = "{{ prepare_url|escapejs }}";
  const PAY = "{{ pay_url|escapejs }}";
  const REQUEST = "get_brand_wcpay_request";

  const post = (url, params) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(params),
    }).then((reply) => reply.json());

  const element = (tag, text, style) => {
    const node = document.createElement(tag);
    if (text) node.textContent = text;
    Object.assign(node.style, style || {});
    return node;
  };

  function paymentSheet(order, onPay, onCancel) {
    const shade = element("div", "", {
      position: "fixed", inset: "0", background: "rgba(0,0,0,.45)", display: "flex",
      alignItems: "flex-end", justifyContent: "center", zIndex: "2147483647",
    });
    const sheet = element("div", "", {
      background: "#fff", width: "100%", maxWidth: "430px", borderRadius: "14px 14px 0 0",
      padding: "1.2rem", font: "15px/1.5 -apple-system, 'PingFang SC', sans-serif", textAlign: "center",
    });
    sheet.append(
      element("div", "微信支付 WeChat Pay (local simulator)", { color: "#07c160", fontWeight: "600" }),
      element("div", order.body, { color: "#667085", margin: ".4rem 0" }),
      element("div", "¥" + order.amount, { fontSize: "2rem", fontWeight: "700", margin: ".4rem 0 1rem" }),
    );
    const button = (label, colours, action) => {
      const node = element("button", label, Object.assign({
        display: "block", width: "100%", border: "0", borderRadius: "10px", padding: ".75rem",
        margin: ".4rem 0", font: "inherit", fontWeight: "600", cursor: "pointer",
      }, colours));
      node.type = "button";
      node.addEventListener("click", () => { shade.remove(); action(); });
      return node;
    };
    sheet.append(
      button("确认支付 Pay", { background: "#07c160", color: "#fff" }, onPay),
      button("取消 Cancel", { background: "#f2f4f7", color: "#1d2433" }, onCancel),
    );
    shade.append(sheet);
    document.body.append(shade);
  }

  window.WeixinJSBridge = {
    invoke(name, params, callback) {
      const done = (reply) => { if (typeof callback === "function") callback(reply); };
      if (name !== "getBrandWCPayRequest") { done({ err_msg: name + ":fail" }); return; }
      const failed = () => done({ err_msg: REQUEST + ":fail" });
      post(PREPARE, params).then((order) => {
        if (order.err_msg) { done(order); return; }
        paymentSheet(
          order,
          () => post(PAY, params).then(done, failed),
          () => done({ err_msg: REQUEST + ":cancel" }),
        );
      }, failed);
    },
  };
  // WeChat announces its bridge with this event once the page may use it.
  setTimeout(() => document.dispatchEvent(new Event("WeixinJSBridgeReady")), 0);
})();
