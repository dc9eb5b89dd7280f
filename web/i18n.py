"""Languages of the pages: zh-CN and en (Flask-Babel).

The language is the one chosen with the switch (kept in the session), else the best match of
the browser's Accept-Language, else English. The catalogues are ``translations/<locale>/
LC_MESSAGES/messages.po`` in the repository (Chinese in ``zh``: gettext finds it for
zh_Hans_CN, Babel's name of zh-CN); the compiled ``.mo`` files are not: the app
compiles a missing or stale one when it starts (``pybabel compile`` does the same).
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel, get_locale, refresh

from web.pages import HERE

log = logging.getLogger("caseflow.web")

TRANSLATIONS = HERE / "translations"
#: locale -> (the html lang attribute, the language's own name)
LANGUAGES = {"en": ("en", "English"), "zh_CN": ("zh-CN", "中文")}
DEFAULT = "en"

babel = Babel()


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(["en", "zh-CN", "zh", "zh-Hans", "zh-Hans-CN"]) if request else None
    return "zh_CN" if best and best.startswith("zh") else DEFAULT


def current_locale() -> str:
    """The page's language as a key of LANGUAGES (Babel itself names zh_CN 'zh_Hans_CN')."""
    return "zh_CN" if get_locale().language == "zh" else "en"


def html_lang() -> str:
    return LANGUAGES[current_locale()][0]


def is_chinese() -> bool:
    return current_locale() == "zh_CN"


def localized(item: dict, key: str = "title") -> str | None:
    """A JSON-schema text in the page's language: ``x-<key>-zh`` for Chinese, ``<key>`` otherwise."""
    if is_chinese() and item.get(f"x-{key}-zh"):
        return item[f"x-{key}-zh"]
    return item.get(key)


def compile_catalogues(directory: Path = TRANSLATIONS) -> None:
    """Compile every ``messages.po`` whose ``.mo`` is missing or older (atomically: several
    workers may start at once). A read-only installation must ship compiled files."""
    for po in directory.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as target:
                write_mo(target, catalog)
            os.replace(tmp, mo)
        except OSError as exc:
            log.warning("cannot compile %s: %s", po, exc)


def register(app: Flask) -> None:
    compile_catalogues()
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config.get("WEB_TIMEZONE", "Asia/Shanghai"))
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel keeps the locale on the app context, which outlives a request where one is
    # pushed around several (tests, CLI): each request chooses again.
    app.before_request(refresh)
    app.jinja_env.globals.update(html_lang=html_lang, LANGUAGES=LANGUAGES, localized=localized,
                                 current_locale=current_locale)
