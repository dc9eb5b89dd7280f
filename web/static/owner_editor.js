// The process owner's modeller page (web/templates/owner/editor.html): opens the active version's
// diagram in Caseflow.modeller, sends the edited XML to the page's validate and deploy endpoints
// (form posts with the CSRF token) and shows their problems on the diagram.
(function () {
  'use strict';
  const root = document.getElementById('editor');
  const texts = JSON.parse(document.getElementById('editor-texts').textContent);
  const status = document.getElementById('editor-status');
  const problemsBox = document.getElementById('problems-box');
  const problemList = document.getElementById('problems');
  const buttons = ['validate', 'deploy', 'download'].map((id) => document.getElementById(id));
  let modeller = null;

  function say(text) { status.textContent = text; }

  const note = document.getElementById('change-note');
  const changesBox = document.getElementById('changes-box');
  const changeList = document.getElementById('changes');
  let marked = [];

  async function send(url) {
    const body = new FormData();
    body.append(document.getElementById('editor-csrf').name, document.getElementById('editor-csrf').value);
    body.append('bpmn', await modeller.exportXml());
    body.append('change_note', note.value);
    const response = await fetch(url, { method: 'POST', body, credentials: 'same-origin',
                                        headers: { Accept: 'application/json' } });
    const json = (response.headers.get('Content-Type') || '').includes('application/json')
      ? await response.json() : null;
    return { response, json };
  }

  function showProblems(problems) {
    const shown = modeller.showProblems(problems, { file: root.dataset.file, list: problemList });
    if (shown.placed.length) modeller.showElement(shown.placed[0]);
    problemsBox.hidden = problems.length === 0;
    say(problems.length ? texts.invalid.replace('{n}', problems.length) : texts.valid);
    if (problems.length) problemsBox.scrollIntoView({ block: 'nearest' });
  }

  async function run(url, busy, done) {
    buttons.forEach((b) => { b.disabled = true; });
    say(busy);
    try {
      const { response, json } = await send(url);
      if (!json) { say(texts.failed.replace('{status}', response.status)); return; }
      done(response, json);
    } catch (error) {
      say(texts.failed.replace('{status}', String(error)));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function validate() {
    run(root.dataset.validateUrl, texts.validating, (response, json) => showProblems(json.errors || []));
  }

  function mark(ids) {
    const canvas = modeller.modeler.get('canvas');
    const registry = modeller.modeler.get('elementRegistry');
    marked.forEach((id) => { if (registry.get(id)) canvas.removeMarker(id, 'cf-changed'); });
    marked = ids.filter((id) => registry.get(id));
    marked.forEach((id) => canvas.addMarker(id, 'cf-changed'));
  }

  function review() {
    if (!note.value.trim()) { say(texts.noteNeeded); note.focus(); return; }
    run(root.dataset.diffUrl, texts.reviewing, (response, json) => {
      if (json.errors) { showProblems(json.errors); return; }
      changeList.replaceChildren();
      const file = root.dataset.file;
      const rows = ['added', 'removed', 'changed'].flatMap((kind) => (json[kind] || []).map((c) => ({ ...c, how: kind })));
      rows.forEach((c) => {
        const item = document.createElement('li');
        item.dataset.element = c.element;
        item.className = 'diff-' + c.how;
        item.textContent = `${texts[c.how]}: ${c.kind} ${c.element}${c.name ? ' (' + c.name + ')' : ''}${c.file !== file ? ' · ' + c.file : ''}`;
        changeList.append(item);
      });
      mark(rows.filter((c) => c.file === file && c.how !== 'removed').map((c) => c.element));
      changesBox.hidden = false;
      say(rows.length ? texts.reviewed.replace('{n}', rows.length) : texts.noChange);
    });
  }

  function deploy() {
    if (!note.value.trim()) { say(texts.noteNeeded); note.focus(); return; }
    run(root.dataset.deployUrl, texts.deploying, (response, json) => {
      if (json.url) {
        modeller.markSaved();
        window.location.assign(json.url);
      } else {
        showProblems(json.errors || []);
      }
    });
  }

  async function download() {
    const blob = new Blob([await modeller.exportXml()], { type: 'application/xml' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = root.dataset.file;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  async function open() {
    try {
      modeller = await Caseflow.modeller.create(document.getElementById('modeller'), {
        xml: JSON.parse(document.getElementById('diagram-xml').textContent),
        properties: document.getElementById('properties'),
        labels: texts.modeller,
      });
    } catch (error) {
      say(texts.loadFailed.replace('{error}', error.message || error));
      return;
    }
    window.caseflowEditor = modeller;
    buttons[0].addEventListener('click', validate);
    buttons[1].addEventListener('click', review);
    document.getElementById('confirm-deploy').addEventListener('click', deploy);
    buttons[2].addEventListener('click', download);
    buttons.forEach((b) => { b.disabled = false; });
    window.addEventListener('beforeunload', (event) => {
      if (modeller.isDirty()) { event.preventDefault(); event.returnValue = texts.unsaved; }
    });
  }

  open();
}());
