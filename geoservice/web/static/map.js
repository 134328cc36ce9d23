/* geoservice map page (地图页面): our own tiles and OGC API – Features, no internet basemap.
   Three modes: names (search, draw + check + register), siting (run, poll, gaps/sites/report),
   markers (condition colours, history, inspection with the browser's position, field package); the fourth,
   signs and clean-up, is in signs.js (it uses window.geoservice). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = { role: null, mode: "names", drawing: false, drawn: [], analysis: null };

  // -- API helpers ------------------------------------------------------------------------------------
  function token() { return localStorage.getItem("geoservice.token") || ""; }
  function api(path, options) {
    options = options || {};
    var headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (token()) headers["Authorization"] = "Bearer " + token();
    if (options.json !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(options.json); }
    return fetch(path, { method: options.method || "GET", headers: headers, body: options.body }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().then(function (body) {
        if (!r.ok) { var e = new Error(body.message || r.statusText); e.status = r.status; e.body = body; throw e; }
        return body;
      });
    });
  }
  function status(text) { $("status").textContent = text || ""; }
  function fail(err) { status((err.status ? err.status + " " : "") + err.message); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }

  // -- token and role ------------------------------------------------------------------------------------
  $("token").value = token();
  $("token").addEventListener("change", function () { localStorage.setItem("geoservice.token", $("token").value.trim()); loadSession(); });
  function loadSession() {
    api("/map/session").then(function (s) { state.role = s.role; $("who").textContent = s.user ? s.user + "（" + s.role + "）" : "访客（只读） / guest (read-only)"; applyRole(); })
      .catch(function (e) { state.role = null; $("who").textContent = "令牌无效 / unknown token"; applyRole(); fail(e); });
  }
  function allowed(roles) { return state.role === "admin" || roles.split(",").indexOf(state.role) >= 0; }
  function applyRole() {
    document.querySelectorAll(".needs-role").forEach(function (el) { el.hidden = !allowed(el.dataset.roles); });
    document.querySelectorAll(".role-missing").forEach(function (el) { el.hidden = allowed(el.dataset.roles); });
  }

  // -- the map: our own raster tiles as the base, GeoJSON overlays from OGC API – Features ----------
  var map = L.map("map", { doubleClickZoom: false, zoomControl: true }).setView([30.59, 114.30], 11);
  window.geoserviceMap = map;
  // Points above lines and polygons whatever order the overlays load in: markers sit on their boundary line.
  map.createPane("points").style.zIndex = 450;
  // The layer registry (geoservice.map_layers, served as /map/layers.js): base rasters, overlays, labels.
  var registry = window.geoserviceLayers;
  var tileOptions = { maxZoom: 19, opacity: 0.6, attribution: "geoservice · WorldPop" };
  var baseControl = {}, baseNames = [];  // layer → name, for the legend of the chosen base
  registry.rasters.forEach(function (r) {
    var layer = L.tileLayer(r.tiles, tileOptions);
    if (r.id === registry.base) layer.addTo(map);
    baseControl[r.label] = layer;
    baseNames.push([layer, r.id]);
  });
  var blank = L.layerGroup();
  baseControl[registry.none] = blank;
  var conditionColours = { intact: "#1a9850", reset: "#1a9850", newly_set: "#1a9850", damaged: "#fdae61", displaced: "#fdae61", missing: "#d73027" };
  function conditionColour(p) { return conditionColours[p.condition] || "#777"; }
  var signColours = { intact: "#1a9850", faded: "#fdae61", tilted: "#fdae61", obscured: "#fdae61", damaged: "#d73027", missing: "#d73027" };
  function signColour(p) { return signColours[p.condition] || "#777"; }

  // queries: the item requests an overlay is made of (each one page of up to 1000 features in the view).
  function overlay(collection, style, options, queries) {
    var layer = L.geoJSON(null, Object.assign({ style: style }, options || {}));
    layer.collection = collection;
    layer.queries = queries || [""];
    layer.generation = 0;
    return layer;
  }
  var overlays = {
    // Districts and townships only: villages and communities are points by the thousand (their names are in search).
    divisions: overlay("divisions", function () { return { color: "#34495e", weight: 1.5, fill: false }; },
      { filter: function (f) { return f.geometry && f.geometry.type !== "Point"; },
        onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name) + " " + esc(f.properties.code)); } },
      ["&level=county", "&level=township"]),
    roads: overlay("roads", function () { return { color: "#555", weight: 2 }; },
      { onEachFeature: function (f, l) { if (f.properties.name) l.bindTooltip(esc(f.properties.name)); } }),
    place_names: overlay("place_names", function () { return { color: "#6a3d9a", weight: 3 }; },
      { pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 4, color: "#6a3d9a" }); },
        onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name)); } }),
    facilities: overlay("facilities", null,
      { pointToLayer: function (f, ll) { return L.circleMarker(ll, { pane: "points", radius: 5, color: "#fff", weight: 1, fillColor: "#2b6cb0", fillOpacity: 1 }); },
        onEachFeature: function (f, l) { l.bindPopup("<b>" + esc(f.properties.name) + "</b><br>" + esc(f.properties.kind)); } }),
    place_signs: overlay("place_signs", null,
      { pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { pane: "points", radius: 6, color: "#222", weight: 1, fillColor: signColour(f.properties), fillOpacity: 1 });
        },
        onEachFeature: function (f, l) {
          var p = f.properties, issues = (p.text_issues || []).map(function (i) { return esc(i.rule) + " → " + esc(i.expected); });
          l.bindPopup("<b>" + esc(p.name) + "</b> " + esc(p.romanized) + "<br>" + esc(p.kind_label) + " · " + esc(p.condition) +
            (issues.length ? "<br>" + issues.join("<br>") : ""));
        } }),
    boundary_lines: overlay("boundary_lines", function () { return { color: "#b2182b", weight: 3, dashArray: "8 4" }; },
      { onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.code || f.properties.name)); } }),
    boundary_markers: overlay("boundary_markers", null,
      { pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { pane: "points", radius: 7, color: "#222", weight: 1, fillColor: conditionColour(f.properties), fillOpacity: 1 });
        },
        onEachFeature: function (f, l) { l.on("click", function () { showMarker(f); }); l.bindTooltip(esc(f.properties.number || f.properties.code || f.properties.name)); } })
  };
  var overlayControl = {};
  registry.overlays.forEach(function (o) { if (overlays[o.id]) overlayControl[o.label] = overlays[o.id]; });
  ["divisions", "facilities"].forEach(function (k) { overlays[k].addTo(map); });
  var layers = L.control.layers(baseControl, overlayControl, { collapsed: false }).addTo(map);
  var drawnLayer = L.layerGroup().addTo(map);
  var resultLayer = L.layerGroup().addTo(map);

  function bboxParam() { var b = map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(","); }
  function refresh() {
    Object.keys(overlays).forEach(function (k) {
      var layer = overlays[k];
      if (!map.hasLayer(layer)) return;
      var generation = ++layer.generation, bbox = bboxParam();
      map.getContainer().dataset[k] = "loading";
      Promise.all(layer.queries.map(function (q) { return api("/collections/" + k + "/items?limit=1000&bbox=" + bbox + q); }))
        .then(function (pages) {
          if (generation !== layer.generation) return;  // a later view's answer is coming: drop this one
          layer.clearLayers();
          pages.forEach(function (fc) { layer.addData(fc); });
          map.getContainer().dataset[k] = "loaded";
        }).catch(fail);
    });
    $("package-link").href = "/boundaries/field-package?bbox=" + bboxParam();
    $("sign-package-link").href = "/signs/field-package?bbox=" + bboxParam();
  }
  // One reload for a burst of events (a mode switch adds two overlays and may move the map).
  var refreshTimer = null;
  function scheduleRefresh() {
    Object.keys(overlays).forEach(function (k) { if (map.hasLayer(overlays[k])) map.getContainer().dataset[k] = "loading"; });
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 80);
  }
  map.on("moveend overlayadd", scheduleRefresh);
  map.on("baselayerchange", function (e) {
    var chosen = baseNames.filter(function (pair) { return pair[0] === e.layer; });
    showLegend(chosen.length ? chosen[0][1] : null);
  });

  function showLegend(layer) {
    if (!layer) { $("legend").innerHTML = ""; return; }
    api("/tiles/" + encodeURIComponent(layer) + "/legend").then(function (lg) {
      var rows = lg.classes.map(function (c) { return "<div><i style='background:" + c.color + "'></i>" + esc(c.label) + "</div>"; }).join("");
      $("legend").innerHTML = "<div class='title'>" + esc(lg.title) + "</div><div>" + esc(lg.unit) + "</div>" + rows;
    }).catch(fail);
  }

  // Start where the data is: the divisions' bounds from their TileJSON.
  api("/tiles/divisions/tilejson.json").then(function (tj) {
    var b = tj.bounds;
    if (b && b[2] - b[0] < 20) map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    setMode(state.mode);
  }).catch(function () { setMode(state.mode); });
  showLegend(registry.base);

  // -- modes --------------------------------------------------------------------------------------------
  document.querySelectorAll(".tabs button").forEach(function (b) {
    b.addEventListener("click", function () { setMode(b.dataset.mode); });
  });
  function setMode(mode) {
    state.mode = mode;
    document.querySelectorAll(".tabs button").forEach(function (b) { b.classList.toggle("active", b.dataset.mode === mode); });
    document.querySelectorAll(".mode").forEach(function (s) { s.hidden = s.id !== "mode-" + mode; });
    // Each mode shows its own overlays (the divisions stay); the layer control can add any of them back.
    var byMode = { names: ["roads", "place_names"], siting: ["facilities"], markers: ["boundary_lines", "boundary_markers"], signs: ["place_signs"] };
    Object.keys(byMode).forEach(function (m) {
      byMode[m].forEach(function (k) { if (m !== mode && byMode[mode].indexOf(k) < 0 && map.hasLayer(overlays[k])) map.removeLayer(overlays[k]); });
    });
    byMode[mode].forEach(function (k) { if (!map.hasLayer(overlays[k])) overlays[k].addTo(map); });
    refresh();
  }

  // -- names: search ------------------------------------------------------------------------------------
  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    api("/names/search?limit=20&q=" + encodeURIComponent($("search-q").value)).then(function (res) {
      $("search-hits").innerHTML = res.hits.length ? "" : "<li>无结果 / no match</li>";
      res.hits.forEach(function (h) {
        var li = document.createElement("li");
        li.innerHTML = "<b>" + esc(h.name) + "</b> " + esc(h.category) + " · " + esc(h.division_code) + " · " + esc(h.status) + " <span class='en'>(" + esc(h.match) + ")</span>";
        li.addEventListener("click", function () { zoomToFeature("place_names", h.id, h.name); });
        $("search-hits").appendChild(li);
      });
    }).catch(fail);
  });
  // A place name's geometry: its own, else the roads that carry it (roads.name_id), else null.
  function nameGeometry(id) {
    return api("/collections/place_names/items/" + encodeURIComponent(id)).then(function (f) {
      if (f.geometry) return { type: "FeatureCollection", features: [f] };
      return api("/collections/roads/items?limit=100&name_id=" + encodeURIComponent(id)).then(function (fc) {
        return fc.features.length ? fc : null;
      });
    });
  }
  function highlight(fc, colour, tooltip, dashed) {
    var l = L.geoJSON(fc, { style: { color: colour, weight: 6, opacity: 0.9, dashArray: dashed ? "6 6" : null },
      pointToLayer: function (ft, ll) { return L.circleMarker(ll, { radius: 9, color: colour, weight: 3 }); } });
    if (tooltip) l.bindTooltip(tooltip, { sticky: true });
    resultLayer.addLayer(l);
    return l;
  }
  function zoomToFeature(collection, id, name) {
    return nameGeometry(id).then(function (fc) {
      if (!fc) { status("该地名尚无几何 / this name has no geometry yet"); return; }
      resultLayer.clearLayers();
      var l = highlight(fc, "#e6550d", esc(name || ""));
      map.fitBounds(l.getBounds(), { maxZoom: 16, padding: [40, 40] });
      status("已定位 / shown on the map: " + (name || ""));
      map.getContainer().dataset.found = id;
    }).catch(fail);
  }

  // -- names: a small line-drawing tool (click to add vertices, double-click to finish) -----------------------------
  var drawLine = L.polyline([], { color: "#e6550d", weight: 4 }).addTo(drawnLayer);
  $("draw-start").addEventListener("click", function () { state.drawing = true; state.drawn = []; drawLine.setLatLngs([]); map.getContainer().style.cursor = "crosshair"; status("单击加点，双击结束 / click to add points, double-click to finish"); });
  $("draw-clear").addEventListener("click", function () { state.drawing = false; state.drawn = []; drawLine.setLatLngs([]); map.getContainer().style.cursor = ""; status(""); });
  map.on("click", function (e) {
    if (!state.drawing) return;
    var last = state.drawn[state.drawn.length - 1];
    if (last && map.latLngToContainerPoint(last).distanceTo(e.containerPoint) < 3) return;  // the double-click's clicks
    state.drawn.push(e.latlng); drawLine.setLatLngs(state.drawn);
  });
  map.on("dblclick", function (e) {
    if (!state.drawing) return;
    state.drawing = false; map.getContainer().style.cursor = "";
    status("已画 " + state.drawn.length + " 个点 / line with " + state.drawn.length + " points");
  });
  function drawnGeometry() {
    if (state.drawn.length < 2) return null;
    return { type: "LineString", coordinates: state.drawn.map(function (p) { return [p.lng, p.lat]; }) };
  }
  function nameBody() {
    var body = { name: $("name-name").value, category: $("name-category").value, division_code: $("name-division").value };
    var g = drawnGeometry(); if (g) body.geometry = g;
    if ($("name-reason").value) body.reason = $("name-reason").value;
    return body;
  }
  var ruleLabels = { duplicate: "重名 duplicate", homophone: "同音 homophone", similar: "近似 similar" };
  function showIssues(res) {
    var html = res.ok ? "<div class='ok'>可以申报 / OK: " + esc(res.name) + " (" + esc(res.romanized) + ")</div>" : "";
    var conflicts = [];
    (res.issues || []).forEach(function (i) {
      html += "<div class='issue " + esc(i.severity) + "'><b>" + esc(ruleLabels[i.rule] || i.rule) + "</b> " + esc(i.message);
      (i.conflicts || []).forEach(function (c) {
        conflicts.push(c);
        html += "<span class='conflict'>冲突 conflict: " + esc(c.name) + " · " + esc(c.division_code) + "</span>";
      });
      html += "</div>";
    });
    $("name-result").innerHTML = html;
    showConflicts(conflicts);
  }
  // Conflicting names in red on the map, with the drawn line, so the officer sees where the clash is.
  function showConflicts(conflicts) {
    if (!conflicts.length) return;
    Promise.all(conflicts.map(function (c) { return nameGeometry(c.id).catch(function () { return null; }); })).then(function (fcs) {
      var bounds = drawLine.getLatLngs().length ? L.latLngBounds(drawLine.getLatLngs()) : null, shown = 0;
      fcs.forEach(function (fc, n) {
        if (!fc) return;
        var l = highlight(fc, "#d73027", "冲突 conflict: " + esc(conflicts[n].name), true);
        bounds = bounds ? bounds.extend(l.getBounds()) : l.getBounds(); shown += 1;
      });
      if (bounds) map.fitBounds(bounds, { maxZoom: 16, padding: [40, 40] });
      map.getContainer().dataset.conflictsShown = String(shown);
    });
  }
  $("name-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); resultLayer.clearLayers();
    var body = nameBody(); delete body.reason;
    api("/names/check", { method: "POST", json: body }).then(showIssues).catch(fail);
  });
  $("name-register").addEventListener("click", function () {
    var body = nameBody();
    api("/names", { method: "POST", json: body }).then(function (rec) {
      $("name-result").innerHTML = "<div class='ok'>已申报 / registered: <b>" + esc(rec.name) + "</b> " + esc(rec.romanized || "") +
        "<br>状态 status: " + esc(rec.status) + " · 区划 division: " + esc(rec.division_code) + "<br><code>" + esc(rec.id) + "</code></div>";
      status("");
      resultLayer.clearLayers();
      if (body.geometry) highlight(body.geometry, "#1a9850", "新申报 registered: " + esc(rec.name));
      drawLine.setLatLngs([]); state.drawn = [];
      if (!map.hasLayer(overlays.place_names)) overlays.place_names.addTo(map);
      refresh();
    }).catch(function (e) { fail(e); $("name-result").innerHTML = "<div class='issue'>" + esc(e.message) + "</div>"; });
  });

  // -- siting: run, poll, show gaps, proposals and the report -----------------------------------------------
  $("siting-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var body = { facility_type: $("siting-type").value, division_code: $("siting-division").value,
      population: $("siting-population").value, distance: $("siting-distance").value,
      optimize: { model: "mclp", new_sites: parseInt($("siting-new").value || "5", 10) } };
    if (isTravelTime()) {
      if ($("siting-minutes").value !== "") body.service_time_min = parseFloat($("siting-minutes").value);
      if ($("siting-speed").value !== "") body.speed_kmh = parseFloat($("siting-speed").value);
    } else if ($("siting-radius").value) body.radius_m = parseFloat($("siting-radius").value);
    $("siting-result").innerHTML = ""; $("siting-progress").hidden = false; $("siting-progress").value = 0;
    api("/siting/analyses", { method: "POST", json: body }).then(function (r) { poll(r.id); }).catch(function (e) { $("siting-progress").hidden = true; fail(e); });
  });
  function isTravelTime() { return /_time$/.test($("siting-distance").value); }
  $("siting-distance").addEventListener("change", function () {
    document.querySelectorAll(".siting-time").forEach(function (el) { el.hidden = !isTravelTime(); });
    document.querySelectorAll(".siting-metres").forEach(function (el) { el.hidden = isTravelTime(); });
  });
  function poll(id) {
    api("/siting/analyses/" + id).then(function (a) {
      $("siting-progress").value = a.progress || 0;
      status("分析 / analysis " + a.status + " · " + (a.stage || "") + " · " + Math.round((a.progress || 0) * 100) + "%");
      if (a.status === "done") return showAnalysis(a);
      if (a.status === "failed" || a.status === "interrupted") { $("siting-progress").hidden = true; $("siting-result").innerHTML = "<div class='issue'>" + esc(a.error && a.error.message) + "</div>"; return; }
      setTimeout(function () { poll(id); }, 1000);
    }).catch(fail);
  }
  var coverageLayer = null;
  function showAnalysis(a) {
    $("siting-progress").hidden = true; status("");
    resultLayer.clearLayers();
    if (coverageLayer) { map.removeLayer(coverageLayer); layers.removeLayer(coverageLayer); }
    coverageLayer = L.tileLayer("/tiles/" + registry.coverage_prefix + a.id + "/{z}/{x}/{y}.png", { maxZoom: 19, opacity: 0.9 }).addTo(map);
    layers.addOverlay(coverageLayer, registry.coverage_label);
    showLegend(registry.coverage_prefix + a.id);
    Promise.all([api("/siting/analyses/" + a.id + "/gaps"), api("/siting/analyses/" + a.id + "/sites")]).then(function (res) {
      var gaps = L.geoJSON(res[0], { style: { color: "#7a0177", weight: 1.5, fillColor: "#c51b8a", fillOpacity: 0.15 },
        onEachFeature: function (f, l) { l.bindTooltip("缺口 gap · 人口 population " + fmtCount(f.properties.population)); } });
      resultLayer.addLayer(gaps);
      var proposed = 0;
      var sites = L.geoJSON(res[1], { pointToLayer: function (f, ll) {
        var isNew = f.properties.status === "proposed"; if (isNew) proposed += 1;
        return L.circleMarker(ll, { radius: isNew ? 9 : 5, color: isNew ? "#222" : "#fff", weight: 2, fillColor: isNew ? "#e6550d" : "#2b6cb0", fillOpacity: 1, className: isNew ? "proposed-site" : "existing-site" })
          .bindTooltip(isNew ? "建议新址 proposed #" + esc(f.properties.rank) : "现有 existing " + esc(f.properties.name || ""));
      } });
      resultLayer.addLayer(sites);
      var bounds = gaps.getBounds();
      if (sites.getLayers().length) bounds = bounds.isValid() ? bounds.extend(sites.getBounds()) : sites.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30] });
      var t = (a.summary && a.summary.totals) || {};
      $("siting-result").innerHTML = "<table>" +
        "<tr><th>覆盖率 Coverage</th><td>" + fmtRate(t.coverage_rate_before) + " → " + fmtRate(t.coverage_rate_after) + "</td></tr>" +
        "<tr><th>未覆盖人口 Uncovered</th><td>" + fmtCount(t.uncovered_before) + " → " + fmtCount(t.uncovered_after) + "</td></tr>" +
        "<tr><th>服务半径 Radius</th><td>" + fmtCount(t.radius_m) + " m</td></tr>" +
        "<tr><th>距离 Distance</th><td id='siting-distance-used'>" + esc(t.distance_used || "") + "</td></tr>" +
        "<tr><th>无法到达人口 Unreachable</th><td id='siting-unreachable'>" + unreachableText(t.unreachable_by_reason) + "</td></tr>" +
        "<tr><th>缺口区域 Gap areas</th><td>" + res[0].features.length + "</td></tr>" +
        "<tr><th>建议新址 Proposed sites</th><td>" + proposed + "</td></tr></table>" +
        "<p><a id='report-link' class='button' target='_blank' href='/siting/analyses/" + a.id + "/report'>查看报告 <span class='en'>Open report</span></a></p>";
    }).catch(fail);
  }
  var REASONS = { beyond_limit: "超出范围 beyond reach", disconnected: "路网不连通 no connected facility", off_network: "离道路过远 off the roads", no_facility: "无现有设施 no facility" };
  function unreachableText(byReason) {
    var keys = Object.keys(byReason || {});
    if (!keys.length) return "–";
    return keys.map(function (k) { return esc(REASONS[k] || k) + " " + fmtCount(byReason[k]); }).join("<br>");
  }
  function fmtRate(v) { return v == null ? "–" : (100 * v).toFixed(1) + "%"; }
  function fmtCount(v) { return v == null ? "–" : Math.round(v).toLocaleString("zh-CN"); }

  // -- markers: history and an inspection with the browser's position ------------------------------------------
  function showMarker(f) {
    var p = f.properties, id = f.id;
    state.marker = f;
    resultLayer.clearLayers();
    if (f.geometry) resultLayer.addLayer(L.geoJSON(f, { pointToLayer: function (ft, ll) { return L.circleMarker(ll, { radius: 13, color: "#17324d", weight: 3, fill: false, interactive: false }); } }));
    var html = "<h2>界桩 Marker " + esc(p.number || p.code || p.name) + " <span class='en'>" + esc(p.kind_label || "") + "</span></h2>" +
      "<h2>巡检历史 <span class='en'>Inspection history</span></h2><div id='marker-history'>…</div>";
    if (allowed("inspector")) {
      html += "<form id='inspect-form' class='grid'><h2>记录巡检 <span class='en'>Record inspection</span></h2>" +
        "<label>状况 Condition <select id='inspect-condition'><option value='intact'>完好 intact</option><option value='damaged'>损坏 damaged</option><option value='displaced'>移位 displaced</option><option value='missing'>丢失 missing</option></select></label>" +
        "<label>巡检组 Team <input id='inspect-team' required value='联检组'></label>" +
        "<label>备注 Notes <input id='inspect-notes'></label>" +
        "<button type='submit'>用当前位置记录 Record with my position</button></form>";
    }
    $("marker-detail").innerHTML = html;
    api("/boundaries/markers/" + encodeURIComponent(id) + "/inspections").then(function (res) {
      var newestFirst = (res.inspections || []).slice().sort(function (a, b) { return a.inspected_at < b.inspected_at ? 1 : -1; });
      var rows = newestFirst.map(function (i) {
        return "<tr><td>" + esc(i.inspected_at.slice(0, 10)) + "</td><td><i class='dot' style='background:" + conditionColour(i) + "'></i>" +
          esc(i.condition_label || i.condition) + " <span class='en'>" + esc(i.condition) + "</span></td><td>" +
          (i.displacement_m != null ? i.displacement_m.toFixed(1) + " m" : "–") + "</td></tr>";
      }).join("");
      $("marker-history").innerHTML = rows ? "<table><tr><th>日期 Date</th><th>状况 Condition</th><th>位移 Shift</th></tr>" + rows + "</table>" : "<p class='hint'>尚无巡检 / no inspection yet</p>";
    }).catch(function (e) { $("marker-history").textContent = e.message; });
    var form = $("inspect-form");
    if (form) form.addEventListener("submit", function (ev) { ev.preventDefault(); recordInspection(id); });
  }
  function recordInspection(id) {
    if (!navigator.geolocation) { status("浏览器不支持定位 / this browser cannot give a position"); return; }
    status("正在定位 / getting position…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      var body = { inspected_at: new Date().toISOString(), team: $("inspect-team").value, condition: $("inspect-condition").value,
        position: { lon: pos.coords.longitude, lat: pos.coords.latitude }, position_crs: "EPSG:4326",
        accuracy_m: pos.coords.accuracy };
      if ($("inspect-notes").value) body.notes = $("inspect-notes").value;
      api("/boundaries/markers/" + encodeURIComponent(id) + "/inspections", { method: "POST", json: body }).then(function (r) {
        var shift = r.displacement_m != null ? r.displacement_m.toFixed(1) + " m" : "–";
        status("已记录 / recorded: 位移 displacement " + shift + (r.flags && r.flags.length ? " · " + r.flags.map(function (f) { return typeof f === "string" ? f : (f.code || f.rule || f.message || JSON.stringify(f)); }).join(", ") : ""));
        overlays.boundary_markers.eachLayer(function (l) {  // the new colour at once; refresh() confirms it from the server
          if (l.feature && l.feature.id === id) { l.feature.properties.condition = r.condition; l.setStyle({ fillColor: conditionColour(r) }); }
        });
        refresh();
        showMarker({ type: "Feature", id: id, geometry: state.marker.geometry, properties: Object.assign({}, state.marker.properties, { condition: r.condition }) });
      }).catch(fail);
    }, function (err) { status("定位失败 / position unavailable: " + err.message); }, { enableHighAccuracy: true, timeout: 15000 });
  }

  // shared with signs.js (the signs and clean-up mode)
  window.geoservice = { api: api, esc: esc, status: status, fail: fail, map: map, layers: layers };
  loadSession();
  applyRole();
})();
