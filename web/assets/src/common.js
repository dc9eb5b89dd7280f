/** Small helpers the viewer and the modeller share. */

/** Ids from a data attribute: a JSON array, or ids separated by commas or spaces. */
export function parseIds(value) {
  if (!value) return [];
  const text = value.trim();
  if (text.startsWith('[')) return JSON.parse(text).map(String);
  return text.split(/[\s,]+/).filter(Boolean);
}

/** id -> the element's name (its id when it has none), for texts a person reads. */
export function elementNames(registry) {
  const names = {};
  registry.getAll().forEach((element) => {
    const bo = element.businessObject;
    if (bo && bo.id) names[bo.id] = (bo.name || bo.id).replace(/\s+/g, ' ').trim();
  });
  return names;
}

/** A legend: one swatch per [text, marker class]. */
export function legend(entries) {
  const list = document.createElement('ul');
  list.className = 'cf-legend';
  for (const [text, marker] of entries) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `cf-swatch ${marker}`;
    swatch.setAttribute('aria-hidden', 'true');
    item.append(swatch, document.createTextNode(text));
    list.append(item);
  }
  return list;
}

/** A visually hidden text saying what the diagram shows: "Completed: A, B. Current: C." */
export function summary(labels, groups) {
  const box = document.createElement('div');
  box.className = 'cf-visually-hidden';
  const heading = document.createElement('p');
  heading.textContent = labels.summary;
  box.append(heading);
  for (const [label, names] of Object.entries(groups)) {
    if (!names.length) continue;
    const line = document.createElement('p');
    line.textContent = `${label}: ${names.join(', ')}.`;
    box.append(line);
  }
  return box;
}
