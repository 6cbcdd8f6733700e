/*! Keuze banner: asks only what must be asked, and nothing most of the time.
 * Embed: <script src="https://your.site/banner.js" defer></script>  (data-lang="nl" optional)
 * API: keuze.decide(purpose) -> Promise<boolean>; keuze.open(); event "keuze:change" on document.
 * IAB TCF: when Keuze makes TC strings, __tcfapi (CMP API v2: ping, addEventListener,
 * removeEventListener, getTCData) and the __tcfapiLocator frame for vendors in iframes. */
(function () {
  "use strict";
  var w = window, d = document, me = d.currentScript;
  var base = me && me.src ? me.src.replace(/\/banner\.js(\?.*)?$/, "") : "";
  var lang = (me && me.getAttribute("data-lang")) || d.documentElement.lang || "";
  var gpc = navigator.globalPrivacyControl === true;
  var SIGNALS = ["ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
    "functionality_storage", "personalization_storage", "security_storage"];
  var state = null, root = null, back = null;

  function gtag() {
    if (typeof w.gtag === "function") w.gtag.apply(w, arguments);
  }

  // Google Consent Mode v2: everything denied until Keuze answers.
  var denied = { wait_for_update: 500 };
  SIGNALS.forEach(function (s) { denied[s] = "denied"; });
  gtag("consent", "default", denied);

  function call(method, path, body) {
    var h = { "X-Keuze-Banner": "1" };
    if (gpc) h["X-Keuze-GPC"] = "1";
    if (body) h["Content-Type"] = "application/json";
    return fetch(base + path, {
      method: method, headers: h, credentials: "same-origin",
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      if (!r.ok) throw new Error("keuze: " + method + " " + path + " answered " + r.status);
      return r.json();
    });
  }

  function apply(r) {
    state.decisions = r.decisions;
    state.consent_mode = r.consent_mode;
    gtag("consent", "update", r.consent_mode);
  }

  function load() {
    return call("GET", "/v1/banner/prompt?lang=" + encodeURIComponent(lang)).then(function (p) {
      state = p;
      apply(p);
      tcfUpdate(p.tcf, p.ask.length ? "cmpuishown" : "tcloaded");
      if (p.ask.length) whenReady(function () { show(p.ask, false); });
      return p;
    });
  }

  // --- IAB TCF CMP API v2: vendors on the page read the customer's own choices ---
  // The server sends TCData with every answer when it makes TC strings; without it the
  // page has no __tcfapi. Calls made before the first answer (here or in a publisher's
  // stub, __tcfapi.a) wait for it.
  var tcf = { data: null, known: false, event: null, listeners: {}, next: 1, waiting: [] };
  var stub = typeof w.__tcfapi === "function" && w.__tcfapi.a;
  if (stub) Array.prototype.push.apply(tcf.waiting, stub);

  function tcData(listenerId, vendorIds) {
    var out = {};
    for (var k in tcf.data) out[k] = tcf.data[k];
    out.eventStatus = tcf.event;
    out.cmpStatus = "loaded";
    out.listenerId = listenerId;
    if (Array.isArray(vendorIds)) {
      var pick = function (all) {
        var o = {};
        vendorIds.forEach(function (id) { if (String(id) in all) o[id] = all[id]; });
        return o;
      };
      out.vendor = {
        consents: pick(tcf.data.vendor.consents),
        legitimateInterests: pick(tcf.data.vendor.legitimateInterests)
      };
    }
    return out;
  }

  function ping() {
    var t = tcf.data;
    return {
      gdprApplies: t ? t.gdprApplies : undefined, cmpLoaded: true,
      cmpStatus: t ? "loaded" : "loading", displayStatus: root ? "visible" : (t ? "hidden" : "hidden"),
      apiVersion: "2.2", cmpVersion: t ? t.cmpVersion : undefined, cmpId: t ? t.cmpId : undefined,
      gvlVersion: t ? t.gvlVersion : undefined, tcfPolicyVersion: t ? t.tcfPolicyVersion : undefined
    };
  }

  function tcfapi(command, version, callback, parameter) {
    if (typeof callback !== "function") return;
    if (command === "ping") { callback(ping(), true); return; }
    if (!tcf.known) { tcf.waiting.push([command, version, callback, parameter]); return; }
    if (!tcf.data || (version !== undefined && version !== null && version < 2)) {
      callback(null, false);
      return;
    }
    if (command === "addEventListener") {
      var id = tcf.next++;
      tcf.listeners[id] = callback;
      callback(tcData(id), true);
    } else if (command === "removeEventListener") {
      var had = parameter in tcf.listeners;
      delete tcf.listeners[parameter];
      callback(had);
    } else if (command === "getTCData") {
      callback(tcData(undefined, parameter), true);
    } else {
      callback(null, false);
    }
  }

  function tcfUpdate(data, event) {
    var first = !tcf.known;
    tcf.known = true;
    tcf.data = data || null;
    if (!tcf.data) {
      if (w.__tcfapi === tcfapi) delete w.__tcfapi;
    } else {
      tcf.event = event;
      if (first) whenReady(locator);
      for (var id in tcf.listeners) tcf.listeners[id](tcData(Number(id)), true);
    }
    var waiting = tcf.waiting;
    tcf.waiting = [];
    waiting.forEach(function (a) { tcfapi.apply(null, a); });
  }

  // Vendors in iframes find the CMP through a frame named __tcfapiLocator and talk to it
  // with postMessage.
  function locator() {
    if (w.frames.__tcfapiLocator) return;
    var f = d.createElement("iframe");
    f.name = "__tcfapiLocator";
    f.hidden = true;
    f.style.display = "none";
    f.setAttribute("aria-hidden", "true");
    f.setAttribute("tabindex", "-1");
    d.body.appendChild(f);
  }

  w.__tcfapi = tcfapi;
  w.addEventListener("message", function (e) {
    var json = typeof e.data === "string", msg = e.data;
    if (json) { try { msg = JSON.parse(e.data); } catch (x) { return; } }
    var c = msg && msg.__tcfapiCall;
    if (!c || !e.source || w.__tcfapi !== tcfapi) return;
    tcfapi(c.command, c.version, function (value, success) {
      var reply = { __tcfapiReturn: { returnValue: value, success: success, callId: c.callId } };
      e.source.postMessage(json ? JSON.stringify(reply) : reply, "*");
    }, c.parameter);
  });

  function whenReady(f) {
    if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", f);
    else f();
  }

  // --- styles: a constructed sheet, so a strict Content-Security-Policy allows it ---
  var CSS =
    ".kz-root{position:fixed;left:0;right:0;bottom:0;z-index:2147483000;display:flex;justify-content:center;padding:.75rem;pointer-events:none}" +
    ".kz{pointer-events:auto;box-sizing:border-box;width:100%;max-width:40rem;max-height:calc(100vh - 1.5rem);overflow:auto;" +
    "background:#fff;color:#1b1b1b;border:1px solid #6b6b6b;border-radius:.6rem;box-shadow:0 .3rem 1.5rem rgba(0,0,0,.3);" +
    "padding:1rem 1.25rem;font:1rem/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;text-align:left}" +
    ".kz *{box-sizing:border-box;font:inherit;color:inherit;margin:0}" +
    ".kz h2{font-size:1.2rem;font-weight:700;margin-bottom:.4rem}" +
    ".kz p{margin-bottom:.6rem}" +
    ".kz a{color:#0b4fb3;text-decoration:underline}" +
    ".kz-row{display:grid;grid-template-columns:repeat(3,1fr);gap:.6rem;margin:.8rem 0 .6rem}" +
    ".kz-row.kz-two{grid-template-columns:repeat(2,1fr)}" +
    "@media (max-width:30rem){.kz-row,.kz-row.kz-two{grid-template-columns:1fr}}" +
    ".kz .kz-btn{display:block;width:100%;min-height:2.75rem;padding:.5rem .75rem;border:2px solid #14365d;border-radius:.4rem;" +
    "background:#14365d;color:#fff;font-weight:700;cursor:pointer;text-align:center}" +
    ".kz .kz-btn:hover{background:#0d2542}" +
    ".kz :focus-visible{outline:3px solid #c75300;outline-offset:2px}.kz:focus{outline:none}" +
    ".kz ul{list-style:none;padding:0;margin:.5rem 0}" +
    ".kz li{display:flex;gap:1rem;align-items:flex-start;justify-content:space-between;padding:.6rem 0;border-top:1px solid #c8c8c8}" +
    ".kz h3{font-size:1rem;font-weight:700}" +
    ".kz li p{margin:.15rem 0 0;font-size:.95rem}.kz strong{font-weight:700}" +
    ".kz .kz-sw{flex:none;display:inline-flex;align-items:center;gap:.4rem;min-width:5.5rem;min-height:2.75rem;padding:.25rem .5rem;" +
    "border:2px solid #474747;border-radius:1.5rem;background:#fff;color:#1b1b1b;cursor:pointer;font-weight:700}" +
    ".kz .kz-sw::before{content:'';width:1.1rem;height:1.1rem;border-radius:50%;background:#474747}" +
    ".kz .kz-sw[aria-checked=true]{flex-direction:row-reverse;justify-content:flex-end;background:#14365d;border-color:#14365d;color:#fff}" +
    ".kz .kz-sw[aria-checked=true]::before{background:#fff}" +
    "@media (prefers-color-scheme:dark){.kz{background:#1e1e1e;color:#ececec;border-color:#8a8a8a}.kz a{color:#9cc2ff}" +
    ".kz li{border-color:#555}.kz .kz-btn{background:#9cc2ff;border-color:#9cc2ff;color:#0b0b0b}.kz .kz-btn:hover{background:#c3dbff}" +
    ".kz .kz-sw{background:#1e1e1e;color:#ececec;border-color:#c2c2c2}.kz .kz-sw::before{background:#c2c2c2}" +
    ".kz .kz-sw[aria-checked=true]{background:#9cc2ff;border-color:#9cc2ff;color:#0b0b0b}.kz .kz-sw[aria-checked=true]::before{background:#0b0b0b}" +
    ".kz :focus-visible{outline-color:#ffb36b}}";
  var styled = false;

  function style() {
    if (styled) return;
    styled = true;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      d.adoptedStyleSheets = d.adoptedStyleSheets.concat([sheet]);
    } catch (e) {
      d.head.appendChild(el("style", {}, [CSS]));
    }
  }

  // --- the dialog ---
  function el(tag, attrs, kids) {
    var e = d.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    (kids || []).forEach(function (c) {
      if (c) e.appendChild(typeof c === "string" ? d.createTextNode(c) : c);
    });
    return e;
  }

  function button(text, onClick, attrs) {
    var b = el("button", attrs || { type: "button", "class": "kz-btn" }, [text]);
    b.addEventListener("click", onClick);
    return b;
  }

  function dialog(kids) {
    var t = state.texts;
    var box = el("div", {
      "class": "kz", role: "dialog", "aria-modal": "false", "aria-labelledby": "kz-title",
      "aria-describedby": "kz-intro", tabindex: "-1"
    }, [el("h2", { id: "kz-title" }, [t.title])].concat(kids));
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && box.getAttribute("data-layer") === "2") {
        e.preventDefault();
        leave();
      }
    });
    if (!root) {
      root = el("div", { "class": "kz-root", id: "keuze-banner" });
      d.body.appendChild(root);
    }
    root.textContent = "";
    root.appendChild(box);
    box.focus();
    return box;
  }

  function show(ask, choosing) {
    style();
    var t = state.texts;
    if (!back) back = d.activeElement;
    if (!choosing) {
      state.shown = ask;
      var box = dialog([
        el("p", { id: "kz-intro" }, [t.intro]),
        t.gpc ? el("p", {}, [t.gpc]) : null,
        el("div", { "class": "kz-row" }, [
          button(t.accept_all, function () { save({ all: "accept" }); }),
          button(t.reject_all, function () { save({ all: "reject" }); }),
          button(t.choose, function () { show(ask, true); })
        ]),
        el("p", {}, [el("a", { href: base + t.more_href }, [t.more])])
      ]);
      box.setAttribute("data-layer", "1");
      return;
    }
    var switches = ask.map(function (q) {
      var on = q.allowed === true;
      var sw = el("button", {
        type: "button", role: "switch", "class": "kz-sw", "aria-checked": String(on),
        "aria-labelledby": "kz-t-" + q.purpose, "aria-describedby": "kz-d-" + q.purpose,
        "data-purpose": q.purpose
      }, [on ? t.on : t.off]);
      sw.addEventListener("click", function () {
        var now = sw.getAttribute("aria-checked") !== "true";
        sw.setAttribute("aria-checked", String(now));
        sw.textContent = now ? t.on : t.off;
      });
      return el("li", {}, [
        el("div", {}, [
          el("h3", { id: "kz-t-" + q.purpose }, [q.title]),
          el("div", { id: "kz-d-" + q.purpose }, [
            el("p", {}, [q.description]),
            q.benefit ? el("p", {}, [el("strong", {}, [t.benefit]), " " + q.benefit]) : null
          ])
        ]),
        sw
      ]);
    });
    var list = el("ul", {}, switches);
    var box2 = dialog([
      el("p", { id: "kz-intro" }, [t.choose_intro]),
      list,
      el("div", { "class": "kz-row kz-two" }, [
        button(t.save, function () {
          save({
            choices: Array.prototype.map.call(list.querySelectorAll("[role=switch]"), function (s) {
              return {
                purpose: s.getAttribute("data-purpose"),
                action: s.getAttribute("aria-checked") === "true" ? "grant" : "withdraw"
              };
            })
          });
        }),
        button(t.back, leave)
      ]),
      el("p", {}, [el("a", { href: base + t.more_href }, [t.more])])
    ]);
    box2.setAttribute("data-layer", "2");
  }

  // Back from the switches: to the first layer, or away when opened with keuze.open().
  function leave() {
    if (state.opened) close();
    else show(state.shown, false);
  }

  function close() {
    if (root) root.remove();
    root = null;
    if (back && back.focus && d.contains(back)) back.focus();
    back = null;
  }

  function save(body) {
    body.locale = state.locale;
    body.catalog_version = state.catalog_version;
    return call("POST", "/v1/banner/choices", body).then(function (r) {
      apply(r);
      close();
      tcfUpdate(r.tcf, "useractioncomplete");
      d.dispatchEvent(new CustomEvent("keuze:change", {
        detail: { decisions: r.decisions, consent_mode: r.consent_mode }
      }));
    }, function () {
      // The notice may have changed meanwhile (409): ask again from what is current.
      close();
      return load();
    });
  }

  var ready = load();
  ready.catch(function (e) {
    if (w.console) w.console.warn(e);
    if (!tcf.known) tcfUpdate(null);
  });

  w.keuze = {
    // May this visitor's data be used for `purpose`? False until Keuze says yes.
    decide: function (purpose) {
      return ready.then(function () {
        if (state.decisions && purpose in state.decisions) return state.decisions[purpose] === true;
        return call("GET", "/v1/banner/decide?purpose=" + encodeURIComponent(purpose))
          .then(function (r) { return r.allowed === true; });
      }).catch(function () { return false; });
    },
    // Opens the switches for every consent purpose: changing one's mind is as easy.
    open: function () {
      return ready.then(function () {
        return call("GET", "/v1/banner/prompt?lang=" + encodeURIComponent(lang));
      }).then(function (p) {
        state = p;
        state.opened = true;
        apply(p);
        show(p.purposes, true);
        tcfUpdate(p.tcf, "cmpuishown");
      });
    }
  };

  d.addEventListener("click", function (e) {
    var t = e.target && e.target.closest && e.target.closest("[data-keuze-open]");
    if (t) {
      e.preventDefault();
      w.keuze.open();
    }
  });
})();
