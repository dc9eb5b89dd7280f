/**
 * A small properties panel for the modeller: the selected element's id, type, name and its task
 * properties (``<spiffworkflow:properties>``, the conventions of docs/process.md: a lane's name is
 * its role; a user task's formJsonSchemaFilename, assignment, caseStage, caseFields, alsoRoles).
 *
 * Edits go through the command stack (undo/redo work). The spiffworkflow extension elements are
 * kept as bpmn-moddle reads unknown extensions (generic elements), so nothing else in them is lost.
 */
const SPIFF = 'http://spiffworkflow.org/bpmn/schema/1.0/core';
const PROPERTIES = 'spiffworkflow:properties';
const PROPERTY = 'spiffworkflow:property';
const DEFAULT_LABELS = {
  nothingSelected: 'Select an element to see its properties.',
  id: 'Id', type: 'Type', name: 'Name', taskProperties: 'Task properties',
  propertyName: 'Property', propertyValue: 'Value', add: 'Add a property', remove: 'Remove', apply: 'Apply',
};

function propertiesElement(bo) {
  const values = (bo.extensionElements && bo.extensionElements.values) || [];
  return values.find((v) => v.$type === PROPERTIES) || null;
}

/** [[name, value]] of an element's task properties. */
export function readProperties(bo) {
  const element = propertiesElement(bo);
  return element ? (element.$children || []).filter((c) => c.$type === PROPERTY).map((c) => [c.name, c.value]) : [];
}

/** Command handler: replace an element's task properties (execute and revert). */
class SetProperties {
  static $inject = ['moddle'];

  constructor(moddle) {
    this.moddle = moddle;
  }

  execute(context) {
    const bo = context.element.businessObject;
    const ext = bo.extensionElements;
    const props = propertiesElement(bo);
    context.before = { ext, values: ext ? [...ext.values] : null, props, children: props ? [...props.$children] : null };
    let target = ext;
    if (!target) {
      target = this.moddle.create('bpmn:ExtensionElements', { values: [] });
      target.$parent = bo;
      bo.extensionElements = target;
    }
    const entries = context.entries.filter(([name]) => name);
    let element = propertiesElement(bo);
    if (!entries.length) {
      target.values = target.values.filter((v) => v !== element);
    } else {
      if (!element) {
        element = this.moddle.createAny(PROPERTIES, SPIFF, {});
        element.$parent = target;
        target.values = [...target.values, element];
      }
      element.$children = entries.map(([name, value]) => {
        const child = this.moddle.createAny(PROPERTY, SPIFF, { name, value });
        child.$parent = element;
        return child;
      });
    }
    return [context.element];
  }

  revert(context) {
    const bo = context.element.businessObject;
    const { ext, values, props, children } = context.before;
    bo.extensionElements = ext;
    if (ext) ext.values = values;
    if (props) props.$children = children;
    return [context.element];
  }
}

function field(labelText, input) {
  const label = document.createElement('label');
  label.className = 'cf-field';
  const span = document.createElement('span');
  span.textContent = labelText;
  label.append(span, input);
  return label;
}

function input(value, name, readOnly = false) {
  const box = document.createElement('input');
  box.type = 'text';
  box.name = name;
  box.value = value || '';
  box.setAttribute('value', box.value);
  box.readOnly = readOnly;
  return box;
}

export class PropertiesPanel {
  constructor(modeler, host, labels = {}) {
    this.modeler = modeler;
    this.host = host;
    this.labels = { ...DEFAULT_LABELS, ...labels };
    modeler.get('commandStack').registerHandler('caseflow.properties.set', SetProperties);
    const bus = modeler.get('eventBus');
    bus.on('selection.changed', ({ newSelection }) => this.render(newSelection.length === 1 ? newSelection[0] : null));
    bus.on('elements.changed', ({ elements }) => {
      if (this.element && elements.some((e) => e.id === this.element.id)) this.render(this.element);
    });
    this.render(null);
  }

  render(element) {
    this.element = element;
    this.host.replaceChildren();
    if (!element || !element.businessObject) {
      const hint = document.createElement('p');
      hint.textContent = this.labels.nothingSelected;
      this.host.append(hint);
      return;
    }
    const bo = element.businessObject;
    const form = document.createElement('form');
    form.className = 'cf-properties';
    form.append(field(this.labels.id, input(bo.id, 'id', true)),
                field(this.labels.type, input(bo.$type.replace('bpmn:', ''), 'type', true)));
    const name = input(bo.name, 'name');
    form.append(field(this.labels.name, name));
    const rows = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = this.labels.taskProperties;
    rows.append(legend);
    const addRow = ([key, value]) => {
      const row = document.createElement('div');
      row.className = 'cf-property-row';
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = this.labels.remove;
      remove.addEventListener('click', () => row.remove());
      row.append(field(this.labels.propertyName, input(key, 'property-name')),
                 field(this.labels.propertyValue, input(value, 'property-value')), remove);
      rows.append(row);
    };
    readProperties(bo).forEach(addRow);
    const add = document.createElement('button');
    add.type = 'button';
    add.textContent = this.labels.add;
    add.addEventListener('click', () => { addRow(['', '']); rows.querySelector('.cf-property-row:last-of-type input').focus(); });
    const apply = document.createElement('button');
    apply.type = 'submit';
    apply.textContent = this.labels.apply;
    form.append(rows, add, apply);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.apply(element, name.value, [...rows.querySelectorAll('.cf-property-row')].map((row) => [
        row.querySelector('[name=property-name]').value.trim(), row.querySelector('[name=property-value]').value]));
    });
    this.host.append(form);
  }

  apply(element, name, entries) {
    const bo = element.businessObject;
    const stack = this.modeler.get('commandStack');
    const changed = JSON.stringify(readProperties(bo)) !== JSON.stringify(entries.filter(([k]) => k));
    if ((bo.name || '') !== name) this.modeler.get('modeling').updateLabel(element, name);
    if (changed) stack.execute('caseflow.properties.set', { element, entries });
  }
}
