/* geoservice map page: pickers instead of codes (选择器). Divisions by name with suggestions (any level, the
   whole city too: /map/divisions), facility types and population layers as lists from the layer registry
   (/map/layers.js), the name rules in words from the API's own rule catalogue (/names/rules). */
(function () {
  "use strict";
  var g = window.geoservice, $ = function (id) { return document.getElementById(id); };
  var registry = window.geoserviceLayers;

  // -- division picker: type a name, pick a suggestion; the form sends its code ----------------------------
  function divisionPicker(input) {
    var list = document.createElement("ul");
    list.className = "suggest"; list.hidden = true; list.id = input.id + "-suggest";
    input.insertAdjacentElement("afterend", list);
    var timer = null, asked = 0;
    input.addEventListener("input", function () {
      delete input.dataset.code;
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q || /^\d{2,12}$/.test(q)) { list.hidden = true; return; }  // a code typed as such is taken as it is
      timer = setTimeout(function () {
        var n = ++asked;
        g.api("/map/divisions?limit=8&q=" + encodeURIComponent(q)).then(function (res) {
          if (n !== asked) return;
          list.innerHTML = "";
          res.divisions.forEach(function (d) {
            var li = document.createElement("li");
            li.innerHTML = "<b>" + g.esc(d.name) + "</b> <span class='en'>" + g.esc(d.level_label) + " · " + g.esc(d.code) + "</span><br><small>" + g.esc(d.chain) + "</small>";
            li.addEventListener("mousedown", function (ev) { ev.preventDefault(); });  // keep the input's focus
            li.addEventListener("click", function () { choose(input, d); list.hidden = true; });
            list.appendChild(li);
          });
          if (!res.divisions.length) list.innerHTML = "<li class='none'>无匹配区划 / no division by that name</li>";
          list.hidden = false;
        }).catch(g.fail);
      }, 150);
    });
    input.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });
  }
  function choose(input, d) {
    input.value = d.name + " " + d.code;
    input.dataset.code = d.code;
    input.dispatchEvent(new Event("change"));
  }
  // The code a division field stands for: the picked one, a code typed as such, or the code after a name.
  function divisionCode(id) {
    var input = $(id), text = input.value.trim();
    if (input.dataset.code) return Promise.resolve(input.dataset.code);
    var code = text.match(/(^|\s)(\d{2,12})$/);
    if (code) return Promise.resolve(code[2]);
    return g.api("/map/divisions?limit=2&q=" + encodeURIComponent(text)).then(function (res) {
      var exact = res.divisions.filter(function (d) { return d.name === text; });
      if (exact.length === 1 || (res.divisions.length === 1 && exact.length !== 0)) { choose(input, exact[0]); return exact[0].code; }
      var err = new Error("请从列表中选择区划 / choose the division from the list: “" + text + "” " +
        (res.divisions.length ? "matches several" : "matches none"));
      err.status = 422;
      throw err;
    });
  }
  document.querySelectorAll("input.division-picker").forEach(divisionPicker);

  // -- lists from the layer registry ------------------------------------------------------------------------
  function fill(select, rows) {
    select.innerHTML = rows.map(function (r) { return "<option value='" + g.esc(r.id) + "'>" + g.esc(r.label) + "</option>"; }).join("");
  }
  fill($("siting-type"), registry.facility_types);
  fill($("siting-population"), registry.rasters);
  var facilityById = {};
  registry.facility_types.forEach(function (f) { facilityById[f.id] = f; });
  function facility(kind) { return facilityById[kind] || Object.assign({ id: kind, label: kind, glyph: "设" }, registry.other_facility); }
  function facilitySymbol(kind) {
    var f = facility(kind);
    return "<span class='sym sym-" + g.esc(f.shape) + "' style='--c:" + g.esc(f.colour) + "'>" + g.esc(f.glyph) + "</span>";
  }
  $("facility-legend").innerHTML = "<div class='title'>设施 Facilities</div>" + registry.facility_types.map(function (f) {
    return "<div class='legend-row'>" + facilitySymbol(f.id) + " " + g.esc(f.label) + "</div>";
  }).join("");

  // -- the name rules in words: the API's catalogue (中文 first, the rule's English name, then the gist) -----
  var rules = null;
  function loadRules() {
    if (!rules) rules = g.api("/names/rules").then(function (res) {
      var byId = {};
      res.rules.forEach(function (r) { byId[r.id] = r; });
      return byId;
    }).catch(function () { return {}; });
    return rules;
  }
  function ruleLabel(byId, id) {
    var r = byId[id], words = String(id).replace(/_/g, " ");
    if (!r) return words;
    var parts = r.description.split(" / "), zh = parts[0].split("（")[0];
    var en = (parts[1] || "").split(/[;,(]/)[0].trim();
    return zh + " " + words + (en && en !== words ? " <span class='en'>— " + g.esc(en) + "</span>" : "");
  }

  Object.assign(g, { divisionCode: divisionCode, facility: facility, facilitySymbol: facilitySymbol, loadRules: loadRules, ruleLabel: ruleLabel });
})();
