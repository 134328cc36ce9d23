/* geoservice map page: the API client and the token (令牌) — loaded first, shared as window.geoservice.
   A token is pasted with or without "Bearer "; who is signed in always comes from the server (/map/session).
   A read answered 401 (a wrong or revoked token) is retried as a guest and a banner says to clear or replace
   the token, so the map keeps its divisions, roads and search. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var KEY = "geoservice.token";
  var g = window.geoservice = { role: null, user: null, badToken: false };

  function normalise(text) { return String(text || "").trim().replace(/^bearer\s+/i, "").trim(); }
  function token() { return normalise(localStorage.getItem(KEY)); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }
  function status(text) { $("status").textContent = text || ""; }

  function send(path, options, withToken) {
    var headers = Object.assign({ "Accept": "application/json" }, options.headers || {});
    if (withToken && token()) headers["Authorization"] = "Bearer " + token();
    var body = options.body;
    if (options.json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(options.json); }
    return fetch(path, { method: options.method || "GET", headers: headers, body: body });
  }
  function parse(r) {
    if (r.status === 204) return null;
    return r.text().then(function (text) {
      var body; try { body = text ? JSON.parse(text) : null; } catch (e) { body = { message: text }; }
      if (!r.ok) { var err = new Error((body && body.message) || r.statusText); err.status = r.status; err.body = body; throw err; }
      return body;
    });
  }
  // JSON from the API. Reads whose token is refused are answered as a guest's; writes keep the 401 (it says why).
  function api(path, options) {
    options = options || {};
    var read = !options.method || options.method === "GET";
    var useToken = !!token() && !(read && g.badToken);
    return send(path, options, useToken).then(function (r) {
      if (r.status === 401 && useToken) {
        tokenRefused();
        if (read) return send(path, options, false).then(parse);
      }
      return parse(r);
    });
  }

  function tokenRefused() {
    if (g.badToken) return;
    g.badToken = true;
    $("token-banner").hidden = false;
    document.body.classList.add("has-banner");
    loadSession();
  }
  function showWho(s) {
    g.user = s.user; g.role = s.role;
    $("who").textContent = s.user ? s.user + "（" + s.role + "）" : "访客（只读） / guest (read-only)";
    document.body.dataset.session = "known";  // who the page acts as is settled (tests and scripts wait on it)
    applyRole();
  }
  // Who the page acts as: asked of the server each time (never remembered in the browser).
  function loadSession() {
    var useToken = !!token() && !g.badToken;
    return send("/map/session", {}, useToken).then(function (r) {
      if (r.status === 401 && useToken) { tokenRefused(); return send("/map/session", {}, false).then(parse); }
      return parse(r);
    }).then(showWho).catch(function (e) { showWho({ user: null, role: null }); status(e.message); });
  }
  function allowed(roles) { return g.role === "admin" || roles.split(",").indexOf(g.role) >= 0; }
  function applyRole() {
    document.querySelectorAll(".needs-role").forEach(function (el) { el.hidden = !allowed(el.dataset.roles); });
    document.querySelectorAll(".role-missing").forEach(function (el) { el.hidden = allowed(el.dataset.roles); });
    document.dispatchEvent(new CustomEvent("geoservice:session"));
  }
  function useToken(text) {
    var t = normalise(text);
    if (t) localStorage.setItem(KEY, t); else localStorage.removeItem(KEY);
    $("token").value = t;
    g.badToken = false;
    $("token-banner").hidden = true;
    document.body.classList.remove("has-banner");
    return loadSession().then(function () { document.dispatchEvent(new CustomEvent("geoservice:token")); });
  }

  $("token").value = token();
  $("token-form").addEventListener("submit", function (ev) { ev.preventDefault(); useToken($("token").value); });
  $("token").addEventListener("change", function () { useToken($("token").value); });
  $("token-clear").addEventListener("click", function () { useToken(""); status("令牌已清除 / token cleared: reading as a guest"); });
  $("token-replace").addEventListener("click", function () { $("token").value = ""; $("token").focus(); });
  // A token revoked while the page is open: asked again when the page comes back into view.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) loadSession(); });

  // An action's own result box: cleared when the action starts, its answer or error shown next to its button.
  function resultBox(id) {
    var box = $(id);
    return {
      clear: function () { box.innerHTML = ""; },
      ok: function (html) { box.innerHTML = "<div class='ok'>" + html + "</div>"; reveal(box); },
      html: function (html) { box.innerHTML = html; reveal(box); },
      fail: function (err) {
        box.innerHTML = "<div class='issue'>" + (err.status ? "<b>" + esc(err.status) + "</b> " : "") + esc(err.message) + "</div>";
        reveal(box);
      }
    };
  }
  function reveal(el) { if (el.scrollIntoView) el.scrollIntoView({ block: "nearest" }); }

  // A file the API answers only with the token (an officer's batch result): fetched, then saved by the browser.
  function download(path, filename) {
    return send(path, { headers: { "Accept": "*/*" } }, !!token() && !g.badToken).then(function (r) {
      if (!r.ok) return parse(r);
      return r.blob().then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob); a.download = filename;
        document.body.appendChild(a); a.click(); a.remove();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
      });
    });
  }

  Object.assign(g, {
    api: api, download: download, esc: esc, status: status, token: token, normalise: normalise, loadSession: loadSession,
    allowed: allowed, applyRole: applyRole, resultBox: resultBox,
    fail: function (err) { status((err.status ? err.status + " " : "") + err.message); }
  });
  applyRole();
  document.addEventListener("DOMContentLoaded", loadSession);  // after the other scripts have listened
})();
