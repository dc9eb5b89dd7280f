// The process owner's form editor (web/templates/owner/form_editor.html): the JSON schema in a text
// area, the form it renders as (drawn by the server, as the task page draws it) updated while typing,
// validate and deploy with the same checks as an upload (form posts with the CSRF token).
(function () {
  'use strict';
  const root = document.getElementById('form-editor');
  const texts = JSON.parse(document.getElementById('form-editor-texts').textContent);
  const schema = document.getElementById('schema');
  const note = document.getElementById('change-note');
  const preview = document.getElementById('preview');
  const status = document.getElementById('form-status');
  const problems = document.getElementById('problems');
  let timer = null;
  let sequence = 0;

  function body(extra) {
    const data = new FormData();
    const csrf = document.getElementById('form-editor-csrf');
    data.append(csrf.name, csrf.value);
    data.append('schema', schema.value);
    Object.entries(extra || {}).forEach(([k, v]) => data.append(k, v));
    return data;
  }

  async function post(url, extra) {
    const response = await fetch(url, { method: 'POST', body: body(extra), credentials: 'same-origin' });
    return response;
  }

  async function refresh() {
    const mine = ++sequence;
    const response = await post(root.dataset.previewUrl);
    if (mine !== sequence) return;  // a newer edit is on its way
    preview.innerHTML = await response.text();  // server-rendered, escaped HTML
  }

  function show(list) {
    problems.replaceChildren();
    list.forEach((p) => {
      const item = document.createElement('li');
      item.textContent = [p.file, p.element, p.line && `line ${p.line}`].filter(Boolean).join(', ') + ': ' + p.message;
      problems.append(item);
    });
    status.textContent = list.length ? texts.invalid.replace('{n}', list.length) : texts.valid;
  }

  async function validate() {
    const response = await post(root.dataset.validateUrl);
    const json = await response.json().catch(() => null);
    if (!json) { status.textContent = texts.failed.replace('{status}', response.status); return; }
    show(json.errors || []);
  }

  async function deploy() {
    if (!note.value.trim()) { status.textContent = texts.noteNeeded; note.focus(); return; }
    status.textContent = texts.deploying;
    const response = await post(root.dataset.deployUrl, { change_note: note.value });
    const json = await response.json().catch(() => null);
    if (!json) { status.textContent = texts.failed.replace('{status}', response.status); return; }
    if (json.url) { window.location.assign(json.url); return; }
    show(json.errors || []);
  }

  schema.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refresh, 300); });
  document.getElementById('validate').addEventListener('click', validate);
  document.getElementById('deploy').addEventListener('click', deploy);
  root.dataset.state = 'ready';
}());
