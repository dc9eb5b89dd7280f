/**
 * caseflow's BPMN viewer: a read-only diagram with the steps a case went through and the steps
 * it waits at marked, fitted to its container, with a text summary for screen readers.
 *
 *   Caseflow.viewer.show(container, {xml, completed: [ids], current: [ids], labels: {...}})
 *     -> Promise<{viewer, completed: [ids], current: [ids], missing: [ids]}>
 *     ``missing``: ids given but not in the diagram (e.g. a task of a called process).
 *   Caseflow.viewer.mount(container) reads the same options from data attributes:
 *     data-bpmn-url (same-origin URL of the BPMN XML) or data-bpmn-source (id of an element
 *     whose text is the XML), data-completed and data-current (JSON arrays or comma-separated
 *     ids), data-label-completed / data-label-current / data-label-summary (texts for the legend
 *     and the summary; default: the container's aria-label, else English or Chinese after
 *     <html lang>).
 *   Caseflow.viewer.mountAll(root = document) mounts every element with data-bpmn-viewer or
 *     data-bpmn-url (the case page's #case-diagram), and adds dist/caseflow.css to the page if
 *     it is not there, so that including the script is enough.
 *
 * Markers are CSS classes on the elements: ``cf-completed`` and ``cf-current`` (styles in
 * caseflow.css). What the container held before (server-rendered fallback text) is replaced by the
 * diagram, a legend and a visually hidden summary when the diagram shows, and stays when it cannot
 * (``data-diagram-state`` is then ``failed``, with ``data-diagram-error``).
 */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { elementNames, legend, parseIds, summary } from './common.js';

const LABELS = {
  en: { completed: 'Completed', current: 'Current', summary: 'Process diagram', focus: 'Zoom to the current step',
        whole: 'Show the whole process' },
  zh: { completed: '已完成', current: '当前', summary: '流程图', focus: '放大到当前步骤', whole: '显示整个流程' },
};
const DEFAULT_LABELS = LABELS.en;
/** The texts in the page's language (<html lang>), for pages that pass none. */
function pageLabels() {
  return (document.documentElement.lang || '').toLowerCase().startsWith('zh') ? LABELS.zh : LABELS.en;
}
const STYLESHEET = document.currentScript && document.currentScript.src.replace(/viewer\.js(\?.*)?$/, 'caseflow.css');

/** A page that only includes the script gets the styles too (bpmn-js's, and the markers'). */
function ensureStylesheet() {
  if (!STYLESHEET || document.querySelector('link[href$="dist/caseflow.css"]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = STYLESHEET;
  document.head.append(link);
}

function markAll(canvas, registry, ids, marker) {
  const found = [];
  const missing = [];
  for (const id of ids) {
    if (registry.get(id)) {
      canvas.addMarker(id, marker);
      found.push(id);
    } else {
      missing.push(id);
    }
  }
  return { found, missing };
}

/** Mark the sequence flows between two completed (or completed → current) elements. */
function markTakenFlows(canvas, registry, completed, current) {
  const done = new Set(completed);
  const reached = new Set([...completed, ...current]);
  registry.filter((e) => e.type === 'bpmn:SequenceFlow').forEach((flow) => {
    const source = flow.businessObject.sourceRef && flow.businessObject.sourceRef.id;
    const target = flow.businessObject.targetRef && flow.businessObject.targetRef.id;
    if (done.has(source) && reached.has(target)) {
      canvas.addMarker(flow.id, 'cf-completed');
    }
  });
}

/** Two buttons: zoom to a readable size around the (first) current step, and back to the whole. */
function zoomButtons(canvas, element, labels) {
  const bar = document.createElement('div');
  bar.className = 'cf-diagram-zoom';
  const button = (text, action) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = text;
    b.addEventListener('click', action);
    bar.append(b);
  };
  button(labels.focus, () => {
    canvas.zoom(1, { x: element.x + element.width / 2, y: element.y + element.height / 2 });
    canvas.scrollToElement(element, { top: 200, bottom: 200, left: 300, right: 300 });
  });
  button(labels.whole, () => canvas.zoom('fit-viewport', 'auto'));
  return bar;
}

export async function show(container, options) {
  const labels = { ...pageLabels(), ...(options.labels || {}) };
  container.classList.add('cf-diagram');
  const canvasHost = document.createElement('div');
  canvasHost.className = 'cf-diagram-canvas';
  const viewer = new NavigatedViewer({ container: canvasHost });
  try {
    await viewer.importXML(options.xml);
  } catch (error) {
    viewer.destroy();
    container.dataset.diagramState = 'failed';
    throw error;
  }
  container.innerHTML = '';
  if (container.getAttribute('role') === 'img') {
    // the container described the diagram as one image; now its parts are the canvas and the texts
    container.removeAttribute('role');
    container.removeAttribute('aria-label');
  }
  container.append(canvasHost);
  const canvas = viewer.get('canvas');
  canvas.resized(); // imported while detached: measure the container now that it is in the page
  const registry = viewer.get('elementRegistry');
  const completed = markAll(canvas, registry, options.completed || [], 'cf-completed');
  const current = markAll(canvas, registry, options.current || [], 'cf-current');
  markTakenFlows(canvas, registry, completed.found, current.found);
  canvas.zoom('fit-viewport', 'auto');

  const names = elementNames(registry);
  const text = summary(labels, {
    [labels.completed]: completed.found.map((id) => names[id]),
    [labels.current]: current.found.map((id) => names[id]),
  });
  text.id = `${container.id || 'cf-diagram'}-summary`;
  canvasHost.setAttribute('role', 'img');
  canvasHost.setAttribute('aria-label', labels.summary);
  canvasHost.setAttribute('aria-describedby', text.id);
  if (completed.found.length || current.found.length) {
    container.append(legend([[labels.completed, 'cf-completed'], [labels.current, 'cf-current']]));
  }
  if (current.found.length) container.append(zoomButtons(canvas, registry.get(current.found[0]), labels));
  container.append(text);
  container.dataset.diagramState = 'shown';
  return { viewer, completed: completed.found, current: current.found,
           missing: [...completed.missing, ...current.missing] };
}

async function sourceOf(container) {
  const { bpmnUrl, bpmnSource } = container.dataset;
  if (bpmnSource) {
    return document.getElementById(bpmnSource).textContent;
  }
  const response = await fetch(bpmnUrl, { credentials: 'same-origin', headers: { Accept: 'application/xml' } });
  if (!response.ok) {
    throw new Error(`${bpmnUrl}: HTTP ${response.status}`);
  }
  return response.text();
}

export async function mount(container) {
  const data = container.dataset;
  const labels = {};
  if (container.getAttribute('aria-label')) labels.summary = container.getAttribute('aria-label');
  for (const name of Object.keys(DEFAULT_LABELS)) {
    const key = `label${name[0].toUpperCase()}${name.slice(1)}`;
    if (data[key]) labels[name] = data[key];
  }
  try {
    return await show(container, {
      xml: await sourceOf(container),
      completed: parseIds(data.completed),
      current: parseIds(data.current),
      labels,
    });
  } catch (error) {
    container.dataset.diagramState = 'failed';
    container.dataset.diagramError = String(error.message || error);
    return null;
  }
}

export function mountAll(root = document) {
  ensureStylesheet();
  return Promise.all([...root.querySelectorAll('[data-bpmn-viewer], [data-bpmn-url]')].map(mount));
}

window.Caseflow = { ...(window.Caseflow || {}), viewer: { show, mount, mountAll } };
if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => mountAll());
} else {
  mountAll();
}
