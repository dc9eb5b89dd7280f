/**
 * What every page gets on top of its server-rendered HTML (loaded with `defer` by base.html; every
 * action still works without it):
 *  - one-time form tokens that survive the browser's Back (see keepFormTokens);
 *  - file sizes checked against the limit before sending (data-max-bytes on a file input);
 *  - live notices without reloading (live.js) and the inbox's keyboard (keys.js).
 */
import { startLive } from './live.js';
import { startKeys } from './keys.js';

/**
 * Back after "Send", then Send again, must find the case the first sending opened. Why it did not in
 * Chromium: our pages answer with `Vary: Cookie`, and sending the form changes the session cookie
 * (the flash message), so on Back the HTTP cache's copy of the form no longer matches and is not
 * used; nor is the back/forward cache (the headless browser has none, and a page keeping a live
 * connection is not kept). The form is fetched anew with a NEW token; Chromium restores the typed
 * fields into it from the history entry's form state, but not a hidden input's server-set value:
 * the second sending looked like a new form. So each history entry remembers its form's token in
 * history.state (kept with the entry across reloads and Back) and puts it back when the page is
 * shown again. Without this script the server asks before opening the same text twice.
 */
function keepFormTokens(root) {
  const inputs = Array.from(root.querySelectorAll('input[type=hidden][name=form_token]'));
  if (!inputs.length || !window.history || !window.history.replaceState) return;
  const state = (window.history.state && typeof window.history.state === 'object') ? window.history.state : {};
  const kept = Array.isArray(state.formTokens) ? state.formTokens : null;
  if (kept && kept.length === inputs.length) {
    inputs.forEach((input, i) => { if (/^[0-9a-f]{32}$/.test(kept[i])) input.value = kept[i]; });
  } else {
    window.history.replaceState({ ...state, formTokens: inputs.map((input) => input.value) }, '');
  }
}

/** A file larger than its input's data-max-bytes is named beside the field before sending. */
function checkFileSizes(root) {
  root.querySelectorAll('input[type=file][data-max-bytes]').forEach((input) => {
    const limit = Number(input.dataset.maxBytes);
    const note = document.getElementById(input.dataset.sizeNote || '');
    input.addEventListener('change', () => {
      const big = Array.from(input.files || []).filter((f) => f.size > limit).map((f) => f.name);
      if (!note) return;
      note.hidden = big.length === 0;
      note.textContent = big.length ? `${input.dataset.tooLarge} ${big.join(', ')}` : '';
      input.setAttribute('aria-invalid', big.length ? 'true' : 'false');
    });
  });
}

function start() {
  keepFormTokens(document);
  checkFileSizes(document);
  startLive(document);
  startKeys(document);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
