/*! Keuze banner: asks only what must be asked, and nothing most of the time.
 * Embed: <script src="https://your.site/banner.js" defer></script>  (data-lang="nl" optional)
 * API: keuze.decide(purpose) -> Promise<boolean>; keuze.open(); event "keuze:change" on document. */
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
      if (p.ask.length) whenReady(function () { show(p.ask, false); });
      return p;
    });
  }

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
  ready.catch(function (e) { if (w.console) w.console.warn(e); });

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
