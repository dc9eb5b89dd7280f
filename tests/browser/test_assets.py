"""The browser modules (web/assets) in a real Chromium: the viewer marks a real case's steps on the
real support case diagram, the modeller edits it and exports XML that the deploy validation accepts,
and shows the validation's real problems on the offending elements; the charts draw KPI reports.

A static page (fixtures/assets.html) is served from the repository root by a local HTTP server, so
the bundles are the ones `make assets` built and the process files are the real ones."""
from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cases.process.deploy import problems_in, read_directory

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "web" / "static" / "dist"
PROCESS = "support_case.bpmn"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def static_server():
    assert (DIST / "viewer.js").exists(), "run `make assets` first (web/static/dist is built, not committed)"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(ROOT)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser_session, static_server):
    context = browser_session.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{static_server}/tests/browser/fixtures/assets.html")
    page.wait_for_function("window.Caseflow && Caseflow.viewer && Caseflow.modeller && Caseflow.charts")
    yield page
    context.close()
    assert errors == [], errors


def _xml() -> str:
    return (ROOT / "processes" / PROCESS).read_text(encoding="utf-8")


def _classes(page, element_id: str) -> str:
    return page.get_attribute(f'#viewer [data-element-id="{element_id}"]', "class")


def test_viewer_marks_completed_and_current_steps(page, screenshot):
    result = page.evaluate("""async (xml) => {
        const r = await Caseflow.viewer.show(document.getElementById('viewer'), {
            xml, completed: ['case_opened', 'init_case', 'propose_classification'],
            current: ['classify', 'not_in_this_diagram']});
        return {completed: r.completed, current: r.current, missing: r.missing};
    }""", _xml())
    assert result == {"completed": ["case_opened", "init_case", "propose_classification"], "current": ["classify"],
                      "missing": ["not_in_this_diagram"]}
    for done in ("case_opened", "init_case", "propose_classification", "f_start", "f_init", "f_proposed"):
        assert "cf-completed" in _classes(page, done), done
    assert "cf-current" in _classes(page, "classify")
    assert "cf-completed" not in _classes(page, "classify")
    for untouched in ("assign", "route_by_category", "f_classified"):
        assert "cf-completed" not in _classes(page, untouched) and "cf-current" not in _classes(page, untouched)
    # the style applies (a dark amber outline, thick), not only the class
    stroke = page.evaluate("""() => {
        const shape = document.querySelector('#viewer [data-element-id="classify"] .djs-visual > :first-child');
        const style = getComputedStyle(shape);
        return [style.stroke, style.strokeWidth];
    }""")
    assert stroke == ["rgb(138, 75, 0)", "4px"]
    summary = page.inner_text("#viewer .cf-visually-hidden")
    assert "Completed: Case opened, Intake, Propose category and priority." in summary
    assert "Current: Classify." in summary
    assert page.get_attribute("#viewer .cf-diagram-canvas", "aria-describedby") == "viewer-summary"
    # fitted: the whole diagram is inside the visible canvas
    box = page.evaluate("""() => {
        const c = document.querySelector('#viewer .cf-diagram-canvas').getBoundingClientRect();
        const d = document.querySelector('#viewer .djs-container svg .viewport').getBoundingClientRect();
        return {inside: d.left >= c.left - 1 && d.right <= c.right + 1 && d.top >= c.top - 1
                        && d.bottom <= c.bottom + 1};
    }""")
    assert box == {"inside": True}
    screenshot(page, "assets-viewer")


def test_viewer_mounts_from_data_attributes_and_keeps_the_fallback_when_it_cannot(page):
    page.wait_for_selector('#viewer-by-attributes[data-diagram-state="shown"]')
    assert "cf-current" in page.get_attribute(
        '#viewer-by-attributes [data-element-id="propose_classification"]', "class")
    assert "cf-completed" in page.get_attribute('#viewer-by-attributes [data-element-id="init_case"]', "class")
    assert page.inner_text("#viewer-by-attributes .cf-legend") .split("\n") == ["Done", "Waiting here"]
    assert "Waiting here: Propose category and priority." in page.inner_text(
        "#viewer-by-attributes .cf-visually-hidden")
    assert "needs JavaScript" not in page.inner_text("#viewer-by-attributes")

    page.wait_for_selector('#viewer-broken[data-diagram-state="failed"]')
    assert page.inner_text("#viewer-broken") == "The diagram could not be shown."
    assert "404" in page.get_attribute("#viewer-broken", "data-diagram-error")


