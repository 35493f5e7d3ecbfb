// scimgate pages: the token dialog (modal, Copy, Close), the token confirmation, delete confirmations, "Back" links,
// tooltips kept on screen, local time on hover.
// Loaded from /assets (the Content-Security-Policy admits no inline script).
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // A dialog rendered open by the server becomes modal (focus stays inside, Esc closes it).
  document.querySelectorAll("dialog[data-modal][open]").forEach((dialog) => {
    dialog.close();
    dialog.showModal();
    const first = dialog.querySelector("[data-copy-target]") || dialog.querySelector("button[type=submit]");
    if (first) first.focus();
    const leave = dialog.querySelector("[data-close-dialog]");
    // Closing (Close button or Esc) reloads the page without the token, replacing the history
    // entry, so neither the page nor Back shows the token again.
    dialog.addEventListener("close", () => {
      // The close() above queues a close event too, delivered while the modal is open: skip it.
      if (!dialog.open && leave) window.location.replace(leave.href);
    });
    if (leave) {
      leave.addEventListener("click", (event) => {
        event.preventDefault();
        dialog.close();
      });
    }
  });

  // Generate Token while a token is in use: ask first in a modal dialog (Esc or Cancel keep the
  // current token). The dialog's own form posts confirm=yes; the server asks again without it.
  document.querySelectorAll("form[data-confirm-dialog]").forEach((form) => {
    const dialog = document.getElementById(form.dataset.confirmDialog);
    if (!dialog) return;
    const months = dialog.querySelector("[data-confirm-months]");
    const cancel = dialog.querySelector("[data-close-dialog]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = form.querySelector("select[name=months]");
      if (months && chosen) months.value = chosen.value;
      if (!dialog.open) dialog.showModal();
      const confirm = dialog.querySelector("button[type=submit]");
      if (confirm) confirm.focus();
    });
    if (cancel && !dialog.hasAttribute("data-modal")) {
      cancel.addEventListener("click", (event) => {
        event.preventDefault();
        dialog.close();
        const submit = form.querySelector("button[type=submit]");
        if (submit) submit.focus();
      });
    }
  });

  document.querySelectorAll("[data-copy-target]").forEach((button) => {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copyTarget);
      const status = document.getElementById(button.dataset.copyStatus || "");
      const say = (text) => { if (status) status.textContent = text; };
      try {
        await navigator.clipboard.writeText(field.value);
        say("Copied to the clipboard.");
      } catch (err) {
        field.focus();
        field.select();
        const copied = document.execCommand && document.execCommand("copy");
        say(copied ? "Copied to the clipboard." : "Could not copy: the token is selected, press Ctrl+C.");
      }
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // A tooltip opens below the control it explains (never over it) and is moved sideways just enough
  // to stay on screen, so it never widens the page either.
  document.querySelectorAll(".has-tip").forEach((holder) => {
    const tip = holder.querySelector(".tip");
    if (!tip) return;
    const place = () => {
      tip.style.left = "0px";
      tip.style.display = "block";
      const margin = 8;
      const room = document.documentElement.clientWidth - margin;
      const bounds = tip.getBoundingClientRect();
      let shift = 0;
      if (bounds.right > room) shift = room - bounds.right;
      if (bounds.left + shift < margin) shift = margin - bounds.left;
      tip.style.left = `${shift}px`;
      tip.style.display = "";
    };
    holder.addEventListener("mouseenter", place);
    holder.addEventListener("focusin", place);
  });

  // Times are written in UTC (<time datetime="ISO 8601">); hovering one shows the reader's local time.
  const local = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    second: "2-digit", timeZoneName: "short" };
  document.querySelectorAll("time[datetime]").forEach((time) => {
    const moment = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) time.title = `Your local time: ${moment.toLocaleString(undefined, local)}`;
  });

  document.querySelectorAll("a[data-back]").forEach((link) => {
    if (window.history.length > 1) {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        window.history.back();
      });
    }
  });
});
