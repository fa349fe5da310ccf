// Donate form: keep the "cover the processing fee" estimate in step with the chosen amount.
// The page works without this script; the server computes the same figure when the form is sent.
(function () {
  "use strict";
  var form = document.getElementById("donate-form");
  if (!form) return;
  var estimate = document.getElementById("fee-estimate");
  var other = form.querySelector("input[name=other_amount]");
  var otherRadio = document.getElementById("amount-other");
  var data = form.dataset;
  var exponent = parseInt(data.exponent, 10);
  var scale = Math.pow(10, exponent);
  var basisPoints = parseInt(data.feeBasisPoints, 10);
  var fixedMinor = parseInt(data.feeFixedMinor, 10);
  var format = new Intl.NumberFormat(data.locale, { style: "currency", currency: data.currency });

  function parse(text) {
    var cleaned = (text || "").replace(/[\s\u00a0$€£¥]/g, "");
    if (/^\d+,\d{1,2}$/.test(cleaned)) cleaned = cleaned.replace(",", ".");
    else cleaned = cleaned.replace(/,/g, "");
    if (!/^\d+(\.\d+)?$/.test(cleaned)) return null;
    var minor = Math.round(parseFloat(cleaned) * scale);
    return minor > 0 ? minor : null;
  }

  function chosenMinor() {
    if (other.value.trim()) return parse(other.value);
    var checked = form.querySelector("input[name=amount]:checked");
    if (!checked || checked.value === "other") return null;
    return parse(checked.value);
  }

  function update() {
    var amount = chosenMinor();
    if (amount === null) {
      estimate.textContent = "";
      return;
    }
    // Same rule as the server: ceil((amount + fixed) / (1 - percent / 100)) in minor units.
    var denominator = 10000 - basisPoints;
    var gross = Math.floor(((amount + fixedMinor) * 10000 + denominator - 1) / denominator);
    estimate.textContent = data.feeTemplate
      .replace("{fee}", format.format((gross - amount) / scale))
      .replace("{amount}", format.format(amount / scale));
  }

  form.addEventListener("change", update);
  other.addEventListener("input", function () {
    if (other.value.trim() && otherRadio) otherRadio.checked = true;
    update();
  });
})();
