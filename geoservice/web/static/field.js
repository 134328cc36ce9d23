/* geoservice map page, markers mode for field teams (外业巡检): a marker's panel (number, kind, reference
   objects 方位物, installation date, elevation, the other stakes of a paired or triple marker), its history,
   and an inspection with the phone's position, typed coordinates, a point picked on the map, or "marker
   missing, no position". Inspections wait in an outbox (localStorage) while the phone is offline and are sent
   when it is back, each with its own UUID: a retry of one the server already has answers 409 and is dropped,
   so every inspection reaches the server exactly once. */
(function () {
  "use strict";
  var g = window.geoservice, $ = function (id) { return document.getElementById(id); };
  var esc = g.esc, OUTBOX = "geoservice.outbox";
  var picking = null;  // the marker whose position is being picked on the map

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));  // plain http on a LAN is no secure context
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // -- the marker panel -----------------------------------------------------------------------------------
  function stakesOf(f) {  // the markers with the same number but the kind letter (A/B, C/D/E)
    var base = String(f.properties.number || "").slice(0, -1), found = [];
    if (!base) return found;
    g.overlays.boundary_markers.eachLayer(function (l) {
      var n = String(l.feature.properties.number || "");
      if (n.slice(0, -1) === base) found.push(l.feature);
    });
    return found.sort(function (a, b) { return a.properties.number < b.properties.number ? -1 : 1; });
  }
  function referenceText(refs) {
    if (!refs || !refs.length) return "<span class='hint'>未登记 / none recorded</span>";
    return "<ul class='refs'>" + refs.map(function (r) {
      if (typeof r !== "object") return "<li>" + esc(r) + "</li>";
      var where = [r.direction || r.bearing, r.distance_m != null ? r.distance_m + " m" : null].filter(Boolean).join(" ");
      return "<li>" + esc(r.name || r.object || r.description || JSON.stringify(r)) + (where ? " <span class='en'>" + esc(where) + "</span>" : "") + "</li>";
    }).join("") + "</ul>";
  }
  function showMarker(f) {
    var p = f.properties, id = f.id;
    g.marker = f;
    if (g.phone.matches) {  // the sheet opens with the panel; the marker moves into the free part of the map
      g.setSheet(true);
      if (f.geometry) g.showPoint([f.geometry.coordinates[1], f.geometry.coordinates[0]]);
    }
    g.resultLayer.clearLayers();
    if (f.geometry) g.resultLayer.addLayer(L.geoJSON(f, { pointToLayer: function (ft, ll) { return L.circleMarker(ll, { radius: 22, color: "#17324d", weight: 3, fill: false, interactive: false }); } }));
    var stakes = stakesOf(f);
    var html = "<h2>界桩 Marker " + esc(p.number || p.code || p.name) + " <span class='en'>" + esc(p.kind_label || "") + "</span></h2>";
    if (stakes.length > 1) {
      html += "<div class='row stakes'>" + stakes.map(function (s) {
        var n = s.properties.number;
        return "<button type='button' class='stake" + (s.id === id ? " active" : "") + "' data-id='" + esc(s.id) + "'>" + esc(n.slice(-1)) + " <span class='en'>" + esc(n) + "</span></button>";
      }).join("") + "</div>";
    }
    html += "<dl id='marker-facts' class='facts'><dt>方位物 Reference objects</dt><dd id='marker-refs'>…</dd>" +
      "<dt>埋设日期 Installed</dt><dd id='marker-installed'>…</dd><dt>高程 Elevation</dt><dd id='marker-elevation'>…</dd></dl>" +
      "<h2>巡检历史 <span class='en'>Inspection history</span></h2><div id='marker-history'>…</div>";
    if (g.allowed("inspector")) {
      html += "<form id='inspect-form' class='grid'><h2>记录巡检 <span class='en'>Record inspection</span></h2>" +
        "<label>状况 Condition <select id='inspect-condition'><option value='intact'>完好 intact</option><option value='damaged'>损坏 damaged</option><option value='displaced'>移位 displaced</option><option value='missing'>丢失 missing</option></select></label>" +
        "<label>位置来源 Position <select id='inspect-source'><option value='gps'>手机定位 GPS</option><option value='typed'>输入坐标 type coordinates</option><option value='map'>在地图上点选 pick on the map</option><option value='none'>界桩丢失，无位置 marker missing, no position</option></select></label>" +
        "<div id='inspect-typed' class='row' hidden><input id='inspect-lon' inputmode='decimal' placeholder='经度 lon 114.3'><input id='inspect-lat' inputmode='decimal' placeholder='纬度 lat 30.6'></div>" +
        "<p id='inspect-picked' class='hint' hidden>点地图选位置 / tap the map where the marker stands</p>" +
        "<label>巡检组 Team <input id='inspect-team' required value='联检组'></label>" +
        "<label>备注 Notes <input id='inspect-notes'></label>" +
        "<button type='submit' id='inspect-submit'>用当前位置记录 Record with my position</button>" +
        "<div id='inspect-result' class='result' aria-live='polite'></div></form>";
    }
    $("marker-detail").innerHTML = html;
    $("marker-detail").scrollIntoView({ block: "start" });
    $("marker-detail").querySelectorAll("button.stake").forEach(function (b) {
      b.addEventListener("click", function () { stakes.forEach(function (s) { if (s.id === b.dataset.id) showMarker(s); }); });
    });
    g.api("/boundaries/markers/" + encodeURIComponent(id)).then(function (m) {
      $("marker-refs").innerHTML = referenceText(m.reference_objects);
      $("marker-installed").textContent = m.installed_on || "–";
      $("marker-elevation").textContent = m.elevation_m != null ? m.elevation_m.toFixed(1) + " m" : "–";
    }).catch(function (e) { $("marker-refs").textContent = e.message; });
    loadHistory(id);
    var form = $("inspect-form");
    if (!form) return;
    form.addEventListener("submit", function (ev) { ev.preventDefault(); recordInspection(id); });
    $("inspect-source").addEventListener("change", function () {
      var source = $("inspect-source").value;
      $("inspect-typed").hidden = source !== "typed";
      $("inspect-picked").hidden = source !== "map";
      if (source === "none") $("inspect-condition").value = "missing";
      picking = source === "map" ? id : null;
      if (picking && g.phone.matches) g.setSheet(false);
      $("inspect-submit").textContent = { gps: "用当前位置记录 Record with my position", typed: "用输入坐标记录 Record with these coordinates",
        map: "用点选位置记录 Record with the picked point", none: "记录丢失（无位置） Record missing, no position" }[source];
    });
  }
  function loadHistory(id) {
    g.api("/boundaries/markers/" + encodeURIComponent(id) + "/inspections").then(function (res) {
      var newestFirst = (res.inspections || []).slice().sort(function (a, b) { return a.inspected_at < b.inspected_at ? 1 : -1; });
      var rows = newestFirst.map(function (i) {
        return "<tr><td>" + esc(i.inspected_at.slice(0, 10)) + "</td><td><i class='dot' style='background:" + g.conditionColour(i) + "'></i>" +
          esc(i.condition_label || i.condition) + " <span class='en'>" + esc(i.condition) + "</span></td><td>" +
          (i.displacement_m != null ? i.displacement_m.toFixed(1) + " m" : "–") + "</td></tr>";
      }).join("");
      $("marker-history").innerHTML = rows ? "<table><tr><th>日期 Date</th><th>状况 Condition</th><th>位移 Shift</th></tr>" + rows + "</table>" : "<p class='hint'>尚无巡检 / no inspection yet</p>";
    }).catch(function (e) { $("marker-history").textContent = e.message; });
  }

  // A point picked on the map for the open marker's inspection.
  var pickedLayer = L.layerGroup().addTo(g.map);
  g.map.on("click", function (e) {
    if (!picking) return;
    pickedLayer.clearLayers();
    L.circleMarker(e.latlng, { radius: 8, color: "#e6550d", weight: 3 }).addTo(pickedLayer);
    $("inspect-lon").value = e.latlng.lng.toFixed(7); $("inspect-lat").value = e.latlng.lat.toFixed(7);
    $("inspect-picked").textContent = "已选 / picked: " + e.latlng.lng.toFixed(6) + ", " + e.latlng.lat.toFixed(6);
    if (g.phone.matches) g.setSheet(true);
  });

  // -- recording: the position, then the outbox, then the server ------------------------------------------
  function position(source) {
    if (source === "none") return Promise.resolve(null);
    if (source === "typed" || source === "map") {
      var lon = parseFloat($("inspect-lon").value), lat = parseFloat($("inspect-lat").value);
      if (!isFinite(lon) || !isFinite(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90) {
        var err = new Error(source === "map" ? "请先在地图上点选位置 / pick the position on the map first" :
          "经纬度无效 / lon and lat must be numbers (−180…180, −90…90)");
        err.status = 422; return Promise.reject(err);
      }
      return Promise.resolve({ lon: lon, lat: lat, accuracy_m: null });
    }
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject(new Error("浏览器不支持定位：请输入坐标或在地图上点选 / no position from this browser: type coordinates or pick on the map")); return; }
      g.status("正在定位 / getting position…");
      navigator.geolocation.getCurrentPosition(function (pos) {
        resolve({ lon: pos.coords.longitude, lat: pos.coords.latitude, accuracy_m: pos.coords.accuracy });
      }, function (err) {
        reject(new Error("定位失败：请输入坐标、在地图上点选，或记录“界桩丢失” / position unavailable (" + err.message + "): type coordinates, pick on the map, or record the marker missing"));
      }, { enableHighAccuracy: true, timeout: 15000 });
    });
  }
  function recordInspection(id) {
    var box = g.resultBox("inspect-result"), source = $("inspect-source").value;
    box.clear(); g.status("");
    position(source).then(function (pos) {
      var body = { uuid: uuid(), inspected_at: new Date().toISOString(), team: $("inspect-team").value, condition: $("inspect-condition").value };
      if (pos) { body.position = { lon: pos.lon, lat: pos.lat }; body.position_crs = "EPSG:4326"; if (pos.accuracy_m != null) body.accuracy_m = pos.accuracy_m; }
      if ($("inspect-notes").value) body.notes = $("inspect-notes").value;
      var entry = { marker: id, number: (g.marker && g.marker.properties.number) || id, body: body };
      queue(entry);
      return send(entry).then(function (r) {
        if (r === "queued") { box.ok("已保存在本机，联网后自动发送 / saved on this device, sent when back online (" + esc(entry.number) + ")"); return; }
        done(r, box);
      });
    }).catch(function (e) { g.status(""); box.fail(e); });
  }
  function done(r, box) {
    var shift = r.displacement_m != null ? r.displacement_m.toFixed(1) + " m" : "–";
    var text = "已记录 / recorded: 位移 displacement " + shift + (r.flags && r.flags.length ? " · " + r.flags.map(function (f) { return typeof f === "string" ? f : (f.code || f.rule || f.message || JSON.stringify(f)); }).join(", ") : "");
    g.status(text);
    if (box) box.ok(esc(text));
    g.overlays.boundary_markers.eachLayer(function (l) {  // the new colour at once; the next refresh confirms it
      if (l.feature && l.feature.id === r.marker_id) {
        l.feature.properties.condition = r.condition;
        l.options.fillColor = g.conditionColour(r);
        l.setIcon(g.markerIcon(l.feature.properties));
      }
    });
    g.overlays.boundary_markers.loadedUrls = "";
    g.refresh();
    pickedLayer.clearLayers(); picking = null;
    if (g.marker && g.marker.id === r.marker_id) {
      var box2 = $("inspect-result") ? $("inspect-result").innerHTML : "";
      showMarker({ type: "Feature", id: r.marker_id, geometry: g.marker.geometry, properties: Object.assign({}, g.marker.properties, { condition: r.condition }) });
      if ($("inspect-result")) $("inspect-result").innerHTML = box2;
    }
  }

  // -- the outbox -----------------------------------------------------------------------------------------
  function outbox() { try { return JSON.parse(localStorage.getItem(OUTBOX) || "[]"); } catch (e) { return []; } }
  function save(list) { localStorage.setItem(OUTBOX, JSON.stringify(list)); showOutbox(); }
  function queue(entry) { var list = outbox(); list.push(entry); save(list); }
  function drop(uuidText) { save(outbox().filter(function (e) { return e.body.uuid !== uuidText; })); }
  function showOutbox() {
    var n = outbox().length;
    $("outbox").hidden = n === 0;
    $("outbox").textContent = "待发送 " + n + " 条巡检 / " + n + " inspection(s) to send";
    document.body.dataset.outbox = String(n);
  }
  // Send one queued inspection: the answer, "queued" (no network: kept), or an error (refused: dropped, said).
  function send(entry) {
    if (!navigator.onLine) return Promise.resolve("queued");
    return g.api("/boundaries/markers/" + encodeURIComponent(entry.marker) + "/inspections", { method: "POST", json: entry.body })
      .then(function (r) { drop(entry.body.uuid); return r; }, function (err) {
        if (!err.status || err.status >= 500 || err.status === 401 || err.status === 403) return "queued";  // retried later
        drop(entry.body.uuid);
        if (err.status === 409) return { marker_id: entry.marker, condition: entry.body.condition, already: true };  // stored by an earlier try
        throw err;
      });
  }
  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine || !outbox().length) return Promise.resolve();
    flushing = true;
    var sent = 0, failed = [];
    return outbox().reduce(function (chain, entry) {
      return chain.then(function () {
        return send(entry).then(function (r) { if (r !== "queued") sent += 1; }, function (e) { failed.push(entry.number + ": " + e.message); });
      });
    }, Promise.resolve()).then(function () {
      flushing = false;
      if (sent) { g.status("已发送离线巡检 " + sent + " 条 / sent " + sent + " queued inspection(s)"); g.overlays.boundary_markers.loadedUrls = ""; g.refresh(); if (g.marker) loadHistory(g.marker.id); }
      if (failed.length) g.status("被拒绝 / refused: " + failed.join("; "));
    });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 30000);
  showOutbox();
  flush();

  Object.assign(g, { showMarker: showMarker, flushOutbox: flush });
})();
