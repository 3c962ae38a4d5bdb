"""CSV exports: streamed row by row, safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by Excel and LibreOffice, so text that someone else typed (a donor's name) could
run in the treasurer's spreadsheet (OWASP "CSV injection"). Every text cell is neutralised
with a leading quote; numbers the app writes itself are not text and stay as they are.
"""

import csv
import io

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Excel reads a CSV file as the local code page unless it starts with a byte order mark.
BOM = "\ufeff"


def neutralise(value):
    """Text that a spreadsheet would take for a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _line(writer, buffer, row):
    writer.writerow([neutralise("" if value is None else value) for value in row])
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def stream_csv(header, rows, filename):
    """A response that sends ``header`` then each row of the iterable ``rows`` as it comes.

    ``rows`` is consumed while the response is sent (inside the request's context), so an
    export of any size never sits whole in memory.
    """

    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        yield BOM + _line(writer, buffer, header)
        for row in rows:
            yield _line(writer, buffer, row)

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_response(header, rows, filename):
    """The whole file at once, for a small export whose request also writes (an audit entry):
    a streamed answer is sent after the request's commit, so it must only read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    text = BOM + _line(writer, buffer, header) + "".join(_line(writer, buffer, r) for r in rows)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
