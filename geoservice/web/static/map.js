/* geoservice map page (地图页面): our own tiles and OGC API – Features, no internet basemap.
   Modes: names (search, draw + check + register, addresses), siting (run, poll, gaps/sites/report), markers
   (field.js: history, inspection with or without GPS, offline queue), signs and clean-up (signs.js).
   The API client, the token and the role are session.js's; the pickers are pickers.js's. */
(function () {
  "use strict";
  var g = window.geoservice, $ = function (id) { return document.getElementById(id); };
  var api = g.api, esc = g.esc, status = g.status, fail = g.fail;
  var state = { mode: "names", drawing: false, drawn: [] };
  var phone = window.matchMedia("(max-width: 760px), (max-height: 520px)");
  var landscape = window.matchMedia("(max-height: 520px) and (min-width: 600px)");  // the sheet on the right

  // -- the map: our own raster tiles as the base, GeoJSON overlays from OGC API – Features ----------
  // No view until the data's bounds are known: nothing is fetched twice (once for a default view, once for the data's).
  var map = L.map("map", { doubleClickZoom: false, zoomControl: true, tap: true });
  map.attributionControl.setPrefix("Leaflet");  // no link out: the page works on an isolated network
  window.geoserviceMap = map;
  // Points above lines and polygons whatever order the overlays load in: markers sit on their boundary line.
  map.createPane("points").style.zIndex = 650;
  var registry = window.geoserviceLayers;
  var tileOptions = { maxZoom: 19, opacity: 0.6, attribution: "geoservice · WorldPop" };
  var baseControl = {}, baseNames = [];  // layer → name, for the legend of the chosen base
  registry.rasters.forEach(function (r) {
    var layer = L.tileLayer(r.tiles, tileOptions);
    if (r.id === registry.base) layer.addTo(map);
    baseControl[r.label] = layer;
    baseNames.push([layer, r.id]);
  });
  baseControl[registry.none] = L.layerGroup();
  var conditionColours = { intact: "#1a9850", reset: "#1a9850", newly_set: "#1a9850", damaged: "#fdae61", displaced: "#fdae61", missing: "#d73027" };
  function conditionColour(p) { return conditionColours[p.condition] || "#777"; }
  var signColours = { intact: "#1a9850", faded: "#fdae61", tilted: "#fdae61", obscured: "#fdae61", damaged: "#d73027", missing: "#d73027" };
  function signColour(p) { return signColours[p.condition] || "#777"; }

  // A point a finger can hit: a 40 px transparent target around a small symbol (DOM, so it is measurable).
  var STAKE_SHIFT = { A: [-9, 0], B: [9, 0], C: [-10, 6], D: [10, 6], E: [0, -11] };  // 同号双立/三立 side by side
  function markerIcon(p) {
    var letter = String(p.number || "").slice(-1), shift = STAKE_SHIFT[letter] || [0, 0];
    return L.divIcon({ className: "tap-point marker-point", iconSize: [40, 40], iconAnchor: [20 - shift[0], 20 - shift[1]],
      html: "<span class='dot' style='background:" + conditionColour(p) + "'>" + (shift[0] || shift[1] ? esc(letter) : "") + "</span>" });
  }
  function facilityIcon(p) {
    return L.divIcon({ className: "tap-point facility-point", iconSize: [40, 40], iconAnchor: [20, 20], html: g.facilitySymbol(p.kind) });
  }

  // queries: the item requests an overlay is made of (each one page of up to 1000 features in the view).
  // minZoom: below it the overlay is not fetched as GeoJSON (too many features for a phone's first load).
  function overlay(collection, style, options, queries, minZoom) {
    var layer = L.geoJSON(null, Object.assign({ style: style }, options || {}));
    layer.collection = collection;
    layer.queries = queries || [""];
    layer.minZoom = minZoom || 0;
    layer.generation = 0;
    layer.loadedUrls = "";
    return layer;
  }
  var overlays = {
    // Districts and townships only: villages and communities are points by the thousand (their names are in search).
    divisions: overlay("divisions", function () { return { color: "#34495e", weight: 1.5, fill: false }; },
      { filter: function (f) { return f.geometry && f.geometry.type !== "Point"; },
        onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name) + " " + esc(f.properties.code)); } },
      ["&level=county", "&level=township"], 12),
    roads: overlay("roads", function () { return { color: "#555", weight: 2 }; },
      { onEachFeature: function (f, l) { if (f.properties.name) l.bindTooltip(esc(f.properties.name)); } }, null, 14),
    place_names: overlay("place_names", function () { return { color: "#6a3d9a", weight: 3 }; },
      { pointToLayer: function (f, ll) { return L.circleMarker(ll, { radius: 4, color: "#6a3d9a" }); },
        onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.name)); } }),
    facilities: overlay("facilities", null,
      { pointToLayer: function (f, ll) { return L.marker(ll, { pane: "points", icon: facilityIcon(f.properties), kind: f.properties.kind }); },
        onEachFeature: function (f, l) { l.bindPopup("<b>" + esc(f.properties.name) + "</b><br>" + g.facilitySymbol(f.properties.kind) + " " + esc(g.facility(f.properties.kind).label)); } }),
    place_signs: overlay("place_signs", null,
      { pointToLayer: function (f, ll) {
          return L.circleMarker(ll, { pane: "points", radius: 6, color: "#222", weight: 1, fillColor: signColour(f.properties), fillOpacity: 1 });
        },
        onEachFeature: function (f, l) {
          var p = f.properties, issues = (p.text_issues || []).map(function (i) { return esc(i.rule) + " → " + esc(i.expected); });
          l.bindPopup("<b>" + esc(p.name) + "</b> " + esc(p.romanized) + "<br>" + esc(p.kind_label) + " · " + esc(registry.sign_conditions[p.condition] || p.condition) +
            (issues.length ? "<br>" + issues.join("<br>") : ""));
        } }),
    boundary_lines: overlay("boundary_lines", function () { return { color: "#b2182b", weight: 3, dashArray: "8 4" }; },
      { onEachFeature: function (f, l) { l.bindTooltip(esc(f.properties.code || f.properties.name)); } }),
    boundary_markers: overlay("boundary_markers", null,
      { pointToLayer: function (f, ll) {
          // fillColor: the condition colour, as the circle markers of the other point overlays carry it
          return L.marker(ll, { pane: "points", icon: markerIcon(f.properties), fillColor: conditionColour(f.properties) });
        },
        onEachFeature: function (f, l) { l.on("click", function () { g.showMarker(f); }); l.bindTooltip(esc(f.properties.number || f.properties.code || f.properties.name)); } })
  };
  // Below an overlay's minZoom its lines come as vector tiles (a few KB each), not as every feature in GeoJSON.
  var tiled = {
    divisions: L.vectorTiles("/tiles/divisions/{z}/{x}/{y}.mvt", { layer: "divisions", maxZoom: 11, style: { color: "#34495e", weight: 1.5 },
      filter: function (p) { return p.level === "county" || p.level === "township"; } }),
    roads: L.vectorTiles("/tiles/roads/{z}/{x}/{y}.mvt", { layer: "roads", maxZoom: 13, style: { color: "#555", weight: 1.2 } })
  };
  Object.keys(tiled).forEach(function (k) {
    overlays[k].on("add", function () { map.addLayer(tiled[k]); });
    overlays[k].on("remove", function () { map.removeLayer(tiled[k]); });
  });
  var overlayControl = {};
  registry.overlays.forEach(function (o) { if (overlays[o.id]) overlayControl[o.label] = overlays[o.id]; });
  Object.keys(overlays).forEach(function (k) {  // an overlay taken off the map is neither loading nor loaded
    overlays[k].on("remove", function () { delete map.getContainer().dataset[k]; overlays[k].loadedUrls = ""; });
  });
  overlays.divisions.addTo(map);  // the mode's own overlays come with setMode
  // On a phone the layer switch is a button that opens the list (it covered half the map in landscape).
  var layers = L.control.layers(baseControl, overlayControl, { collapsed: phone.matches, position: phone.matches ? "topleft" : "topright" }).addTo(map);
  var drawnLayer = L.layerGroup().addTo(map);
  var resultLayer = L.layerGroup().addTo(map);

  function bboxParam() { if (!map._loaded) return ""; var b = map.getBounds(); return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(","); }
  // Each overlay is fetched once per view: an unchanged view (a mode switch, a repeated event) fetches nothing.
  function refresh() {
    if (!map._loaded) return;  // no view yet
    var bbox = bboxParam(), zoom = map.getZoom();
    Object.keys(overlays).forEach(function (k) {
      var layer = overlays[k], container = map.getContainer();
      if (!map.hasLayer(layer)) return;
      if (zoom < layer.minZoom) {
        layer.clearLayers(); layer.loadedUrls = "";
        container.dataset[k] = "zoom"; return;
      }
      var urls = layer.queries.map(function (q) { return "/collections/" + k + "/items?limit=1000&bbox=" + bbox + q; });
      if (urls.join(" ") === layer.loadedUrls) { container.dataset[k] = "loaded"; return; }
      var generation = ++layer.generation;
      container.dataset[k] = "loading";
      Promise.all(urls.map(function (u) { return api(u); }))
        .then(function (pages) {
          if (generation !== layer.generation) return;  // a later view's answer is coming: drop this one
          layer.clearLayers();
          pages.forEach(function (fc) { layer.addData(fc); });
          layer.loadedUrls = urls.join(" ");
          container.dataset[k] = "loaded";
        }).catch(function (e) { container.dataset[k] = "failed"; fail(e); });
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
  // A token cleared or replaced: the overlays again, with what the new token may read.
  document.addEventListener("geoservice:token", function () { Object.keys(overlays).forEach(function (k) { overlays[k].loadedUrls = ""; }); scheduleRefresh(); });

  var legendShown = null;
  function showLegend(layer) {
    if (layer === legendShown) return;
    legendShown = layer;
    if (!layer) { $("legend").innerHTML = ""; return; }
    api("/tiles/" + encodeURIComponent(layer) + "/legend").then(function (lg) {
      var rows = lg.classes.map(function (c) { return "<div><i style='background:" + c.color + "'></i>" + esc(c.label) + "</div>"; }).join("");
      $("legend").innerHTML = "<div class='title'>" + esc(lg.title) + "</div><div>" + esc(lg.unit) + "</div>" + rows;
    }).catch(fail);
  }

  // Start where the data is: the divisions' bounds from their TileJSON; then the overlays, once.
  api("/tiles/divisions/tilejson.json").then(function (tj) {
    var b = tj.bounds;
    if (b && b[2] - b[0] < 20) fit([[b[1], b[0]], [b[3], b[2]]], { animate: false });
  }).catch(function () {}).then(function () {
    if (!map._loaded) map.setView([30.59, 114.30], 11);
    setMode(state.mode, true);
  });
  showLegend(registry.base);

  // -- the panel: a side panel on a desk, a bottom sheet on a phone (tabs within the thumb's reach) ------------
  function setSheet(open) {
    $("panel").classList.toggle("sheet-open", open);
    $("sheet-label").textContent = open ? "收起 Hide" : "展开 Show";
    setTimeout(function () { map.invalidateSize(); }, 250);
  }
  // The part of the map the sheet leaves free (on a desk: all of it), so what is shown is not under the panel.
  function covered() {
    if (!phone.matches || !$("panel").classList.contains("sheet-open")) return [0, phone.matches ? 110 : 0];
    var box = map.getContainer().getBoundingClientRect();  // the sheet's open size (map.css), not mid-animation
    return landscape.matches ? [box.width * 0.52, 0] : [0, box.height * 0.58];
  }
  function fit(bounds, options) {
    var c = covered(), pad = (options && options.padding) || [20, 20];
    map.fitBounds(bounds, Object.assign({}, options, { padding: null, paddingTopLeft: pad, paddingBottomRight: [pad[0] + c[0], pad[1] + c[1]] }));
  }
  function showPoint(latlng, zoom) {  // centre a point in the free part of the map
    var c = covered();
    map.setView(latlng, zoom || map.getZoom(), { animate: false });
    if (c[0] || c[1]) map.panBy([c[0] / 2, c[1] / 2], { animate: false });
  }
  $("sheet-handle").addEventListener("click", function () { setSheet(!$("panel").classList.contains("sheet-open")); });
  phone.addEventListener("change", function () { map.invalidateSize(); });

  // -- modes --------------------------------------------------------------------------------------------
  document.querySelectorAll(".tabs button").forEach(function (b) {
    b.addEventListener("click", function () { setMode(b.dataset.mode); if (phone.matches) setSheet(true); });
  });
  var byMode = { names: ["roads", "place_names"], siting: ["facilities"], markers: ["boundary_lines", "boundary_markers"], signs: ["place_signs"] };
  function setMode(mode, first) {
    state.mode = mode;
    document.querySelectorAll(".tabs button").forEach(function (b) { b.classList.toggle("active", b.dataset.mode === mode); });
    document.querySelectorAll(".mode").forEach(function (s) { s.hidden = s.id !== "mode-" + mode; });
    // Each mode shows its own overlays (the divisions stay); the layer control can add any of them back.
    Object.keys(byMode).forEach(function (m) {
      byMode[m].forEach(function (k) { if (m !== mode && byMode[mode].indexOf(k) < 0 && map.hasLayer(overlays[k])) map.removeLayer(overlays[k]); });
    });
    byMode[mode].forEach(function (k) { if (!map.hasLayer(overlays[k])) overlays[k].addTo(map); });
    if (first) { clearTimeout(refreshTimer); refresh(); } else scheduleRefresh();
  }

  // -- names: search ------------------------------------------------------------------------------------
  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("search-hits").innerHTML = "";
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
  // A name's own line or area (feature_geometry) first; its point unless approximate (a division's seat),
  // then the roads carrying the name; the approximate point last.
  function nameGeometry(id) {
    return api("/collections/place_names/items/" + encodeURIComponent(id)).then(function (f) {
      var p = f.properties || {}, own = f.geometry ? { type: "FeatureCollection", features: [f] } : null;
      if (p.feature_geometry) return { type: "FeatureCollection", features: [{ type: "Feature", properties: p, geometry: p.feature_geometry }] };
      if (own && !p.location_approximate) return own;
      return api("/collections/roads/items?limit=100&name_id=" + encodeURIComponent(id)).then(function (fc) {
        return fc.features.length ? fc : own;
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
      fit(l.getBounds(), { maxZoom: 16, padding: [40, 40] });
      status("已定位 / shown on the map: " + (name || ""));
      map.getContainer().dataset.found = id;
    }).catch(fail);
  }

  // -- names: a small line-drawing tool (tap to add vertices, double-tap or 完成 to finish) -----------------------
  var drawLine = L.polyline([], { color: "#e6550d", weight: 4 }).addTo(drawnLayer);
  function finishDrawing() {
    state.drawing = false; map.getContainer().style.cursor = "";
    $("draw-start").textContent = "画线 Draw road";
    status("已画 " + state.drawn.length + " 个点 / line with " + state.drawn.length + " points");
  }
  $("draw-start").addEventListener("click", function () {
    if (state.drawing) { finishDrawing(); return; }
    state.drawing = true; state.drawn = []; drawLine.setLatLngs([]); map.getContainer().style.cursor = "crosshair";
    $("draw-start").textContent = "完成 Finish";
    $("name-nogeom").checked = false; $("name-nogeom-why").hidden = true;
    status("单击加点，双击结束 / click to add points, double-click to finish");
    if (phone.matches) setSheet(false);
  });
  $("draw-clear").addEventListener("click", function () { state.drawing = false; state.drawn = []; drawLine.setLatLngs([]); map.getContainer().style.cursor = ""; $("draw-start").textContent = "画线 Draw road"; status(""); });
  map.on("click", function (e) {
    if (!state.drawing) return;
    var last = state.drawn[state.drawn.length - 1];
    if (last && map.latLngToContainerPoint(last).distanceTo(e.containerPoint) < 3) return;  // the double-click's clicks
    state.drawn.push(e.latlng); drawLine.setLatLngs(state.drawn);
  });
  map.on("dblclick", function () { if (state.drawing) finishDrawing(); });
  $("name-nogeom").addEventListener("change", function () { $("name-nogeom-why").hidden = !$("name-nogeom").checked; });
  function drawnGeometry() {
    if (state.drawn.length < 2) return null;
    return { type: "LineString", coordinates: state.drawn.map(function (p) { return [p.lng, p.lat]; }) };
  }
  function nameBody() {
    return g.divisionCode("name-division").then(function (code) {
      var body = { name: $("name-name").value, category: $("name-category").value, division_code: code };
      var line = drawnGeometry(); if (line) body.geometry = line;
      if ($("name-reason").value) body.reason = $("name-reason").value;
      return body;
    });
  }
  var nameResult = g.resultBox("name-result");
  function showIssues(res) {
    return g.loadRules().then(function (rules) {
      var html = res.ok ? "<div class='ok'>可以申报 / OK: " + esc(res.name) + " (" + esc(res.romanized) + ")</div>" : "";
      var conflicts = [];
      (res.issues || []).forEach(function (i) {
        html += "<div class='issue " + esc(i.severity) + "'><b>" + g.ruleLabel(rules, i.rule) + "</b> " + esc(i.message);
        (i.conflicts || []).forEach(function (c) {
          conflicts.push(c);
          html += "<span class='conflict'>冲突 conflict: " + esc(c.name) + " · " + esc(c.division_code) + "</span>";
        });
        html += "</div>";
      });
      nameResult.html(html);
      showConflicts(conflicts);
    });
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
      if (bounds) fit(bounds, { maxZoom: 16, padding: [40, 40] });
      map.getContainer().dataset.conflictsShown = String(shown);
    });
  }
  $("name-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); resultLayer.clearLayers(); nameResult.clear();
    nameBody().then(function (body) {
      delete body.reason;
      return api("/names/check", { method: "POST", json: body }).then(showIssues);
    }).catch(nameResult.fail);
  });
  // A road is registered with its line, or with an explicit "no line yet, because …".
  function noLineReason(body) {
    if (body.geometry) return null;
    if (!$("name-nogeom").checked) {
      var err = new Error("没有画道路线：请先画线，或勾选“暂无道路线”并说明原因 / no line drawn: draw the road, or tick “register without a line” and say why");
      err.status = 422; throw err;
    }
    var why = $("name-nogeom-reason").value;
    if (!why) { var e2 = new Error("请选择没有道路线的原因 / choose why the road has no line"); e2.status = 422; throw e2; }
    return why;
  }
  $("name-register").addEventListener("click", function () {
    nameResult.clear();
    nameBody().then(function (body) {
      var why = noLineReason(body);
      if (why) body.location_description = "暂无几何 / no geometry: " + why;
      return api("/names", { method: "POST", json: body }).then(function (rec) {
        nameResult.ok("已申报 / registered: <b>" + esc(rec.name) + "</b> " + esc(rec.romanized || "") +
          "<br>状态 status: " + esc(rec.status) + " · 区划 division: " + esc(rec.division_code) +
          (why ? "<br>暂无几何 / no geometry: " + esc(why) : "") + "<br><code>" + esc(rec.id) + "</code>");
        status("");
        resultLayer.clearLayers();
        if (body.geometry) highlight(body.geometry, "#1a9850", "新申报 registered: " + esc(rec.name));
        drawLine.setLatLngs([]); state.drawn = [];
        if (!map.hasLayer(overlays.place_names)) overlays.place_names.addTo(map);
        overlays.place_names.loadedUrls = "";
        refresh();
      });
    }).catch(nameResult.fail);
  });

  // -- siting: run, poll, show gaps, proposals and the report -----------------------------------------------
  var sitingResult = g.resultBox("siting-result");
  $("siting-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    sitingResult.clear();
    g.divisionCode("siting-division").then(function (code) {
      var body = { facility_type: $("siting-type").value, division_code: code,
        population: $("siting-population").value, distance: $("siting-distance").value,
        optimize: { model: "mclp", new_sites: parseInt($("siting-new").value || "5", 10) } };
      if (isTravelTime()) {
        if ($("siting-minutes").value !== "") body.service_time_min = parseFloat($("siting-minutes").value);
        if ($("siting-speed").value !== "") body.speed_kmh = parseFloat($("siting-speed").value);
      } else if ($("siting-radius").value) body.radius_m = parseFloat($("siting-radius").value);
      $("siting-progress").hidden = false; $("siting-progress").value = 0;
      return api("/siting/analyses", { method: "POST", json: body }).then(function (r) { poll(r.id); });
    }).catch(function (e) { $("siting-progress").hidden = true; sitingResult.fail(e); });
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
      if (a.status === "failed" || a.status === "interrupted") { $("siting-progress").hidden = true; sitingResult.fail(new Error((a.error && a.error.message) || a.status)); return; }
      setTimeout(function () { poll(id); }, 1000);
    }).catch(sitingResult.fail);
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
      if (bounds.isValid()) fit(bounds, { padding: [30, 30] });
      var t = (a.summary && a.summary.totals) || {};
      sitingResult.html("<table>" +
        "<tr><th>覆盖率 Coverage</th><td>" + fmtRate(t.coverage_rate_before) + " → " + fmtRate(t.coverage_rate_after) + "</td></tr>" +
        "<tr><th>未覆盖人口 Uncovered</th><td>" + fmtCount(t.uncovered_before) + " → " + fmtCount(t.uncovered_after) + "</td></tr>" +
        "<tr><th>服务半径 Radius</th><td>" + fmtCount(t.radius_m) + " m</td></tr>" +
        "<tr><th>距离 Distance</th><td id='siting-distance-used'>" + esc(t.distance_used || "") + "</td></tr>" +
        "<tr><th>无法到达人口 Unreachable</th><td id='siting-unreachable'>" + unreachableText(t.unreachable_by_reason) + "</td></tr>" +
        "<tr><th>缺口区域 Gap areas</th><td>" + res[0].features.length + "</td></tr>" +
        "<tr><th>建议新址 Proposed sites</th><td>" + proposed + "</td></tr></table>" +
        "<p><a id='report-link' class='button' target='_blank' href='/siting/analyses/" + a.id + "/report'>查看报告 <span class='en'>Open report</span></a></p>");
    }).catch(sitingResult.fail);
  }
  var REASONS = { beyond_limit: "超出范围 beyond reach", disconnected: "路网不连通 no connected facility", off_network: "离道路过远 off the roads", no_facility: "无现有设施 no facility" };
  function unreachableText(byReason) {
    var keys = Object.keys(byReason || {});
    if (!keys.length) return "–";
    return keys.map(function (k) { return esc(REASONS[k] || k) + " " + fmtCount(byReason[k]); }).join("<br>");
  }
  function fmtRate(v) { return v == null ? "–" : (100 * v).toFixed(1) + "%"; }
  function fmtCount(v) { return v == null ? "–" : Math.round(v).toLocaleString("zh-CN"); }

  // shared with field.js, signs.js and addresses (below)
  Object.assign(g, { map: map, layers: layers, overlays: overlays, resultLayer: resultLayer, refresh: refresh,
    conditionColour: conditionColour, markerIcon: markerIcon, phone: phone, setSheet: setSheet, highlight: highlight,
    fit: fit, showPoint: showPoint });
})();
