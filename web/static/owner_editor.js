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

  async function send(url) {
    const body = new FormData();
    body.append(document.getElementById('editor-csrf').name, document.getElementById('editor-csrf').value);
    body.append('bpmn', await modeller.exportXml());
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

  function deploy() {
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
    buttons[1].addEventListener('click', deploy);
    buttons[2].addEventListener('click', download);
    buttons.forEach((b) => { b.disabled = false; });
    window.addEventListener('beforeunload', (event) => {
      if (modeller.isDirty()) { event.preventDefault(); event.returnValue = texts.unsaved; }
    });
  }

  open();
}());
