/**
 * caseflow's task forms: each conditional field is shown only when it applies.
 *
 * The server renders every field of a task's form (web/templates/_fields.html); a field that the
 * form's JSON schema requires only in some situations carries them as
 *   data-show-when='[{"outcome": "resolved"}, ...]'   (any of them; each: field -> submitted value)
 * This script hides such a field while none holds and disables its inputs, so what does not apply
 * is not sent. Without the script every field shows with its "Required when …" hint, and the
 * schema on the server decides what is required either way.
 *
 *   Caseflow.forms.update(form)   re-evaluate the fields of one form
 *   Caseflow.forms.mountAll(root) wire every form holding a [data-show-when] field (on page load)
 */

/** The value a field would submit now ('' when none or disabled). */
function valueOf(form, name) {
  for (const input of form.elements) {
    if (input.name !== name || input.disabled) continue;
    if (input.type === 'radio' || input.type === 'checkbox') {
      if (input.checked) return input.value;
    } else {
      return input.value;
    }
  }
  return '';
}

function applies(form, situations) {
  return situations.some((when) => Object.entries(when).every(([name, value]) => valueOf(form, name) === value));
}

export function update(form) {
  const blocks = [...form.querySelectorAll('[data-show-when]')];
  // a field may depend on a field that is itself conditional: repeat until nothing changes
  for (let round = 0; round <= blocks.length; round += 1) {
    let changed = false;
    for (const block of blocks) {
      let situations;
      try {
        situations = JSON.parse(block.dataset.showWhen);
      } catch {
        continue;
      }
      if (!Array.isArray(situations) || situations.length === 0) continue;
      const show = applies(form, situations);
      if (show === block.hidden) {
        block.hidden = !show;
        block.querySelectorAll('input, select, textarea').forEach((el) => { el.disabled = !show; });
        changed = true;
      }
    }
    if (!changed) break;
  }
}

export function mountAll(root = document) {
  const forms = new Set([...root.querySelectorAll('[data-show-when]')].map((el) => el.closest('form')).filter(Boolean));
  for (const form of forms) {
    update(form);
    form.addEventListener('change', () => update(form));
    form.addEventListener('input', () => update(form));
    form.dataset.conditional = 'ready';
  }
}

window.Caseflow = { ...(window.Caseflow || {}), forms: { update, mountAll } };
if (typeof document !== 'undefined') {
  document.addEventListener('DOMContentLoaded', () => mountAll());
}
