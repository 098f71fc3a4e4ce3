// An SMS editor's look-alike buttons (templates/approvals/sms_count.html): replace the character that makes the
// text UCS-2 with its GSM-7 twin, then let the textarea's own "input" trigger ask the server for the new count.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-sms-from]");
    if (!button) return;
    const count = button.closest("[data-sms-field]");
    const field = count && document.getElementById(count.dataset.smsField);
    if (!field) return;
    field.value = field.value.split(button.dataset.smsFrom).join(button.dataset.smsTo);
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.focus();
  });
})();