def _files_with(bpmn: str) -> tuple[dict[str, bytes], dict[str, bytes]]:
    processes, forms = read_directory(ROOT / "processes", ROOT / "forms")
    processes[PROCESS] = bpmn.encode("utf-8")
    return processes, forms


def _open_modeller(page) -> None:
    page.evaluate("""async (xml) => {
        window.m = await Caseflow.modeller.create(document.getElementById('modeller'), {
            xml, properties: document.getElementById('properties')});
    }""", _xml())


def _edit_in_panel(page, element_id: str, name: str | None = None, properties: dict | None = None) -> None:
    page.evaluate("(id) => m.modeler.get('selection').select(m.modeler.get('elementRegistry').get(id))", element_id)
    panel = page.locator("#properties")
    assert panel.get_by_label("Id").input_value() == element_id
    if name is not None:
        panel.get_by_label("Name").fill(name)
    for key, value in (properties or {}).items():
        row = panel.locator(".cf-property-row").filter(has=page.locator(f'input[name=property-name][value="{key}"]'))
        row.locator("input[name=property-value]").fill(value)
    panel.get_by_role("button", name="Apply").click()


def test_modeller_edits_and_exports_xml_that_deploy_validation_accepts(page):
    _open_modeller(page)
    assert page.get_attribute("#modeller", "data-modeller-state") == "ready"
    assert page.evaluate("m.isDirty()") is False
    # the panel shows the task's properties as the file has them
    page.evaluate("m.modeler.get('selection').select(m.modeler.get('elementRegistry').get('assign'))")
    names = page.locator("#properties input[name=property-name]").evaluate_all("els => els.map(e => e.value)")
    assert names == ["nameZh", "formJsonSchemaFilename", "caseStage", "assignment", "caseFields"]  # nameZh: the Chinese name
    # edit: rename a task and change a property in the panel, move a shape on the canvas
    _edit_in_panel(page, "classify", name="Classify the case", properties={"caseStage": "triage"})
    page.evaluate("""() => {
        const reg = m.modeler.get('elementRegistry');
        m.modeler.get('modeling').moveElements([reg.get('assign')], {x: 0, y: 30});
    }""")
    assert page.evaluate("m.isDirty()") is True
    xml = page.evaluate("m.exportXml()")

    assert 'id="classify" name="Classify the case"' in xml
    assert '<spiffworkflow:property name="caseStage" value="triage" />' in xml
    # every extension the panel does not edit survives: scripts, service-task settings, other properties
    original = _xml()
    for marker in ("<spiffworkflow:preScript>", "<spiffworkflow:serviceTaskOperator", "<spiffworkflow:parameter ",
                   "<spiffworkflow:calledDecisionId>", '<spiffworkflow:property name="caseFields"'):
        assert xml.count(marker) == original.count(marker), marker
    problems, _build = problems_in(*_files_with(xml))
    assert problems == []

    # undo brings the old name back
    page.evaluate("m.modeler.get('commandStack').undo(); m.modeler.get('commandStack').undo();"
                  "m.modeler.get('commandStack').undo()")
    assert 'id="classify" name="Classify"' in page.evaluate("m.exportXml()")


def test_modeller_shows_validation_problems_on_the_offending_elements(page, screenshot):
    _open_modeller(page)
    _edit_in_panel(page, "assign", properties={"formJsonSchemaFilename": "missing.schema.json",
                                               "assignment": "by_magic"})
    xml = page.evaluate("m.exportXml()")
    problems, _build = problems_in(*_files_with(xml))
    assert {(p["file"], p["element"]) for p in problems} == {(PROCESS, "assign")}
    assert len(problems) == 2

    shown = page.evaluate("""(problems) => {
        const r = m.showProblems(problems.concat([{file: 'classify_case.dmn', element: 'classify_case',
                                                   line: 3, message: 'a problem in another file'}]),
                                 {file: 'support_case.bpmn', list: document.getElementById('problems')});
        return {placed: r.placed, unplaced: r.unplaced.map(p => p.file)};
    }""", problems)
    assert shown == {"placed": ["assign"], "unplaced": ["classify_case.dmn"]}
    overlay = page.locator('.cf-problem-overlay[data-element="assign"]')
    assert overlay.is_visible()
    text = overlay.inner_text()
    assert "form 'missing.schema.json' does not exist in forms/" in text
    assert "assignment 'by_magic' is not one of" in text
    assert "cf-problem" in page.get_attribute('#modeller [data-element-id="assign"]', "class")
    items = page.locator("#problems li")
    assert items.count() == 3
    assert items.nth(2).inner_text() == "classify_case.dmn, classify_case, line 3: a problem in another file"
    assert items.nth(0).inner_text().startswith(f"{PROCESS}, assign, line ")
    # the list's button selects the element in the diagram
    items.nth(0).get_by_role("button", name="Show in the diagram").click()
    assert page.evaluate("m.modeler.get('selection').get().map(e => e.id)") == ["assign"]
    screenshot(page, "assets-modeller-problems")

    page.evaluate("m.clearProblems()")
    assert page.locator(".cf-problem-overlay").count() == 0
    assert "cf-problem" not in page.get_attribute('#modeller [data-element-id="assign"]', "class")


