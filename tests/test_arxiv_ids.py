"""arXiv identifiers: what is accepted, what is refused and why, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paramminer.arxiv_ids import ArxivId, looks_like_arxiv_id, parse_arxiv_id
from paramminer.errors import InputError


@pytest.mark.parametrize(
    ("text", "paper_id", "version", "month", "key"),
    [
        ("2401.90001", "2401.90001", None, "2024-01", "2401.90001"),
        ("2401.90001v2", "2401.90001", 2, "2024-01", "2401.90001"),
        ("1706.03762v7", "1706.03762", 7, "2017-06", "1706.03762"),
        ("0704.0001", "0704.0001", None, "2007-04", "0704.0001"),
        ("1412.8999v12", "1412.8999", 12, "2014-12", "1412.8999"),
        ("arXiv:2005.14165", "2005.14165", None, "2020-05", "2005.14165"),
        ("hep-th/9901001", "hep-th/9901001", None, "1999-01", "hep-th_9901001"),
        ("hep-th/9901001v3", "hep-th/9901001", 3, "1999-01", "hep-th_9901001"),
        ("math.GT/0309136", "math.GT/0309136", None, "2003-09", "math.GT_0309136"),
        ("astro-ph/0601001v1", "astro-ph/0601001", 1, "2006-01", "astro-ph_0601001"),
        ("cond-mat/9108001", "cond-mat/9108001", None, "1991-08", "cond-mat_9108001"),
        ("cs/0703001", "cs/0703001", None, "2007-03", "cs_0703001"),
    ],
)
def test_valid_identifiers(
    text: str, paper_id: str, version: int | None, month: str, key: str
) -> None:
    parsed = parse_arxiv_id(text)
    assert parsed == ArxivId(paper_id, version)
    assert parsed.month_of_v1 == month
    assert parsed.key == key
    assert "/" not in parsed.versioned_key
    assert parse_arxiv_id(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("abc", "expected YYMM.NNNNN"),
        ("../../etc/passwd", "looks like a path"),
        ("2401.90001/../../x", "looks like a path"),
        ("/2401.90001", "looks like a path"),
        ("hep-th/9901001/extra", "looks like a path"),
        ("hep-th\\9901001", "looks like a path"),
        ("2413.00001", "month 13 does not exist"),
        ("2400.00001", "month 00 does not exist"),
        ("hep-th/9913001", "month 13 does not exist"),
        ("2401.9000", "from 1501 on have a 5-digit number"),
        ("1412.00001", "before 1501 have a 4-digit number"),
        ("0612.0001", "start in 0704"),
        ("hep-th/0704001", "run from 9108 to 0703"),
        ("hep-th/9107001", "run from 9108 to 0703"),
        ("2401.90001v0", "v1 or later"),
        ("2401.90001v01", "v1 or later"),
        (" 2401.90001", "whitespace"),
        ("2401.90001\n", "whitespace"),
        ("2401. 90001", "whitespace"),
        ("HEP-TH/9901001", "expected YYMM.NNNNN"),
        ("2401.90001v", "expected YYMM.NNNNN"),
        ("2401.90001.pdf", "expected YYMM.NNNNN"),
    ],
)
def test_invalid_identifiers_say_why_in_one_line(text: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_arxiv_id(text)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


def test_looks_like_is_arxivs_own_shape_check() -> None:
    # arXiv answers 0000.0000 with an empty feed but abc with HTTP 400.
    assert looks_like_arxiv_id("0000.0000")
    assert looks_like_arxiv_id("astro-ph/0601001")
    assert looks_like_arxiv_id("1111.2011v2")
    assert not looks_like_arxiv_id("abc")
    assert not looks_like_arxiv_id("../x")


def test_with_version() -> None:
    assert parse_arxiv_id("2401.90001").with_version(3).versioned == "2401.90001v3"
    assert parse_arxiv_id("2401.90001v3").with_version(None) == ArxivId("2401.90001")
    with pytest.raises(InputError):
        parse_arxiv_id("2401.90001").with_version(0)


# ----------------------------------------------------------------- properties

versions = st.none() | st.integers(min_value=1, max_value=99)


@st.composite
def new_style(draw: st.DrawFn) -> tuple[str, int | None, str]:
    yy = draw(st.integers(min_value=7, max_value=99))
    mm = draw(st.integers(min_value=4 if yy == 7 else 1, max_value=12))
    width = 4 if (yy, mm) <= (14, 12) else 5
    number = draw(st.integers(min_value=0, max_value=10**width - 1))
    return f"{yy:02d}{mm:02d}.{number:0{width}d}", draw(versions), f"20{yy:02d}-{mm:02d}"


@st.composite
def old_style(draw: st.DrawFn) -> tuple[str, int | None, str]:
    archive = draw(st.sampled_from(["hep-th", "hep-ph", "astro-ph", "math.GT", "cs.AI", "q-bio"]))
    year = draw(st.integers(min_value=1991, max_value=2007))
    low = 8 if year == 1991 else 1
    high = 3 if year == 2007 else 12
    mm = draw(st.integers(min_value=low, max_value=high))
    number = draw(st.integers(min_value=0, max_value=999))
    text = f"{archive}/{year % 100:02d}{mm:02d}{number:03d}"
    return text, draw(versions), f"{year}-{mm:02d}"


@given(new_style() | old_style())
def test_round_trip(parts: tuple[str, int | None, str]) -> None:
    paper_id, version, month = parts
    text = paper_id if version is None else f"{paper_id}v{version}"
    parsed = parse_arxiv_id(text)
    assert parsed == ArxivId(paper_id, version)
    assert str(parsed) == text
    assert parse_arxiv_id(str(parsed)) == parsed
    assert parse_arxiv_id("arXiv:" + text) == parsed
    assert parsed.month_of_v1 == month
    assert parsed.key == paper_id.replace("/", "_")
    assert parse_arxiv_id(parsed.with_version(None).versioned).version is None


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_input_error(text: str) -> None:
    try:
        parsed = parse_arxiv_id(text)
    except InputError as error:
        assert "\n" not in str(error)
        return
    # Whatever gets through is safe to use as a file name and in a URL path.
    for name in (parsed.key, parsed.versioned_key):
        assert "/" not in name and "\\" not in name and ".." not in name
        assert not any(ch.isspace() for ch in name)
    assert parse_arxiv_id(str(parsed)) == parsed
