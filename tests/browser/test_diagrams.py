"""docs/diagrams and the decision tables in docs/process.md (`make diagrams`, tools/render_diagrams.py):
the renderer draws every real process whole with the bundled bpmn-js viewer in Debian's Chromium —
every flow node, flow and lane with its name in the SVG, a PNG of a readable size on white — and the
committed images and tables are those of the current process files, so an owner who changed a
diagram is told to run `make diagrams`."""
from __future__ import annotations

import shutil
import zlib
from pathlib import Path

import pytest
from lxml import etree

from tools import dmn_tables, render_diagrams
from tools.render_diagrams import png_size, stamp_in_png, stamp_in_svg, stamp_of, svg_size

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
SVG = "{http://www.w3.org/2000/svg}"
DRAWN = ("Task", "Event", "Gateway", "subProcess", "callActivity", "sequenceFlow", "lane", "participant")


def _elements(source: Path) -> dict[str, str]:
    """id -> name of every element of the file a diagram must show."""
    tree = etree.parse(str(source))
    return {e.get("id"): " ".join((e.get("name") or "").split()) for e in tree.iter()
            if isinstance(e.tag, str) and e.tag.startswith(BPMN) and e.tag.removeprefix(BPMN).endswith(DRAWN)}


def _drawn_texts(svg_root) -> dict[str, str]:
    """data-element-id -> the text of the element's own label (its visual, or its external label)."""
    texts: dict[str, str] = {}
    for group in svg_root.iter(f"{SVG}g"):
        element_id = group.get("data-element-id")
        if not element_id:
            continue
        visual = group.find(f"{SVG}g[@class='djs-visual']")
        words = "".join(visual.itertext()) if visual is not None else ""
        key = element_id.removesuffix("_label")
        texts[key] = texts.get(key, "") + words
    return texts


def _first_pixel(png: bytes) -> tuple[int, ...]:
    """The top-left pixel (always stored unfiltered: every PNG filter predicts it from zeros)."""
    header = png[16:29]
    colour_type = header[9]
    data = b"".join(chunk for kind, chunk, _end in render_diagrams._chunks(png) if kind == b"IDAT")
    row = zlib.decompressobj().decompress(data, 16)
    channels = {2: 3, 6: 4}[colour_type]
    return tuple(row[1:1 + channels])


