"""One rule for every CSV we hand out: a cell must never run as a spreadsheet formula."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """The cell's text, with a leading apostrophe when it would start a formula.

    Excel, LibreOffice and Google Sheets run a cell that starts with = + - @ (or a tab or carriage
    return before one) as a formula: a name typed as ``=HYPERLINK(...)`` would otherwise become a
    live link in the regulator's spreadsheet (OWASP "CSV injection").
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
