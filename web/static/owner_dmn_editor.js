// The process owner's decision table editor (web/templates/owner/dmn_editor.html): dmn-js from
// static/dist (Caseflow.dmnEditor), validate and deploy with the same checks as an upload (form
// posts with the CSRF token). A refusal keeps the edited table as it is and marks the cells the
// problems name; the problems are listed above the table too.
(function () {
  'use strict';
  const root = document.getElementById('dmn-editor');
  const texts = JSON.parse(document.getElementById('dmn-editor-texts').textContent);
  const xml = JSON.parse(document.getElementById('dmn-xml').textContent);
  const note = document.getElementById('change-note');
  const status = document.getElementById('dmn-status');
  const problems = document.getElementById('problems');
  const problemsBox = document.getElementById('problems-box');
  const buttons = [document.getElementById('validate'), document.getElementById('deploy')];
  let editor = null;

  async function post(url, extra) {
    const data = new FormData();
    const csrf = document.getElementById('dmn-editor-csrf');
    data.append(csrf.name, csrf.value);
    data.append('dmn', await editor.exportXml());
    Object.entries(extra || {}).forEach(([k, v]) => data.append(k, v));
    return fetch(url, { method: 'POST', body: data, credentials: 'same-origin' });
  }

  function show(list) {
    editor.showProblems(list);
    problems.replaceChildren();
    list.forEach((p) => {
      const item = document.createElement('li');
      item.dataset.element = p.element || '';
      const where = [p.file, p.element, p.line && `${texts.line} ${p.line}`].filter(Boolean).join(', ');
      item.textContent = where ? `${where}: ${p.message}` : p.message;
      problems.append(item);
    });
    problemsBox.hidden = !list.length;
    status.textContent = list.length ? texts.invalid.replace('{n}', list.length) : texts.valid;
  }

  async function answer(response) {
    const json = await response.json().catch(() => null);
    if (!json) { status.textContent = texts.failed.replace('{status}', response.status); return null; }
    return json;
  }

  async function validate() {
    status.textContent = texts.validating;
    const json = await answer(await post(root.dataset.validateUrl));
    if (json) show(json.errors || []);
  }

  async function deploy() {
    if (!note.value.trim()) { status.textContent = texts.noteNeeded; note.focus(); return; }
    status.textContent = texts.deploying;
    const json = await answer(await post(root.dataset.deployUrl, { change_note: note.value }));
    if (!json) return;
    if (json.url) { window.location.assign(json.url); return; }
    show(json.errors || []);
  }

  window.Caseflow.dmnEditor.create(document.getElementById('dmn-canvas'), { xml }).then((created) => {
    editor = created;
    buttons.forEach((b) => { b.disabled = false; });
    buttons[0].addEventListener('click', validate);
    buttons[1].addEventListener('click', deploy);
    const whatif = document.getElementById('dmn-whatif');
    if (whatif) {  // the classification table: replay the table as edited in What if (a plain form post)
      whatif.addEventListener('submit', async (event) => {
        event.preventDefault();
        document.getElementById('dmn-whatif-xml').value = await editor.exportXml();
        whatif.submit();
      });
      document.getElementById('dmn-whatif-submit').disabled = false;
    }
    root.dataset.state = 'ready';
  }).catch((error) => {
    status.textContent = texts.loadFailed.replace('{error}', error.message || error);
    root.dataset.state = 'failed';
  });
}());
