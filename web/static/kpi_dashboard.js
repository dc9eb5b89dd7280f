// The KPI dashboard's charts (web/templates/kpi/dashboard.html): the period's trend, one KPI
// report per week or month as the page embedded them, drawn with Caseflow.charts.
(function () {
  'use strict';
  const reports = JSON.parse(document.getElementById('kpi-trend').textContent);
  const texts = JSON.parse(document.getElementById('kpi-texts').textContent);
  const charts = window.Caseflow.charts;

  function draw(id, kind, data) {
    data.targetLabel = texts.target;
    data.tableLabel = texts.table;
    charts[kind](document.getElementById(id), data);
  }

  draw('chart-first-response', 'line', charts.fromReports(reports,
    ['first_response_average_seconds', 'first_response_p90_seconds'],
    { labels: texts.firstResponse, title: texts.firstResponse.title }));
  draw('chart-sla', 'line', charts.fromReports(reports, ['first_response_within_sla', 'resolution_within_sla'],
    { labels: texts.sla, title: texts.sla.title }));
  draw('chart-csat', 'line', charts.fromReports(reports, ['csat'], { labels: texts.csat, title: texts.csat.title }));
  if (reports.length) {
    draw('chart-backlog', 'bar', charts.backlog(reports[reports.length - 1],
      { labels: texts.backlog, title: texts.backlog.title, series: texts.backlog.series }));
  }
}());
