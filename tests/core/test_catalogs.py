"""A bare ``pytest`` compiles the French catalog itself, or stops at once saying how to."""

import os
import shutil

import pytest
from babel.support import Translations

from tests.catalogs import CatalogError, compile_catalogs
from tests.helpers import ROOT


@pytest.fixture
def fresh_checkout(tmp_path):
    """The translations folder as a fresh clone has it: .po files, no .mo."""
    copy = tmp_path / "translations"
    shutil.copytree(ROOT / "translations", copy, ignore=shutil.ignore_patterns("*.mo"))
    return copy


def french(directory):
    return Translations.load(str(directory), ["fr"], domain="messages")


def test_a_fresh_checkout_gets_its_french_catalog_compiled(fresh_checkout):
    assert french(fresh_checkout).gettext("Page not found") == "Page not found"  # no catalog
    [written] = compile_catalogs(fresh_checkout)
    assert written == fresh_checkout / "fr" / "LC_MESSAGES" / "messages.mo"
    assert french(fresh_checkout).gettext("Page not found") == "Page introuvable"


def test_a_catalog_older_than_its_po_file_is_compiled_again(fresh_checkout):
    compile_catalogs(fresh_checkout)
    assert compile_catalogs(fresh_checkout) == []  # up to date: nothing to do
    po = fresh_checkout / "fr" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(
        text.replace('msgstr "Page introuvable"', 'msgstr "Page absente"'), encoding="utf-8"
    )
    mo = po.with_suffix(".mo")
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    assert compile_catalogs(fresh_checkout) == [mo]
    assert french(fresh_checkout).gettext("Page not found") == "Page absente"


def test_a_catalog_that_does_not_compile_stops_with_how_to_fix_it(fresh_checkout):
    po = fresh_checkout / "fr" / "LC_MESSAGES" / "messages.po"
    po.write_text(
        po.read_text(encoding="utf-8")
        + '\n#, python-format\nmsgid "%(amount)s left"\nmsgstr "%(montant)s restant"\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match="make translations"):
        compile_catalogs(fresh_checkout)
    assert not po.with_suffix(".mo").exists()
