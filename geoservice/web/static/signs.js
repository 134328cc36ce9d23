/* geoservice map page, signs and clean-up mode (标志与清理): a campaign's findings on the map coloured by
   class (大/洋/怪/重, rare characters, generic misuse), its worklist and progress; the signs to replace.
   The sign layer itself (coloured by condition) is an overlay of map.js. */
(function () {
  "use strict";
  var g = window.geoservice, $ = function (id) { return document.getElementById(id); };
  var classColours = { big: "#e31a1c", foreign: "#6a3d9a", odd: "#ff7f00", duplicate: "#1f78b4", rare: "#b15928", generic: "#33a02c" };
  var classLabels = { big: "大 exaggerated", foreign: "洋 foreign", odd: "怪 odd", duplicate: "重 duplicate", rare: "生僻字 rare", generic: "通名不当 generic" };
  var statusLabels = { to_review: "待审核", keep: "保留", to_rename: "拟更名", renamed: "已更名" };
  $("class-key").innerHTML = Object.keys(classColours).map(function (c) {
    return "<li><i style='background:" + classColours[c] + "'></i>" + classLabels[c] + "</li>";
  }).join("");
  var findings = L.geoJSON(null, {
    style: function (f) { return { color: classColours[f.properties.kind] || "#777", weight: 4 }; },
    pointToLayer: function (f, ll) {
      return L.circleMarker(ll, { pane: "points", radius: 6, color: "#222", weight: 1, fillColor: classColours[f.properties.kind] || "#777", fillOpacity: 1 });
    },
    onEachFeature: function (f, l) {
      var p = f.properties;
      l.bindPopup("<b>" + g.esc(p.name) + "</b> · " + g.esc(statusLabels[p.status] || p.status) + "<br>" +
        p.findings.map(function (x) { return g.esc(x.class_label) + " " + g.esc(x.rule) + ": " + g.esc(x.message); }).join("<br>"));
    }
  }).addTo(g.map);
  g.layers.addOverlay(findings, "清理发现 Clean-up findings");

  function showCampaign(id) {
    Promise.all([g.api("/cleanup/campaigns/" + encodeURIComponent(id) + "/items"), g.api("/cleanup/campaigns/" + encodeURIComponent(id) + "/progress")])
      .then(function (res) {
        var items = res[0].items, progress = res[1].districts;
        findings.clearLayers();
        items.forEach(function (it) {
          if (it.geometry) findings.addData({ type: "Feature", id: it.id, geometry: it.geometry, properties: Object.assign({ kind: it.classes[0] }, it) });
        });
        g.map.getContainer().dataset.findings = String(items.length);
        var rows = progress.map(function (r) {
          return "<tr><td>" + g.esc(r.district_name) + "</td><td>" + r.total + "</td><td>" + r.keep + "/" + r.to_rename + "/" + r.renamed + "</td><td>" + r.percent_done + "%</td></tr>";
        }).join("");
        var list = items.slice(0, 200).map(function (it) {
          return "<li data-id='" + g.esc(it.id) + "'><i class='dot' style='background:" + (classColours[it.classes[0]] || "#777") + "'></i>" +
            g.esc(it.name) + " · " + g.esc(it.class_labels.join("/")) + " · " + g.esc(statusLabels[it.status] || it.status) + "</li>";
        }).join("");
        $("campaign-result").innerHTML = "<table><tr><th>区县 District</th><th>条目 Items</th><th>保留/拟更名/已更名</th><th>完成 Done</th></tr>" + rows + "</table>" +
          "<p><a class='button' href='/cleanup/campaigns/" + encodeURIComponent(id) + "/items?format=xlsx'>清单 XLSX</a></p><ol class='hits' id='worklist'>" + list + "</ol>";
        $("worklist").querySelectorAll("li").forEach(function (li) {
          li.addEventListener("click", function () {
            findings.eachLayer(function (l) { if (l.feature.id === li.dataset.id) { g.fit(l.getBounds ? l.getBounds() : L.latLngBounds([l.getLatLng()]), { maxZoom: 15 }); l.openPopup(); } });
          });
        });
        g.status("清理清单 / worklist: " + items.length);
      }).catch(g.fail);
  }
  $("campaign-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    g.status("正在清查 / running the campaign …");
    g.divisionCode("campaign-division").then(function (code) {
      return g.api("/cleanup/campaigns", { method: "POST", json: { division_code: code } });
    }).then(function (c) {
      $("campaign-id").value = c.id;
      showCampaign(c.id);
    }).catch(g.fail);
  });
  $("campaign-open").addEventListener("submit", function (ev) { ev.preventDefault(); showCampaign($("campaign-id").value.trim()); });
  $("replace-load").addEventListener("click", function () {
    g.api("/signs/to-replace").then(function (res) {
      $("replace-result").innerHTML = res.signs.length ? "<ol class='hits'>" + res.signs.map(function (r) {
        return "<li>" + g.esc(r.sign.chinese) + " · " + r.reasons.map(function (x) { return g.esc(x.message); }).join("; ") + "</li>";
      }).join("") + "</ol>" : "<p class='ok'>无 / none</p>";
    }).catch(g.fail);
  });
})();
