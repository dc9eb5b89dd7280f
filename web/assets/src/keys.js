/**
 * The inbox's keyboard (the table #tasks carries data-keys): j / k move to the next / previous task
 * (its link gets the focus, so Enter opens it, as any link), c claims the focused task (its row's
 * claim form), x selects it for the supervisors' bulk form, / goes to the search field. Keys typed
 * into a field are the field's. The hint #keys-hint is shown only when the keys work.
 */
export function startKeys(root) {
  const table = root.querySelector('table[data-keys]');
  if (!table) return;
  const hint = root.getElementById('keys-hint');
  if (hint) hint.hidden = false;
  const rows = () => Array.from(table.querySelectorAll('tbody tr'));
  let current = -1;

  function focus(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((row, i) => row.classList.toggle('current', i === current));
    const link = all[current].querySelector('a');
    if (link) link.focus();
  }

  table.addEventListener('focusin', (event) => {
    const index = rows().findIndex((row) => row.contains(event.target));
    if (index >= 0) {
      current = index;
      rows().forEach((row, i) => row.classList.toggle('current', i === current));
    }
  });

  root.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const row = rows()[current];
    switch (event.key) {
      case 'j': focus(current + 1); break;
      case 'k': focus(current < 0 ? 0 : current - 1); break;
      case '/': {
        const search = root.getElementById('f-q');
        if (!search) return;
        search.focus();
        search.select();
        break;
      }
      case 'c': {
        const claim = row && row.querySelector('form[data-claim]');
        if (!claim) return;
        claim.requestSubmit ? claim.requestSubmit() : claim.submit();
        break;
      }
      case 'x': {
        const box = row && row.querySelector('input[type=checkbox][name=row]');
        if (!box) return;
        box.checked = !box.checked;
        break;
      }
      default: return;
    }
    event.preventDefault();
  });
}
