"""Files we hand to people to open elsewhere."""

import re

# A spreadsheet runs a cell starting with one of these as a formula (or as the start of one).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"\A-?[0-9]+(?:\.[0-9]+)?\Z")


def csv_cell(value) -> str:
    """A CSV cell a spreadsheet shows as the text it is: one that would start a formula is prefixed
    with an apostrophe (OWASP's advice on CSV injection). Plain negative numbers stay numbers.

    >>> csv_cell("=1+1"), csv_cell("-12.90"), csv_cell("Python 入门")
    ("'=1+1", '-12.90', 'Python 入门')
    """
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text
