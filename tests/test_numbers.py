"""Count normalization: every way a paper writes 1.5 billion is one integer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from paramminer.numbers import humanize, parse_count, scale_of

ONE_POINT_FIVE_BILLION = [
    "1.5B",
    "1,500M",
    "1.5 billion",
    "1.5×10^9",
    "1.5 × 10^9",
    "1.5e9",
    "1500000000",
    "~1.5B",
    "1.5 B",
    "1.5bn",
    "1500 million",
    "1,500,000,000",
    "1.5x10^9",
    "1.5 \\times 10^{9}",
    "1.5E+09",
    "≈1.5B",
    "15×10^8",
    "1.5 × 10⁹".replace("⁹", "^9"),
    "0.0015T",
    " 1.5B ",
]
NOT_COUNTS = [
    "0.5",
    "",
    "abc",
    "1.2.3",
    "B",
    "1.5 parameters",
    "1.5BB",
    "1,50M",
    "--3",
    "0.25",
    "1.5 bill",
    "M1.5",
    "1.5×",
    "1e",
]


@pytest.mark.parametrize("text", ONE_POINT_FIVE_BILLION)
def test_written_forms_of_one_point_five_billion(text: str) -> None:
    assert parse_count(text) == 1_500_000_000


@pytest.mark.parametrize("text", NOT_COUNTS)
def test_non_counts_give_none(text: str) -> None:
    assert parse_count(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("175B", 175 * 10**9),
        ("0.5M", 500_000),
        ("13B", 13 * 10**9),
        ("6.7B", 6_700_000_000),
        ("1.6T", 1_600_000_000_000),
        ("340M", 340_000_000),
        ("66k", 66_000),
        ("110 million", 110 * 10**6),
        ("1.3e9", 1_300_000_000),
        ("3 × 10^-3", None),
        ("12", 12),
        ("1.5 − 10", None),
    ],
)
def test_known_values(text: str, value: int | None) -> None:
    assert parse_count(text) == value


# Generated values: a mantissa with up to 3 decimals times a scale, written many ways.
SCALES = {
    10**3: ["K", "k", " thousand"],
    10**6: ["M", "m", " million", "mn"],
    10**9: ["B", "b", " billion", "bn", "G"],
    10**12: ["T", " trillion", "tn"],
}
EXPONENT_OF = {10**3: 3, 10**6: 6, 10**9: 9, 10**12: 12}


def _mantissa_text(milli: int) -> str:
    """milli/1000 written without trailing zeros: 1500 -> '1.5', 7000 -> '7'."""
    text = str(Decimal(milli) / 1000)
    return text.rstrip("0").rstrip(".") if "." in text else text


@given(
    milli=st.integers(min_value=1_000, max_value=999_999),
    scale=st.sampled_from(sorted(SCALES)),
    data=st.data(),
)
@example(milli=1_500, scale=10**9, data=None)
def test_generated_values_round_trip_through_written_forms(
    milli: int, scale: int, data: st.DataObject | None
) -> None:
    value = milli * scale // 1000
    mantissa = _mantissa_text(milli)
    suffix = data.draw(st.sampled_from(SCALES[scale])) if data else "B"
    power = EXPONENT_OF[scale]
    forms = [
        f"{mantissa}{suffix}",
        f"~{mantissa}{suffix}",
        f"{mantissa}×10^{power}",
        f"{mantissa} × 10^{power}",
        f"{mantissa}e{power}",
        f"{value}",
        f"{value:,}",
    ]
    for form in forms:
        assert parse_count(form) == value, form
    if scale > 10**3 and milli % 1000 == 0:  # "1,500M" style: the next smaller unit
        smaller = scale // 1000
        assert parse_count(f"{value // smaller:,}{SCALES[smaller][0]}") == value


@given(st.integers(min_value=1, max_value=10**15))
def test_humanize_is_parseable_and_close(value: int) -> None:
    text = humanize(value)
    parsed = parse_count(text)
    assert parsed is not None, text
    # three significant figures: within 0.5% of the value
    assert abs(parsed - value) <= value * 0.005 + 1, (value, text, parsed)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (175_000_000_000, "175B"),
        (1_700_000, "1.7M"),
        (999, "999"),
        (999_999_999, "1B"),
        (999_600_000, "1B"),
        (999_400_000, "999M"),
        (10**15, "1000T"),
        (1_000, "1K"),
    ],
)
def test_humanize_exact(value: int, text: str) -> None:
    assert humanize(value) == text


@given(st.text(max_size=12))
def test_parse_count_never_raises_and_is_non_negative(text: str) -> None:
    result = parse_count(text)
    assert result is None or (isinstance(result, int) and result >= 0)


@pytest.mark.parametrize(
    ("word", "size"),
    [
        ("B", 10**9),
        ("billion", 10**9),
        ("M", 10**6),
        ("Bn.", 10**9),
        ("trillion", 10**12),
        ("x", None),
    ],
)
def test_scale_of(word: str, size: int | None) -> None:
    assert scale_of(word) == size
