"""Every number in a generated summary must be one of the facts' numbers.

A language model rounds and converts units, so "1.9 s" may state a fact of 1912 ms and
"38%" one of 38.2; it must never state a number that is in no fact. A plain number
matches a fact when the fact, in one of the units the text may have used, rounds to it
at the precision the text shows. Tokens that are not plain quantities (versions such as
1.2.9, times such as 14:02, identifiers such as p75, 4g or cart.ts:88) must appear
verbatim in the facts' text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Unit word (lower case) → factors from the text's value to the facts' units.
_UNIT_FACTORS: dict[str, tuple[float, ...]] = {
    "ms": (1.0, 0.001),
    "millisecond": (1.0, 0.001),
    "milliseconds": (1.0, 0.001),
    "s": (1000.0, 1.0),
    "sec": (1000.0, 1.0),
    "second": (1000.0, 1.0),
    "seconds": (1000.0, 1.0),
    "b": (1.0,),
    "bytes": (1.0,),
    "kb": (1.0, 1000.0, 1024.0),
    "kib": (1.0, 1024.0),
    "mb": (1.0, 1000.0, 1024.0, 1e6, 1024.0**2),
    "mib": (1.0, 1024.0, 1024.0**2),
    "%": (1.0, 0.01),
    "percent": (1.0, 0.01),
    "pp": (1.0,),
    "x": (1.0,),
    "\u00d7": (1.0,),  # multiplication sign
}
_NO_UNIT = (1.0,)
_QUANTITY = re.compile(
    "^[+\\-\u2212\u00b1~\u2248]?"  # sign, minus sign, plus-minus, approximately
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    "(?P<unit>[a-z%\u00d7]*)$",
    re.IGNORECASE,
)
# En and em dashes, arrow, slash, and a hyphen between digits.
_RANGE_SEPARATORS = re.compile("[\u2013\u2014\u2192/]|(?<=\\d)-(?=\\d)")
_EDGE_PUNCTUATION = "\"'()[]{}<>,;:!?.*_`\u2026\u201c\u201d\u2018\u2019"  # and curly quotes
_RELATIVE_SLACK = 1e-6  # float noise only: rounding is judged at the shown precision


@dataclass(frozen=True)
class Quantity:
    value: float
    decimals: int
    unit: str

    def matches(self, fact: float) -> bool:
        """Whether `fact`, in one of the units the text may mean, rounds to this value."""
        tolerance = 0.5 * 10.0**-self.decimals
        for factor in _UNIT_FACTORS.get(self.unit, _NO_UNIT):
            expected = self.value * factor
            slack = tolerance * factor + _RELATIVE_SLACK * abs(expected) + 1e-9
            if abs(abs(fact) - expected) <= slack:
                return True
        return False


@dataclass(frozen=True)
class TextNumbers:
    """The numeric tokens of a text: quantities, and tokens that must appear verbatim."""

    quantities: tuple[tuple[str, Quantity], ...]
    verbatim: tuple[str, ...]


def scan(text: str) -> TextNumbers:
    """Split `text` into quantities (with the unit that follows) and verbatim tokens."""
    quantities: list[tuple[str, Quantity]] = []
    verbatim: list[str] = []
    words = [_strip(word) for word in text.split()]
    for index, word in enumerate(words):
        if not any(ch.isdigit() for ch in word):
            continue
        next_word = words[index + 1].lower() if index + 1 < len(words) else ""
        for part in _parts(word):
            quantity = _quantity(part, next_word)
            if quantity is not None:
                quantities.append((part, quantity))
            elif any(ch.isdigit() for ch in part):
                verbatim.append(part)
    return TextNumbers(tuple(quantities), tuple(verbatim))


def numbers_in(texts: Iterable[str]) -> Iterator[float]:
    """The numeric values stated in `texts` (for facts held as strings, e.g. 'Safari 17')."""
    for text in texts:
        for _, quantity in scan(text).quantities:
            yield quantity.value


def unmatched_numbers(text: str, facts: Iterable[float], facts_text: str) -> list[str]:
    """The numeric tokens of `text` that no fact supports (empty when all are grounded)."""
    fact_values = [value for value in facts if math.isfinite(value)]
    haystack = facts_text.lower()
    scanned = scan(text)
    missing = [
        token
        for token, quantity in scanned.quantities
        if not any(quantity.matches(fact) for fact in fact_values)
        and not _verbatim_in(token, haystack)
    ]
    missing += [token for token in scanned.verbatim if not _verbatim_in(token, haystack)]
    return missing


def _verbatim_in(token: str, haystack: str) -> bool:
    pattern = r"(?<![0-9a-z])" + re.escape(token.lower()) + r"(?![0-9a-z])"
    return re.search(pattern, haystack) is not None


def _strip(word: str) -> str:
    return word.strip(_EDGE_PUNCTUATION)


def _parts(word: str) -> list[str]:
    """A version or time stays whole; a range such as 1.9 to 2.6 (1.9-2.6) splits into its ends."""
    if _QUANTITY.match(word) or not _RANGE_SEPARATORS.search(word):
        return [word]
    return [_strip(part) for part in _RANGE_SEPARATORS.split(word) if _strip(part)]


def _quantity(token: str, next_word: str) -> Quantity | None:
    match = _QUANTITY.match(token)
    if match is None:
        return None
    unit = match["unit"].lower()
    if unit and unit not in _UNIT_FACTORS:
        return None  # p75-like identifiers are letters then digits; "4g", "2xl" land here
    if not unit and next_word in _UNIT_FACTORS:
        unit = next_word
    number = match["number"].replace(",", "")
    decimals = len(number.split(".")[1]) if "." in number else 0
    return Quantity(float(number), decimals, unit)