def _report(first: str, average: float | None, within: tuple[int, int], csat: tuple[int, int]) -> dict:
    def ratio(n, d, target):
        return {"value": round(n / d, 4) if d else None, "numerator": n, "denominator": d, "target": target,
                "met": None if not d else n / d >= target}
    return {"from": first, "to": first, "totals": {
        "first_response_average_seconds": {"value": average, "count": 3, "target": None, "met": None},
        "first_response_within_sla": ratio(*within, 0.95), "csat": ratio(*csat, 0.85),
        "backlog": {"value": 9, "buckets": {"lt_1d": 1, "1d_3d": 2, "3d_7d": 3, "7d_30d": 2, "gte_30d": 1},
                    "target": None, "met": None}}}


def test_charts_draw_kpi_reports_with_a_data_table(page, screenshot):
    reports = [_report("2026-11-02", 5400, (18, 20), (7, 8)), _report("2026-11-09", None, (0, 0), (5, 8)),
               _report("2026-11-16", 9000, (10, 20), (8, 8))]
    drawn = page.evaluate("""(reports) => {
        const trend = Caseflow.charts.fromReports(reports, ['first_response_within_sla', 'csat'],
            {labels: {first_response_within_sla: 'Within SLA', csat: 'CSAT'}, title: 'Shares'});
        const hours = Caseflow.charts.fromReports(reports, ['first_response_average_seconds']);
        const chart = Caseflow.charts.line(document.getElementById('trend'), trend);
        Caseflow.charts.bar(document.getElementById('backlog'),
                            Caseflow.charts.backlog(reports[2], {title: 'Backlog by age'}));
        return {trend, hours: hours.series[0].values, unit: hours.unit, datasets: chart.data.datasets.length};
    }""", reports)
    assert drawn["trend"]["unit"] == "percent"
    assert drawn["trend"]["labels"] == ["2026-11-02", "2026-11-09", "2026-11-16"]
    assert drawn["trend"]["series"] == [
        {"label": "Within SLA", "values": [90, None, 50], "target": 95},
        {"label": "CSAT", "values": [87.5, 62.5, 100], "target": 85}]
    assert drawn["hours"] == [1.5, None, 2.5] and drawn["unit"] == "hours"
    assert drawn["datasets"] == 4  # two series, each with its target line
    assert page.get_attribute("#trend", "data-chart-state") == "drawn"
    assert page.get_attribute("#trend", "aria-label") == "Shares"
    # something was painted on the canvas
    assert page.evaluate("""() => {
        const c = document.getElementById('trend');
        const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let inked = 0; for (let i = 3; i < px.length; i += 4) if (px[i]) inked++;
        return inked > 1000;
    }""")
    rows = page.locator("#trend").locator("xpath=ancestor::div[@class='cf-chart']//tbody/tr")
    assert rows.evaluate_all("rs => rs.map(r => [...r.cells].map(c => c.textContent))") == [
        ["2026-11-02", "90 %", "87.5 %"], ["2026-11-09", "—", "62.5 %"], ["2026-11-16", "50 %", "100 %"]]
    backlog = page.locator("#backlog").locator("xpath=ancestor::div[@class='cf-chart']//tbody/tr")
    assert backlog.evaluate_all("rs => rs.map(r => r.cells[1].textContent)") == ["1", "2", "3", "2", "1"]
    screenshot(page, "assets-charts")
