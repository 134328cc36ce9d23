/* geoservice map page, addresses (地址) in the names mode: parse an address into its parts, locate it
   (/geocode) and show the candidates on the map; an officer's spreadsheet of addresses standardised in the
   background (/addresses/batch), polled, and its result downloaded. */
(function () {
  "use strict";
  var g = window.geoservice, $ = function (id) { return document.getElementById(id); };
  var esc = g.esc, box = g.resultBox("address-result"), batchBox = g.resultBox("batch-result");
  var LEVELS = { province: "省 province", city: "市 city", county: "区县 county", township: "乡镇街道 township", village: "村社区 village",
    road: "道路 road", number: "门牌号 number", building: "建筑 building", poi: "地点 place", detail: "其余 rest" };
  var PRECISION = { door: "门牌 door", road: "道路 road", village: "村社区 village", township: "乡镇 township", county: "区县 county" };

  function partsTable(components) {
    return "<table>" + Object.keys(components || {}).map(function (k) {
      var v = components[k], text = v && typeof v === "object" ? esc(v.name) + (v.code ? " <span class='en'>" + esc(v.code) + "</span>" : "") : esc(v);
      return "<tr><th>" + esc(LEVELS[k] || k) + "</th><td>" + text + "</td></tr>";
    }).join("") + "</table>";
  }
  function ambiguityText(list) {
    if (!list || !list.length) return "";
    return "<div class='issue warning'>有歧义 / ambiguous: " + list.map(function (a) { return esc(a.text || a.name || JSON.stringify(a)); }).join("; ") + "</div>";
  }
  $("address-parse").addEventListener("click", function () {
    box.clear();
    if (!$("address-q").value.trim()) { $("address-q").reportValidity(); return; }
    g.api("/addresses/parse?notes=true", { method: "POST", json: { text: $("address-q").value } }).then(function (res) {
      box.html(partsTable(res.components) + ambiguityText(res.ambiguities) +
        (res.unresolved ? "<p class='hint'>未识别 / not recognised: " + esc(res.unresolved) + "</p>" : ""));
    }).catch(box.fail);
  });
  $("address-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); box.clear(); g.resultLayer.clearLayers();
    g.api("/geocode?limit=5&q=" + encodeURIComponent($("address-q").value)).then(function (res) {
      if (!res.candidates.length) { box.html("<div class='issue'>未找到 / not found</div>" + partsTable(res.components) + ambiguityText(res.ambiguities)); return; }
      var group = L.featureGroup().addTo(g.resultLayer);
      var items = res.candidates.map(function (c, n) {
        L.circleMarker([c.lat, c.lon], { radius: n ? 7 : 10, color: n ? "#555" : "#e6550d", weight: 3, className: "address-hit" })
          .bindTooltip(esc(c.address)).addTo(group);
        return "<li data-n='" + n + "'><b>" + esc(c.address) + "</b> <span class='en'>" + esc(PRECISION[c.precision] || c.precision) + " · " + (100 * c.score).toFixed(0) + "%</span></li>";
      });
      box.html("<ol class='hits' id='address-hits'>" + items.join("") + "</ol>" + ambiguityText(res.ambiguities));
      $("address-hits").querySelectorAll("li").forEach(function (li) {
        li.addEventListener("click", function () { var c = res.candidates[+li.dataset.n]; g.showPoint([c.lat, c.lon], 17); });
      });
      g.fit(group.getBounds(), { maxZoom: 17, padding: [40, 40] });
      g.map.getContainer().dataset.geocoded = String(res.candidates.length);
    }).catch(box.fail);
  });

  // -- batch: upload, poll, download ------------------------------------------------------------------------
  $("batch-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); batchBox.clear();
    var form = new FormData();
    form.append("file", $("batch-file").files[0]);
    form.append("column", $("batch-column").value || "地址");
    form.append("format", "xlsx");
    g.api("/addresses/batch", { method: "POST", body: form }).then(function (job) { pollBatch(job.id); }).catch(batchBox.fail);
  });
  function pollBatch(id) {
    g.api("/addresses/batch/" + encodeURIComponent(id)).then(function (job) {
      if (job.status === "running") {
        batchBox.html("<progress max='1' value='" + job.progress + "'></progress> " + job.done + " / " + job.total);
        setTimeout(function () { pollBatch(id); }, 1000); return;
      }
      if (job.status === "failed") { batchBox.fail(new Error(job.error || "failed")); return; }
      var counts = job.counts ? Object.keys(job.counts).map(function (k) { return esc(k) + " " + esc(job.counts[k]); }).join(" · ") : "";
      batchBox.html("<div class='ok'>完成 / done: " + job.total + " 行 rows<br>" + counts + "</div>" +
        "<div class='row'><button type='button' id='batch-rows'>下载结果 Download</button><button type='button' id='batch-review'>待复核 Review (CSV)</button></div>");
      $("batch-rows").addEventListener("click", function () { g.download("/addresses/batch/" + id + "/result", "addresses-" + id + ".xlsx").catch(batchBox.fail); });
      $("batch-review").addEventListener("click", function () { g.download("/addresses/batch/" + id + "/result?part=review", "review-" + id + ".csv").catch(batchBox.fail); });
    }).catch(batchBox.fail);
  }
})();
