// Keyboard shortcuts for the queue: j/k move between rows, x selects, a approves, e edits, r focuses the reject reason.
(function () {
  "use strict";
  let current = null;

  function rows() {
    return Array.from(document.querySelectorAll("#queue-rows article.action"));
  }

  function select(row) {
    if (!row) return;
    if (current) current.classList.remove("current");
    current = row;
    row.classList.add("current");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const index = current && document.contains(current) ? all.indexOf(document.getElementById(current.id)) : -1;
    select(all[Math.min(Math.max(index + step, 0), all.length - 1)]);
  }

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest("input, textarea, select, [contenteditable]")) {
      if (event.key === "Escape") target.blur();
      return;
    }
    // A swapped row is a new element: find the current one again by its id.
    if (current && !document.contains(current)) current = document.getElementById(current.id);
    const key = event.key;
    if (key === "j") return move(1);
    if (key === "k") return move(-1);
    if (!current) return;
    if (key === "x") {
      const box = current.querySelector("input[type=checkbox]");
      if (box) box.checked = !box.checked;
    } else if (key === "a") {
      const approve = current.querySelector("[data-key=a]");
      if (approve) approve.click();
    } else if (key === "e") {
      const edit = current.querySelector("[data-key=e]");
      if (edit) edit.click();
    } else if (key === "r") {
      const reason = current.querySelector("[data-key=r]");
      if (reason) {
        event.preventDefault();
        reason.focus();
      }
    } else {
      return;
    }
  });

  // A row swapped in (after Edit, a decision or a poll) is a new element: keep the cursor and the marker on it.
  document.body.addEventListener("htmx:load", function (event) {
    const element = event.detail.elt;
    if (!element.querySelector) return;
    const area = element.querySelector("textarea[name=body]");
    if (area) area.focus();
    if (current && current.id && element.id === current.id) {
      current = element;
      element.classList.add("current");
    }
  });
})();
