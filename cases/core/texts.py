"""Texts for people that the domain names and the pages show.

The domain speaks no Flask-Babel (the ``no-request-below`` contract): a label it hands to the pages
is an English message id marked with :func:`N_`, which ``make translations`` collects from
``cases/`` like ``_l`` from ``web/``; the page translates it (``gettext(label)``) where it is shown.
"""
from __future__ import annotations


def N_(text: str) -> str:  # the conventional name of gettext_noop
    """Mark ``text`` as a message id to translate where it is shown; returns it unchanged."""
    return text
