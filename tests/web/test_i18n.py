"""Every text of the pages is translated into Chinese, with the same placeholders."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
WEB = ROOT / "web"
DOMAIN = ROOT / "cases"  # labels the domain hands to the pages, marked N_ (cases/core/texts.py)
CATALOGUE = WEB / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def _catalogue():
    with CATALOGUE.open("rb") as po:
        return read_po(po, locale="zh")


def _translated(message) -> bool:
    """A message with every form translated (an ngettext message has one per plural form)."""
    if message is None:
        return False
    forms = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return all(forms)


def test_every_text_in_the_code_and_templates_has_a_chinese_translation():
    catalogue = _catalogue()
    texts = {message for folder in (WEB, DOMAIN) for _file, _line, message, _comments, _context in
             extract_from_dir(str(folder), METHODS, keywords=KEYWORDS)}
    assert len(texts) > 200
    untranslated = sorted(str(t) for t in texts if not _translated(catalogue.get(t)))
    assert untranslated == [], "run `make translations` and translate these in " + str(CATALOGUE)


def test_the_translations_keep_their_placeholders():
    problems = [(message.id, [str(e) for e in errors]) for message, errors in _catalogue().check()]
    assert problems == []
