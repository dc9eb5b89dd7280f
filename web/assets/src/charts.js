/**
 * caseflow's KPI charts (Chart.js): a line chart of a trend, a bar chart, each followed by a data
 * table for screen readers and for reading exact values.
 *
 * Chart data (what the KPI dashboard renders into a <script type="application/json">):
 *   {"title": "...", "unit": "hours" | "percent" | "count" | "score",
 *    "labels": ["2026-10-05", ...],                          one per period or bucket
 *    "series": [{"label": "...", "values": [1.5, null, ...],  null: nothing to count
 *                "target": 95}]}                              optional: drawn as a dashed line
 *
 *   Caseflow.charts.line(canvas, data) / Caseflow.charts.bar(canvas, data) -> the Chart
 *   Caseflow.charts.fromReports(reports, kpis, {labels, title})
 *       reports: KPI reports as GET /api/v1/kpis returns them, one per period, oldest first;
 *       kpis: names of KPIs in ``totals`` (first_response_average_seconds, csat, …);
 *       -> chart data: seconds become hours, shares percent, with each KPI's target.
 *   Caseflow.charts.backlog(report, {labels, title}) -> chart data of the backlog by age.
 *   Caseflow.charts.mountAll(root) draws every <canvas data-chart="line|bar"
 *       data-chart-data="ID of a <script type=application/json>">.
 */
import {
  BarController, BarElement, CategoryScale, Chart, Legend, LineController, LineElement, LinearScale, PointElement,
  Title, Tooltip,
} from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LineController, LineElement, LinearScale,
  PointElement, Title, Tooltip);

/** Colours with at least 4.5:1 contrast on white, told apart by people with colour blindness. */
export const PALETTE = ['#0b5cad', '#a34a00', '#1b7a3a', '#6a3d9a', '#9c1c1c', '#00616e'];
const TARGET_COLOUR = '#4a4a4a';
const BUCKETS = ['lt_1d', '1d_3d', '3d_7d', '7d_30d', 'gte_30d'];
const SHARES = new Set(['first_response_within_sla', 'resolution_within_sla', 'resolution_rate', 'reopen_rate',
  'self_service', 'csat']);

function unitOf(kpi) {
  if (kpi.endsWith('_seconds')) return 'hours';
  if (SHARES.has(kpi)) return 'percent';
  if (kpi === 'satisfaction_average') return 'score';
  return 'count';
}

function display(kpi, value) {
  if (value === null || value === undefined) return null;
  const unit = unitOf(kpi);
  if (unit === 'hours') return Math.round((value / 3600) * 100) / 100;
  if (unit === 'percent') return Math.round(value * 1000) / 10;
  return value;
}

export function fromReports(reports, kpis, { labels = {}, title = '' } = {}) {
  const units = new Set(kpis.map(unitOf));
  return {
    title,
    unit: units.size === 1 ? [...units][0] : 'count',
    labels: reports.map((r) => r.from),
    series: kpis.map((kpi) => {
      const target = reports.length ? reports[reports.length - 1].totals[kpi].target : null;
      return {
        label: labels[kpi] || kpi,
        values: reports.map((r) => display(kpi, r.totals[kpi].value)),
        target: target === null || target === undefined ? null : display(kpi, target),
      };
    }),
  };
}

export function backlog(report, { labels = {}, title = '', series = 'backlog' } = {}) {
  const buckets = report.totals.backlog.buckets;
  return { title, unit: 'count', labels: BUCKETS.map((b) => labels[b] || b),
           series: [{ label: series, values: BUCKETS.map((b) => buckets[b] || 0) }] };
}

function suffix(unit) {
  return { percent: ' %', hours: ' h' }[unit] || '';
}

function datasets(data, type) {
  const sets = [];
  data.series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    sets.push({ type, label: s.label, data: s.values, borderColor: colour, backgroundColor: colour,
                borderWidth: 2, pointRadius: 3, spanGaps: true });
    if (s.target !== null && s.target !== undefined) {
      sets.push({ type: 'line', label: `${s.label} — ${data.targetLabel || 'target'}`,
                  data: data.labels.map(() => s.target), borderColor: TARGET_COLOUR, backgroundColor: TARGET_COLOUR,
                  borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0 });
    }
  });
  return sets;
}

function table(data) {
  const details = document.createElement('details');
  details.className = 'cf-chart-table';
  const summaryLine = document.createElement('summary');
  summaryLine.textContent = data.tableLabel || 'Data';
  const grid = document.createElement('table');
  if (data.title) grid.createCaption().textContent = data.title;
  const head = grid.createTHead().insertRow();
  const corner = document.createElement('th');
  head.append(corner);
  data.series.forEach((s) => {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = s.label;
    head.append(th);
  });
  const body = grid.createTBody();
  data.labels.forEach((label, row) => {
    const tr = body.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = label;
    tr.append(th);
    data.series.forEach((s) => {
      const value = s.values[row];
      tr.insertCell().textContent = value === null || value === undefined ? '—' : `${value}${suffix(data.unit)}`;
    });
  });
  details.append(summaryLine, grid);
  return details;
}

function draw(canvas, data, type) {
  const existing = Chart.getChart(canvas);
  if (existing) existing.destroy();
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', data.title || data.series.map((s) => s.label).join(', '));
  const chart = new Chart(canvas, {
    type,
    data: { labels: data.labels, datasets: datasets(data, type) },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: {
        title: { display: Boolean(data.title), text: data.title, color: '#1a1a1a' },
        legend: { labels: { color: '#1a1a1a' } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${item.formattedValue}${suffix(data.unit)}` } },
      },
      scales: {
        x: { ticks: { color: '#333' } },
        y: { beginAtZero: true, ticks: { color: '#333', callback: (v) => `${v}${suffix(data.unit)}` },
             suggestedMax: data.unit === 'percent' ? 100 : undefined },
      },
    },
  });
  const old = canvas.closest('.cf-chart') && canvas.closest('.cf-chart').querySelector('.cf-chart-table');
  if (old) old.remove();
  (canvas.closest('.cf-chart') || canvas.parentElement).append(table(data));
  canvas.dataset.chartState = 'drawn';
  return chart;
}

export const line = (canvas, data) => draw(canvas, data, 'line');
export const bar = (canvas, data) => draw(canvas, data, 'bar');

export function mountAll(root = document) {
  return [...root.querySelectorAll('canvas[data-chart]')].map((canvas) => {
    const data = JSON.parse(document.getElementById(canvas.dataset.chartData).textContent);
    return canvas.dataset.chart === 'bar' ? bar(canvas, data) : line(canvas, data);
  });
}

window.Caseflow = { ...(window.Caseflow || {}), charts: { line, bar, fromReports, backlog, mountAll, PALETTE } };
if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', () => mountAll());
} else {
  mountAll();
}
