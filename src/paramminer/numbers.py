"""Turn the ways papers write counts ("1.5B", "1,500M", "1.5 billion", "1.5×10^9") into ints."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

SCALE_WORDS: dict[str, int] = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "mil": 10**6,
    "million": 10**6,
    "millions": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "g": 10**9,
    "billion": 10**9,
    "billions": 10**9,
    "t": 10**12,
    "tn": 10**12,
    "trillion": 10**12,
    "trillions": 10**12,
}

_MANTISSA = r"(?P<mant>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_EXPONENT = (
    r"(?:\s*(?:[x×*·]|\\times)\s*10\s*(?:\^|\*\*)?\s*\{?(?P<pow>[-−]?\d{1,2})\}?"
    r"|[eE](?P<epow>[+-]?\d{1,2}))"
)
_SCALE = r"(?P<scale>[kKmMbBgGtT]|[Mm]n|[Bb]n|[Tt]n|thousand|millions?|billions?|trillions?)"
COUNT_RE = re.compile(
    rf"^\s*[~≈∼]?\s*{_MANTISSA}(?:{_EXPONENT}|\s*-?\s*{_SCALE}(?![A-Za-z]))?\s*$",
    re.IGNORECASE,
)


def parse_count(text: str) -> int | None:
    """Return the integer a count expression denotes, or None if it is not one.

    >>> parse_count("1.5B"), parse_count("1,500M"), parse_count("1.5 billion")
    (1500000000, 1500000000, 1500000000)
    >>> parse_count("1.5×10^9"), parse_count("1.3e9"), parse_count("~13B")
    (1500000000, 1300000000, 13000000000)
    """
    match = COUNT_RE.match(text.replace("\u2212", "-"))
    if not match:
        return None
    try:
        value = Decimal(match["mant"].replace(",", ""))
    except InvalidOperation:
        return None
    power = match["pow"] or match["epow"]
    if power is not None:
        value *= Decimal(10) ** int(power.replace("−", "-"))
    elif match["scale"]:
        value *= SCALE_WORDS[match["scale"].lower()]
    if value != value.to_integral_value() and value < 1000:
        return None  # "0.5" alone is not a count; "0.5M" is
    return int(value.to_integral_value())


def scale_of(word: str) -> int | None:
    """Multiplier for a scale word or suffix ("B", "billion", "M"), else None."""
    return SCALE_WORDS.get(word.lower().strip("."))


def humanize(value: int) -> str:
    """Short human form: 175000000000 -> '175B', 1700000 -> '1.7M'."""
    units = (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3))
    for index, (suffix, size) in enumerate(units):
        if value >= size:
            text = f"{value / size:.3g}"
            if "e" in text:  # rounds up to 1000: 999.6M is '1B', not '1e+03M'
                if index == 0:
                    return f"{value / size:.0f}{suffix}"
                suffix, size = units[index - 1]
                text = f"{value / size:.3g}"
            return f"{text}{suffix}"
    return str(value)
