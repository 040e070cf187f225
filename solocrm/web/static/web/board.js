// solocrm: drag and drop on the deals board (SortableJS, vendored). Without this file every card
// still has its own "Move" form, so the board works without JavaScript and from the keyboard.
//
// A drop POSTs the new stage and the neighbours of the card (above/below) to the card's move URL
// and asks for JSON. The answer carries the fresh card and column heads (rendered and escaped by
// Django), or an error, in which case the card goes back where it was. The board's filters
// (data-filter-* on the board) are sent along so the fresh column totals count what is shown. Dropping on a lost stage
// first asks for the reason in a <dialog>. No inline code, no eval: a strict CSP holds.
(function () {
  "use strict";

  var board = document.querySelector("[data-board]");
  if (!board || board.hasAttribute("data-readonly") || !window.Sortable) { return; }
  var status = document.getElementById("board-status");
  var dialog = document.getElementById("lost-dialog");
  var GENERIC_ERROR = board.getAttribute("data-error") || "The deal could not be moved. Reload the page and try again.";

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  // Message and link are set as text: nothing from the server is parsed as HTML here.
  function say(text, kind, link) {
    status.textContent = "";
    status.className = "board-status message " + (kind || "");
    status.appendChild(document.createTextNode(text + " "));
    if (link && link.url) {
      var anchor = document.createElement("a");
      anchor.href = link.url;
      anchor.textContent = link.label;
      anchor.className = "order-link";
      status.appendChild(anchor);
    }
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // Put a card back where it was before the drop (same column or another one).
  function putBack(evt) {
    var item = evt.item;
    item.parentNode.removeChild(item);
    evt.from.insertBefore(item, evt.from.children[evt.oldIndex] || null);
    item.classList.remove("is-saving");
  }

  function neighbour(element) {
    return element && element.getAttribute ? element.getAttribute("data-deal") || "" : "";
  }

  function send(evt, extra) {
    var item = evt.item;
    var body = new URLSearchParams();
    body.set("stage", evt.to.getAttribute("data-stage"));
    body.set("above", neighbour(item.previousElementSibling));
    body.set("below", neighbour(item.nextElementSibling));
    Object.keys(extra || {}).forEach(function (key) { body.set(key, extra[key]); });
    // The board's filters (owner, search text, stalled) go along: the column totals that come
    // back count the same deals as the columns on screen.
    Object.keys(board.dataset).forEach(function (key) {
      if (key.indexOf("filter") === 0 && key.length > 6) {
        body.set(key.charAt(6).toLowerCase() + key.slice(7), board.dataset[key]);
      }
    });
    item.classList.add("is-saving");
    fetch(item.getAttribute("data-move-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false }; });
    }).then(function (answer) {
      if (!answer.ok) {
        putBack(evt);
        say(answer.error || GENERIC_ERROR, "error");
        return;
      }
      var card = fragment(answer.card);
      item.replaceWith(card);
      Object.keys(answer.columns || {}).forEach(function (stage) {
        var head = document.getElementById("head-" + stage);
        if (head) { head.replaceWith(fragment(answer.columns[stage])); }
      });
      say(answer.message, "success", answer.order_url ? { url: answer.order_url, label: answer.order_label } : null);
    }).catch(function () {
      putBack(evt);
      say(GENERIC_ERROR, "error");
    });
  }

  // The lost reason: the dialog answers once, with the values or null (cancelled).
  function askLostReason(callback) {
    if (!dialog || typeof dialog.showModal !== "function") { callback(null); return; }
    var form = dialog.querySelector("form");
    var reason = form.querySelector("[name=lost_reason]");
    var note = form.querySelector("[name=lost_note]");
    var problem = document.getElementById("lost-dialog-error");
    var answered = false;
    form.reset();
    problem.hidden = true;
    function finish(values) {
      if (answered) { return; }
      answered = true;
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      cancel.removeEventListener("click", onCancel);
      if (dialog.open) { dialog.close(); }
      callback(values);
    }
    function onSubmit(event) {
      event.preventDefault();
      if (!reason.value) { problem.hidden = false; reason.focus(); return; }
      finish({ lost_reason: reason.value, lost_note: note.value });
    }
    function onCancel() { finish(null); }
    function onClose() { finish(null); }
    var cancel = form.querySelector("[data-dialog-cancel]");
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    reason.focus();
  }

  function onEnd(evt) {
    if (evt.from === evt.to && evt.oldIndex === evt.newIndex) { return; }
    var movedColumn = evt.from !== evt.to;
    if (movedColumn && evt.to.getAttribute("data-kind") === "lost") {
      askLostReason(function (values) {
        if (values) { send(evt, values); } else { putBack(evt); }
      });
      return;
    }
    send(evt, {});
  }

  Array.prototype.forEach.call(board.querySelectorAll(".board-cards"), function (list) {
    window.Sortable.create(list, {
      group: "deals",
      draggable: ".deal-card",
      // The card's own controls stay usable: they never start a drag.
      filter: "select, button, summary, input, textarea, label, .deal-card-move",
      preventOnFilter: false,
      // Pointer events instead of native drag and drop: links inside cards do not hijack the
      // drag, touch screens work, and a short press still scrolls the board on a phone.
      forceFallback: true,
      fallbackTolerance: 4,
      delay: 150,
      delayOnTouchOnly: true,
      animation: 150,
      ghostClass: "is-ghost",
      chosenClass: "is-chosen",
      onEnd: onEnd
    });
  });
})();
