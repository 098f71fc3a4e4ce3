/*
 * Nightshift web chat. Embed on any page:
 *   <script src="https://YOUR-NIGHTSHIFT/static/js/chat.js" data-nightshift-chat="WIDGET-SLUG" async></script>
 * Opens a chat box; the first message asks how to reach the visitor (phone or email). Replies
 * arrive by polling while the box is open. The conversation token stays in localStorage, so a
 * visitor who comes back sees the same conversation.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-nightshift-chat]");
  if (!script) return;
  var slug = script.getAttribute("data-nightshift-chat");
  var base = new URL(script.src, window.location.href).origin + "/integrations/chat/" + encodeURIComponent(slug) + "/";
  var storeKey = "nightshift-chat:" + slug;
  var state = JSON.parse(window.localStorage.getItem(storeKey) || "{}");
  var pollTimer = null;
  var POLL_MS = Number(script.getAttribute("data-poll-ms")) || 5000;

  function save() { window.localStorage.setItem(storeKey, JSON.stringify(state)); }
  function id() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  var style = el("style", {}, [
    ".ns-chat-button{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;",
    "padding:12px 18px;background:#1f4fd1;color:#fff;font:15px system-ui,sans-serif;cursor:pointer}",
    ".ns-chat-box{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:320px;max-height:480px;",
    "display:flex;flex-direction:column;background:#fff;border:1px solid #ccd;border-radius:10px;",
    "box-shadow:0 6px 24px rgba(0,0,0,.18);font:14px system-ui,sans-serif;color:#222}",
    ".ns-chat-box[hidden]{display:none}.ns-chat-log{flex:1;overflow:auto;padding:10px;min-height:120px}",
    ".ns-msg{margin:6px 0;padding:7px 10px;border-radius:8px;max-width:85%;white-space:pre-wrap}",
    ".ns-us{background:#eef2ff}.ns-you{background:#1f4fd1;color:#fff;margin-left:auto}",
    ".ns-chat-form{display:flex;flex-direction:column;gap:6px;padding:10px;border-top:1px solid #eee}",
    ".ns-chat-form input,.ns-chat-form textarea{font:inherit;padding:6px;border:1px solid #ccd;border-radius:6px}",
    ".ns-error{color:#b00020;font-size:13px;margin:0}.ns-error:empty{display:none}",
    ".ns-consent{font-size:12px;color:#444;display:flex;gap:6px;align-items:flex-start}.ns-consent[hidden]{display:none}"
  ].join(""));
  var button = el("button", { type: "button", "class": "ns-chat-button", "aria-expanded": "false" }, "Chat with us");
  var box = el("section", { "class": "ns-chat-box", role: "dialog", "aria-label": "Chat", hidden: "" });
  var log = el("div", { "class": "ns-chat-log", "aria-live": "polite" });
  var form = el("form", { "class": "ns-chat-form" });
  var name = el("input", { name: "name", placeholder: "Your name", autocomplete: "name" });
  var contact = el("input", { name: "contact", placeholder: "Phone or email, so we can reply", required: "" });
  var text = el("textarea", { name: "text", rows: "2", placeholder: "Your message", required: "", maxlength: "2000" });
  var consent = el("input", { type: "checkbox", name: "consent" });
  var consentText = el("span", {}, "");
  var consentLabel = el("label", { "class": "ns-consent", hidden: "" }, "");
  consentLabel.append(consent, " ", consentText);
  var error = el("p", { "class": "ns-error", role: "alert" });
  var send = el("button", { type: "submit" }, "Send");
  form.append(name, contact, text, consentLabel, error, send);
  box.append(log, form);

  function show(body, who) {
    log.appendChild(el("p", { "class": "ns-msg " + (who === "you" ? "ns-you" : "ns-us") }, body));
    log.scrollTop = log.scrollHeight;
  }
  function knownContact() {
    var started = Boolean(state.conversation);
    name.hidden = contact.hidden = started;
    consentLabel.hidden = started || !state.consentText;
    if (started) contact.removeAttribute("required"); else contact.setAttribute("required", "");
  }
  function request(method, url, body) {
    return fetch(url, {
      method: method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      credentials: "omit"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, status: response.status, data: data }; });
    });
  }
  function poll() {
    if (!state.conversation) return;
    var url = base + "messages/?conversation=" + encodeURIComponent(state.conversation) + "&after=" + (state.after || 0);
    request("GET", url).then(function (answer) {
      if (answer.status === 404) { state = {}; save(); knownContact(); return; }
      (answer.data.messages || []).forEach(function (m) { show(m.body, "us"); state.after = m.id; });
      save();
    }).catch(function () { /* offline for a moment: the next poll tries again */ });
  }
  function firstError(data) {
    var keys = Object.keys(data || {});
    if (!keys.length) return "Something went wrong; please try again.";
    var value = data[keys[0]];
    return (Array.isArray(value) ? value[0] : value) || "Please check your message.";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.textContent = "";
    var body = { client_id: id(), text: text.value.trim() };
    if (!body.text) return;
    if (state.conversation) body.conversation = state.conversation;
    else {
      body.name = name.value.trim();
      var reach = contact.value.trim();
      if (reach.indexOf("@") > -1) body.email = reach; else body.phone = reach;
      if (consent.checked && state.consentText) {
        body.consent = true;
        body.consent_text = state.consentText;
        body.consent_version = state.consentVersion;
      }
    }
    send.disabled = true;
    request("POST", base + "messages/", body).then(function (answer) {
      if (!answer.ok) { error.textContent = firstError(answer.data); return; }
      state.conversation = answer.data.conversation;
      save();
      show(body.text, "you");
      text.value = "";
      knownContact();
    }).catch(function () {
      error.textContent = "Could not send; check your connection and try again.";
    }).then(function () { send.disabled = false; });
  });

  button.addEventListener("click", function () {
    var opening = box.hasAttribute("hidden");
    if (opening) box.removeAttribute("hidden"); else box.setAttribute("hidden", "");
    button.setAttribute("aria-expanded", String(opening));
    window.clearInterval(pollTimer);
    if (opening) {
      poll();
      pollTimer = window.setInterval(poll, POLL_MS);
      text.focus();
    }
  });

  request("GET", base).then(function (answer) {
    if (!answer.ok) return;
    show(answer.data.greeting, "us");
    state.consentText = answer.data.consent_text || "";
    state.consentVersion = answer.data.consent_version || "";
    consentText.textContent = state.consentText;
    knownContact();
    document.head.appendChild(style);
    document.body.append(button, box);
  });
})();
