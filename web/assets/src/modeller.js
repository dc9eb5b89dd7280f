/**
 * caseflow's BPMN modeller: edit a diagram, export it, and show the server's validation problems
 * on the elements they name.
 *
 *   const m = await Caseflow.modeller.create(container, {xml, properties: panelElement, labels})
 *   await m.exportXml()            -> the diagram as BPMN XML (formatted)
 *   m.showProblems(problems, {file, list})
 *       problems: [{file, element, line, message}] as POST /api/v1/process-versions/validate
 *       gives them. Each problem of ``file`` (or of no file) whose element is in the diagram gets
 *       the ``cf-problem`` marker and an overlay with its message(s); returns {placed, unplaced}.
 *       With ``list`` (an element), every problem is also written there as text, those on an
 *       element with a button that selects and shows it.
 *   m.clearProblems()
 *   m.showElement(id)              -> select it and bring it into view at a readable zoom
 *   m.isDirty()                    -> edited since loaded (or since markSaved())
 *   m.modeler                      -> the bpmn-js Modeler, for anything else
 *
 * ``properties``: an element to render the selected element's name and task properties
 * (``spiffworkflow:properties``: formJsonSchemaFilename, assignment, caseStage, …) into, editable
 * and undoable (properties.js). Every other extension (scripts, service-task settings) is kept
 * as it was read.
 */
import Modeler from 'bpmn-js/lib/Modeler';
import { PropertiesPanel } from './properties.js';

const DEFAULT_LABELS = { problemsFor: 'Problems of', line: 'line', show: 'Show in the diagram' };

function problemText(problem, labels) {
  const where = [problem.file, problem.element, problem.line ? `${labels.line} ${problem.line}` : null]
    .filter(Boolean).join(', ');
  return where ? `${where}: ${problem.message}` : problem.message;
}

class CaseflowModeller {
  constructor(modeler, labels) {
    this.modeler = modeler;
    this.labels = labels;
    this.overlayIds = [];
    this.marked = [];
    this.dirty = false;
    modeler.get('eventBus').on('commandStack.changed', () => { this.dirty = true; });
  }

  async exportXml() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  isDirty() {
    return this.dirty;
  }

  markSaved() {
    this.dirty = false;
  }

  clearProblems() {
    const overlays = this.modeler.get('overlays');
    const canvas = this.modeler.get('canvas');
    this.overlayIds.forEach((id) => overlays.remove(id));
    this.marked.forEach((id) => canvas.removeMarker(id, 'cf-problem'));
    this.overlayIds = [];
    this.marked = [];
  }

  showElement(id) {
    const registry = this.modeler.get('elementRegistry');
    const element = registry.get(id);
    if (!element) return;
    const canvas = this.modeler.get('canvas');
    this.modeler.get('selection').select(element);
    if (canvas.zoom() < 1) canvas.zoom(1); // readable: the overlay's text at its own size
    canvas.scrollToElement(element, { top: 120, left: 120, right: 120, bottom: 120 });
  }

  showProblems(problems, { file = null, list = null } = {}) {
    this.clearProblems();
    const registry = this.modeler.get('elementRegistry');
    const byElement = new Map();
    const unplaced = [];
    for (const problem of problems) {
      const ours = !file || !problem.file || problem.file === file;
      if (ours && problem.element && registry.get(problem.element)) {
        if (!byElement.has(problem.element)) byElement.set(problem.element, []);
        byElement.get(problem.element).push(problem);
      } else {
        unplaced.push(problem);
      }
    }
    const canvas = this.modeler.get('canvas');
    const overlays = this.modeler.get('overlays');
    for (const [id, found] of byElement) {
      canvas.addMarker(id, 'cf-problem');
      this.marked.push(id);
      const box = document.createElement('div');
      box.className = 'cf-problem-overlay';
      box.dataset.element = id;
      for (const problem of found) {
        const line = document.createElement('p');
        line.textContent = problem.message;
        box.append(line);
      }
      this.overlayIds.push(overlays.add(id, 'cf-problem', { position: { bottom: -4, left: 0 }, html: box }));
    }
    if (list) this.listProblems(list, problems, byElement);
    return { placed: [...byElement.keys()], unplaced };
  }

  listProblems(list, problems, byElement) {
    list.replaceChildren();
    for (const problem of problems) {
      const item = document.createElement('li');
      item.className = 'cf-problem-item';
      item.append(document.createTextNode(problemText(problem, this.labels)));
      if (problem.element && byElement.has(problem.element)) {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'cf-problem-show';
        button.textContent = this.labels.show;
        button.addEventListener('click', () => this.showElement(problem.element));
        item.append(' ', button);
      }
      list.append(item);
    }
  }
}

export async function create(container, { xml, properties = null, labels = {} } = {}) {
  const modeler = new Modeler({ container });
  const { warnings } = await modeler.importXML(xml);
  modeler.get('canvas').zoom('fit-viewport', 'auto');
  const merged = { ...DEFAULT_LABELS, ...labels };
  const instance = new CaseflowModeller(modeler, merged);
  instance.warnings = warnings;
  if (properties) instance.properties = new PropertiesPanel(modeler, properties, merged);
  container.dataset.modellerState = 'ready';
  return instance;
}

window.Caseflow = { ...(window.Caseflow || {}), modeller: { create } };
