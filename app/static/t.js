/*! adpulse tracking snippet. No dependencies. https://github.com/adpulse (Apache-2.0)
 * <script async src="https://TRACKER/t.js" data-pageview="1"></script>
 * data-pageview="1"          send a page view on load
 * data-require-consent="1"   send nothing until adpulse("consent", true)
 * data-click-param="cid"     the landing URL parameter carrying adpulse's click id (default click_id)
 * adpulse("conversion", {txid: "O-1", payout: "49.90", currency: "EUR", event: "purchase"})
 * adpulse("track", "signup", {plan: "pro"}); adpulse("pageview"); adpulse("consent", true|false)
 * Nothing is sent when the browser says Do-Not-Track or Global Privacy Control.
 */
(function (w, d) {
  "use strict";
  var me = d.currentScript || d.querySelector('script[src$="/t.js"]');
  if (!me || (w.adpulse && w.adpulse.loaded)) return;
  var cfg = me.dataset || {};
  var endpoint = (cfg.endpoint || me.src.replace(/\/t\.js(\?.*)?$/, "")) + "/e";
  var clickParam = cfg.clickParam || "click_id";
  var WINDOW_MS = 30 * 24 * 3600 * 1000;
  var KEY = "adpulse_click";
  var KEYS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id",
    "sub1", "sub2", "sub3", "sub4", "sub5", "gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "twclid", "li_fat_id", "epik"];
  var n = w.navigator;

  function optedOut() {
    return n.doNotTrack === "1" || w.doNotTrack === "1" || n.globalPrivacyControl === true;
  }
  function store(name, value) {
    try { if (value === null) w.localStorage.removeItem(name); else w.localStorage.setItem(name, value); } catch (e) { /* private mode */ }
  }
  function load(name) {
    try { return w.localStorage.getItem(name); } catch (e) { return null; }
  }
  function consented() {
    var c = load("adpulse_consent");
    return c === "1" || (c === null && cfg.requireConsent !== "1");
  }
  function uuid() {
    if (w.crypto && w.crypto.randomUUID) return w.crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = Math.random() * 16 | 0; return (c === "x" ? r : (r & 3 | 8)).toString(16);
    });
  }
  // First party memory of the click that brought the visitor, for the attribution window.
  function remembered() {
    var saved = null;
    try { saved = JSON.parse(load(KEY) || "null"); } catch (e) { saved = null; }
    if (!saved) {
      var m = d.cookie.match(/(?:^|; )adpulse_click=([^;]*)/);
      if (m) { try { saved = JSON.parse(decodeURIComponent(m[1])); } catch (e) { saved = null; } }
    }
    return saved && Date.now() - saved.at < WINDOW_MS ? saved : null;
  }
  function capture() {
    var q = new URLSearchParams(w.location.search), found = {}, any = false;
    KEYS.forEach(function (k) { if (q.get(k)) { found[k] = q.get(k); any = true; } });
    if (q.get(clickParam)) { found.click_id = q.get(clickParam); any = true; }
    if (!any || !consented() || optedOut()) return;
    var value = JSON.stringify({ at: Date.now(), p: found });
    store(KEY, value);
    d.cookie = "adpulse_click=" + encodeURIComponent(value) + "; max-age=" + WINDOW_MS / 1000 +
      "; path=/; SameSite=Lax" + (w.location.protocol === "https:" ? "; Secure" : "");
  }
  // First party visitor id (unique clicks and visitors), kept in localStorage; sent as vid.
  function visitor() {
    var v = load("adpulse_vid");
    if (!v) { v = uuid(); store("adpulse_vid", v); }
    return v;
  }
  function send(type, extra) {
    if (optedOut() || !consented()) return false;
    var p = new URLSearchParams(), saved = remembered(), k;
    p.set("type", type);
    p.set("vid", visitor());
    p.set("eid", uuid());
    p.set("ts", String(Date.now()));
    p.set("page_url", w.location.href.slice(0, 2048));
    if (d.referrer) p.set("referrer", d.referrer.slice(0, 2048));
    p.set("consent", "1");
    if (saved) for (k in saved.p) if (!p.has(k)) p.set(k, saved.p[k]);
    for (k in extra || {}) if (extra[k] !== undefined && extra[k] !== null) p.set(k, String(extra[k]));
    var body = p.toString();
    if (n.sendBeacon && n.sendBeacon(endpoint, new Blob([body], { type: "application/x-www-form-urlencoded" }))) return true;
    new Image().src = endpoint + "?" + body;
    return true;
  }
  var api = {
    pageview: function (extra) { return send("page_view", extra); },
    conversion: function (data) { return send("conversion", data); },
    track: function (name, data) { var e = data || {}; e.event = name; return send("custom", e); },
    consent: function (granted) { store("adpulse_consent", granted ? "1" : "0"); if (granted) capture(); }
  };
  function call(args) {
    var f = api[args[0]];
    return f ? f.apply(null, Array.prototype.slice.call(args, 1)) : false;
  }
  var queued = (w.adpulse && w.adpulse.q) || [];
  w.adpulse = function () { return call(arguments); };
  w.adpulse.loaded = true;
  capture();
  if (cfg.pageview === "1") api.pageview();
  queued.forEach(call);
})(window, document);
