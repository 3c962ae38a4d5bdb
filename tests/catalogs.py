"""Compiling the translation catalogs for a test run that did not go through ``make``."""

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


class CatalogError(RuntimeError):
    """A ``.po`` file that cannot be compiled; the message says which and how to fix it."""


def compile_catalogs(directory):
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under ``directory`` whose ``.mo``
    is missing or older; return the ``.mo`` paths written.

    Each file is written under a temporary name and moved into place, so that a test
    process reading the catalog never sees half of one.
    """
    written = []
    for po in sorted(Path(directory).glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        language = po.parent.parent.name
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=language, abort_invalid=True)
        except Exception as error:
            raise CatalogError(
                f"{po} cannot be read ({error}); fix it, then run `make translations`."
            ) from None
        problems = [
            f"{message.id!r}: {'; '.join(map(str, errors))}" for message, errors in catalog.check()
        ]
        if problems:
            raise CatalogError(
                f"{po} has messages that do not compile: {' | '.join(problems[:5])}; "
                "fix them, then run `make translations`."
            )
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")
        with partial.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=True)  # as `make` does (pybabel compile -f)
        os.replace(partial, mo)
        written.append(mo)
    return written
