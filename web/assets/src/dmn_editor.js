/**
 * caseflow's decision table editor: edit a DMN file's decision tables in the browser (dmn-js's
 * modeller, bundled here; nothing from a CDN), export it, and mark the cells the server refused.
 *
 *   const e = await Caseflow.dmnEditor.create(container, {xml})
 *   await e.exportXml()          -> the decisions as DMN XML (formatted)
 *   e.showProblems(problems)     -> marks every cell whose id is a problem's element with
 *                                   ``cf-problem`` and its message as the cell's title; returns
 *                                   the problems no cell was found for
 *   e.clearProblems()
 *   e.isDirty()                  -> edited since loaded
 *   e.modeler                    -> the dmn-js Modeler, for anything else
 *
 * It opens the first decision table (a file with several decisions shows dmn-js's tabs to switch).
 */
import DmnModeler from 'dmn-js/lib/Modeler';

class CaseflowDmnEditor {
  constructor(modeler, container) {
    this.modeler = modeler;
    this.container = container;
    this.dirty = false;
    this.marked = [];
    modeler.on('views.changed', () => this.watch());
    this.watch();
  }

  watch() {
    const viewer = this.modeler.getActiveViewer();
    if (viewer && !viewer.cfWatched) {
      viewer.cfWatched = true;
      viewer.get('eventBus').on('elements.changed', () => { this.dirty = true; });
    }
  }

  async exportXml() {
    const { xml } = await this.modeler.saveXML({ format: true });
    return xml;
  }

  isDirty() {
    return this.dirty;
  }

  clearProblems() {
    this.marked.forEach((cell) => { cell.classList.remove('cf-problem'); cell.removeAttribute('title'); });
    this.marked = [];
  }

  showProblems(problems) {
    this.clearProblems();
    const unplaced = [];
    (problems || []).forEach((problem) => {
      const cells = problem.element
        ? this.container.querySelectorAll(`[data-element-id="${CSS.escape(problem.element)}"]`) : [];
      if (!cells.length) { unplaced.push(problem); return; }
      cells.forEach((cell) => {
        cell.classList.add('cf-problem');
        cell.setAttribute('title', problem.message);
        this.marked.push(cell);
      });
    });
    return unplaced;
  }
}

async function create(container, { xml }) {
  const modeler = new DmnModeler({ container, common: { keyboard: { bindTo: window } } });
  await modeler.importXML(xml);
  const table = modeler.getViews().find((view) => view.type === 'decisionTable');
  if (table) await modeler.open(table);
  return new CaseflowDmnEditor(modeler, container);
}

window.Caseflow = window.Caseflow || {};
window.Caseflow.dmnEditor = { create };
