// Gives the keyboard focus back to the control that opened a dialog once the dialog is gone.
// Escape closes a dialog in the browser, which puts the focus back by itself; a dialog's own
// button (Cancel, or the confirming one) closes it by drawing the screen anew, and the browser
// then leaves the focus on the page itself, so a keyboard user starts again from the top.
(() => {
  if (window.__resultsdeskFocusReturn) return;
  window.__resultsdeskFocusReturn = true;
  // The st-key-* class of the control last pressed outside any dialog (keys are stable across
  // the redraw; the element itself is not).
  let opener = null;
  const keyOf = (element) => {
    const holder = element.closest('[class*="st-key-"]');
    return holder ? [...holder.classList].find((name) => name.startsWith('st-key-')) : null;
  };
  const note = (event) => {
    if (event.target instanceof Element && !event.target.closest('[role="dialog"]')) {
      opener = keyOf(event.target);
    }
  };
  document.addEventListener('pointerdown', note, true);
  document.addEventListener('keydown', note, true);
  const lost = () => !document.activeElement || document.activeElement === document.body;
  // For four seconds after the dialog goes: the redraw may replace the control after the
  // browser first put the focus back on it, which drops the focus to the page again.
  const giveBack = (key, tries) => {
    if (lost()) {
      const control = document.querySelector(`.${CSS.escape(key)} button:not([disabled])`);
      if (control) control.focus();
    }
    if (tries > 0) setTimeout(() => giveBack(key, tries - 1), 50);
  };
  let open = false;
  new MutationObserver(() => {
    const now = document.querySelector('[role="dialog"]') !== null;
    if (open && !now && opener) setTimeout(() => giveBack(opener, 80), 0);
    open = now;
  }).observe(document.body, {childList: true, subtree: true});
})();
