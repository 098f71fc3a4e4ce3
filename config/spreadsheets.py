"""CSV cells a spreadsheet will not run: OWASP's advice against CSV (formula) injection.

A lead can write anything, and a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
a formula to Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``). Such a cell is written with a leading
single quote, which spreadsheets show as text. Source: OWASP, "CSV Injection".
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """``value`` as a CSV cell that opens as text, never as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_row(values) -> list[str]:
    return [csv_cell(v) for v in values]