@pytest.fixture(scope="module")
def rendered(browser_session, tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("diagrams")
    return out, render_diagrams.render_all(browser_session, PROCESSES, out)


def test_every_process_is_drawn_whole_as_svg_and_png(rendered):
    out, written = rendered
    sources = sorted(PROCESSES.glob("*.bpmn"))
    assert {"support_case", "requirement_evaluation", "complaint_handling", "customer_follow_up"} <= {
        s.stem for s in sources}
    assert sorted(p.name for p in written) == sorted(f"{s.stem}{x}" for s in sources for x in (".svg", ".png"))
    for source in sources:
        svg = (out / f"{source.stem}.svg").read_text(encoding="utf-8")
        root = etree.fromstring(svg.encode("utf-8"))
        assert root.tag == f"{SVG}svg"
        elements = _elements(source)
        texts = _drawn_texts(root)
        assert len(elements) > 20
        assert set(elements) - set(texts) == set(), source.name
        for element_id, name in elements.items():
            # bpmn-js wraps labels at spaces (and inside words too long for the line)
            assert "".join(name.split()) in "".join(texts[element_id].split()), (source.name, element_id, name)
        # on white, the whole viewBox; nothing of the viewer's page (legend, buttons, hit areas)
        background = root[0]
        assert (background.tag, background.get("fill")) == (f"{SVG}rect", "#ffffff")
        assert background.get("width") == root.get("width") and background.get("height") == root.get("height")
        assert "djs-hit" not in svg and "cf-legend" not in svg
        width, height = svg_size(svg)
        assert width >= 1000 and height >= 500, (source.name, width, height)

        png = (out / f"{source.stem}.png").read_bytes()
        png_width, png_height = png_size(png)
        assert abs(png_width - width * render_diagrams.SCALE) <= 2, (source.name, png_width, width)
        assert abs(png_height - height * render_diagrams.SCALE) <= 2, (source.name, png_height, height)
        assert _first_pixel(png)[:3] == (255, 255, 255) and _first_pixel(png)[3:] in ((), (255,))
        assert stamp_in_svg(svg) == stamp_in_png(png) == stamp_of(source)


def test_only_stale_images_are_drawn_again(rendered, browser_session):
    out, _written = rendered
    assert render_diagrams.render_all(browser_session, PROCESSES, out, force=False) == []


def test_the_committed_diagrams_and_decision_tables_are_those_of_the_process_files():
    assert render_diagrams.stale() == [], "a process file changed: run `make diagrams` and commit the result"


def test_a_changed_process_or_decision_table_is_reported_stale(tmp_path):
    processes = tmp_path / "processes"
    shutil.copytree(PROCESSES, processes)
    doc = tmp_path / "process.md"
    shutil.copy(render_diagrams.DOC, doc)
    assert render_diagrams.stale(processes, render_diagrams.OUT, doc) == []

    bpmn = processes / "complaint_handling.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="Complaint settings"', 'name="Settings"'),
                    encoding="utf-8")
    dmn = processes / "classify_case.dmn"
    dmn.write_text(dmn.read_text(encoding="utf-8").replace('"printer"', '"printer", "plotter"'), encoding="utf-8")
    problems = render_diagrams.stale(processes, render_diagrams.OUT, doc)
    assert problems == ["docs/diagrams/complaint_handling.svg/.png: missing or drawn from another "
                        "processes/complaint_handling.bpmn",
                        "process.md: the table of processes/classify_case.dmn is not the file's"]

    assert dmn_tables.write(processes, doc) == ["classify_case.dmn"]
    assert "`printer`, `plotter`" in doc.read_text(encoding="utf-8")
    assert dmn_tables.stale(processes, doc) == []
    assert dmn_tables.write(processes, doc) == []


def test_check_command_says_what_to_do(tmp_path, capsys, monkeypatch):
    assert render_diagrams.main(["--check"]) == 0
    assert capsys.readouterr().out == ""
    processes = tmp_path / "processes"
    shutil.copytree(PROCESSES, processes)
    (processes / "customer_follow_up.bpmn").write_text("<changed/>", encoding="utf-8")
    monkeypatch.setattr(render_diagrams, "PROCESSES", processes)
    assert render_diagrams.main(["--check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "docs/diagrams/customer_follow_up.svg/.png: missing or drawn from another processes/customer_follow_up.bpmn",
        "run `make diagrams` and commit docs/diagrams/ and docs/process.md"]


def test_decision_tables_read_as_rules():
    table = dmn_tables.markdown(PROCESSES / "classify_case.dmn").splitlines()
    assert table[0] == ("Decision `classify_case` (Classify a support case), hit policy FIRST: the first rule "
                        "that matches, from the top, decides.")
    assert table[2] == "| rule | meaning | when | Category | Priority |"
    assert ("| R03 | The reporter named a category (VIP customer) | Category named by the reporter: given; "
            "Customer tier: `vip` | `category_hint` | `high` |") in table
    assert table[-1] == "| R13 | Anything else is a general consultation | anything else | `general_consultation` | `low` |"
    outcome = dmn_tables.markdown(PROCESSES / "requirement_outcome.dmn")
    assert ("| RO5 | A small change (at most 3 person-days) in time for the customer: done free | Can be finished "
            "by the customer's date: yes; Effort (person-days): ≤ 3 | `free_change` | `other_module_price` |") in outcome


def test_the_docs_show_each_process_diagram():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    process_doc = render_diagrams.DOC.read_text(encoding="utf-8")
    for source in PROCESSES.glob("*.bpmn"):
        assert f"(docs/diagrams/{source.stem}.png)" in readme, source.name
        assert f"(diagrams/{source.stem}.png)" in process_doc, source.name
    assert "support_case.png" not in readme.replace("diagrams/support_case.png", "")
    assert not (ROOT / "docs" / "support_case.png").exists()
