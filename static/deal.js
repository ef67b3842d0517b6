// The sale form (templates/sales/sell.html): the gross profit, and the
// safeguards' warnings, as the price is typed. Progressive enhancement: the
// server draws the same figures for the price it last saw and enforces the
// rules (a price below cost is recorded only once confirmed); this only
// keeps them current between sends.
(function () {
  "use strict";
  var form = document.querySelector("form[data-cost-cents]");
  if (!form) return;
  var price = form.querySelector("#sale_price");
  var gross = document.getElementById("deal-gross");
  var below = document.getElementById("deal-below");
  var belowAmount = document.getElementById("deal-below-amount");
  var under = document.getElementById("deal-under");
  var underPercent = document.getElementById("deal-under-percent");
  if (!price || !gross || !below || !belowAmount || !under || !underPercent) return;
  var cost = parseInt(form.getAttribute("data-cost-cents"), 10);
  var list = parseInt(form.getAttribute("data-list-cents"), 10);
  var far = parseInt(form.getAttribute("data-far-under-list"), 10);

  // An amount as the server reads one (domain::money::Money::parse):
  // "$", commas, spaces and underscores ignored, at most two decimals.
  // Null for anything else.
  function cents(text) {
    var s = text.trim().replace(/^\$+/, "").replace(/[, _]/g, "");
    var m = /^(\d{0,12})(?:\.(\d{0,2}))?$/.exec(s);
    if (!m || (m[1] === "" && (m[2] === undefined || m[2] === ""))) return null;
    var whole = m[1] === "" ? 0 : parseInt(m[1], 10);
    var frac = m[2] === undefined ? "" : m[2];
    var c = whole * 100 + (frac === "" ? 0 : parseInt((frac + "0").slice(0, 2), 10));
    return c > 10000000000 ? null : c;
  }

  // As the server shows money, in the dealership's currency: the page
  // shows 1,234.56 the server's way ("$1,234.56", "1,234.56 €"), and the
  // symbol goes where it put it (and -$1,000.00).
  var sample = form.dataset.moneySample || "1,234.56";
  var at = sample.indexOf("1,234.56");
  var before = at < 0 ? "" : sample.slice(0, at);
  var after = at < 0 ? "" : sample.slice(at + "1,234.56".length);
  function money(c) {
    var sign = c < 0 ? "-" : "";
    var abs = Math.abs(c);
    var whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var rest = String(abs % 100);
    return sign + before + whole + "." + (rest.length < 2 ? "0" + rest : rest) + after;
  }

  function show() {
    var c = cents(price.value);
    if (c === null) {
      gross.textContent = "—";
      gross.classList.remove("loss");
      below.hidden = true;
      under.hidden = true;
      return;
    }
    gross.textContent = money(c - cost);
    gross.classList.toggle("loss", c < cost);
    below.hidden = !(c < cost);
    belowAmount.textContent = money(cost - c);
    var farUnder = list > 0 && (list - c) * 100 > far * list;
    under.hidden = !farUnder;
    underPercent.textContent = String(Math.floor(((list - c) * 100) / list));
  }

  price.addEventListener("input", show);
  show();
})();
