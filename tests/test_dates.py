"""Publication dates: each source, their precedence, conflicts, venue and copyright lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paramminer.dates import (
    CONFLICT_MONTHS,
    copyright_date,
    load_venues,
    month_of_arxiv_id,
    publication_date,
    references_date,
    venue_date,
)
from paramminer.errors import ConfigError
from paramminer.models import ArxivMeta
from paramminer.pdftext import ArxivStamp


@pytest.mark.parametrize(
    ("arxiv_id", "month"),
    [
        ("2204.02311", "2022-04-01"),
        ("2204.02311v5", "2022-04-01"),
        ("arXiv:1412.6980", "2014-12-01"),
        ("0704.0001", "2007-04-01"),
        ("hep-th/9901001", "1999-01-01"),
        ("hep-th/9901001v2", "1999-01-01"),
        ("math.GT/0309136", "2003-09-01"),
        ("cond-mat/9108001", "1991-08-01"),
        ("cs/0703001", "2007-03-01"),
        ("2213.00001", None),
        ("dropout-a-simple-way", None),
        ("", None),
    ],
)
def test_month_of_arxiv_id(arxiv_id: str, month: str | None) -> None:
    assert month_of_arxiv_id(arxiv_id) == month


def meta(published: str = "2022-04-05") -> ArxivMeta:
    return ArxivMeta("2204.02311", 5, "PaLM", published=published, categories=("cs.CL",))


def stamp(version: int | None, date: str, arxiv_id: str = "2204.02311") -> ArxivStamp:
    return ArxivStamp(arxiv_id, version, "cs.CL", date)


def test_nothing_known_gives_no_date() -> None:
    assert publication_date(None, None, None) == publication_date(None, None, None, [])
    result = publication_date(None, None, None)
    assert (result.date, result.source, result.conflict) == (None, None, None)


def test_api_published_wins_over_everything() -> None:
    result = publication_date(meta(), "2204.02311", stamp(5, "2022-10-05"),
                              ["Published as a conference paper at ICLR 2023"])
    assert (result.date, result.source, result.precision, result.conflict) == (
        "2022-04-05", "arxiv_api", "day", None)


def test_identifier_month_when_not_harvested() -> None:
    result = publication_date(None, "2204.02311", None)
    assert (result.date, result.source, result.precision) == ("2022-04-01", "arxiv_id", "month")


def test_old_style_identifier() -> None:
    result = publication_date(None, "hep-th/9901001", None)
    assert (result.date, result.source) == ("1999-01-01", "arxiv_id")


def test_later_version_stamp_is_only_an_upper_bound() -> None:
    result = publication_date(None, "2204.02311", stamp(5, "2022-10-05"))
    assert (result.date, result.source, result.conflict) == ("2022-04-01", "arxiv_id", None)


def test_v1_stamp_refines_the_identifier_month_to_the_day() -> None:
    result = publication_date(None, "2204.02311", stamp(1, "2022-04-05"))
    assert (result.date, result.source, result.precision) == ("2022-04-05", "pdf_stamp", "day")


def test_stamp_alone_dates_by_its_identifier() -> None:
    later = publication_date(None, None, stamp(3, "2023-01-10"))
    assert (later.date, later.source) == ("2022-04-01", "arxiv_id")
    first = publication_date(None, None, stamp(1, "2022-04-05"))
    assert (first.date, first.source) == ("2022-04-05", "pdf_stamp")


def test_api_and_identifier_far_apart_is_a_conflict() -> None:
    result = publication_date(meta("2021-01-04"), "2204.02311", None)
    assert result.date == "2021-01-04"
    assert result.conflict == "arxiv_api 2021-01-04 vs arxiv_id 2022-04"


def test_nearby_sources_are_no_conflict() -> None:
    near = f"2022-{4 + CONFLICT_MONTHS:02d}-01"
    assert publication_date(meta(near), "2204.02311", None).conflict is None


def test_later_version_stamp_before_v1_is_a_conflict() -> None:
    result = publication_date(None, "2204.02311", stamp(2, "2021-06-01"))
    assert result.conflict == "arxiv_id 2022-04 vs pdf_stamp 2021-06-01 (v2)"


def test_v1_stamp_in_another_month_is_a_conflict() -> None:
    result = publication_date(None, "2204.02311", stamp(1, "2022-12-01"))
    assert (result.date, result.source) == ("2022-04-01", "arxiv_id")
    assert result.conflict == "arxiv_id 2022-04 vs pdf_stamp 2022-12-01 (v1)"


def test_venue_long_before_the_preprint_is_a_conflict() -> None:
    pages = ["Appearing in Proceedings of the 13th International Conference on Artificial "
             "Intelligence and Statistics (AISTATS) 2010, Chia Laguna Resort, Sardinia."]
    result = publication_date(None, "1412.6980", None, pages)
    assert (result.date, result.source) == ("2014-12-01", "arxiv_id")
    assert result.conflict == "arxiv_id 2014-12 vs venue 2010-05 (AISTATS)"


def test_venue_after_the_preprint_is_expected() -> None:
    pages = ["Published as a conference paper at ICLR 2015\nADAM: A METHOD FOR STOCHASTIC"]
    result = publication_date(None, "1412.6980", None, pages)
    assert (result.date, result.source, result.conflict) == ("2014-12-01", "arxiv_id", None)


@pytest.mark.parametrize(
    ("page", "date", "precision", "venue"),
    [
        ("Published as a conference paper at ICLR 2022\nTITLE", "2022-05-01", "month", "ICLR"),
        ("31st Conference on Neural Information Processing Systems (NIPS 2017), Long Beach, "
         "CA, USA.", "2017-12-01", "month", "NeurIPS"),
        ("Proceedings of the 32nd International Conference on Machine\nLearning, Lille, "
         "France, 2015. JMLR: W&CP volume 37.", "2015-07-01", "month", "ICML"),
        ("This CVPR 2016 paper is the Open Access version, provided by the Computer Vision "
         "Foundation.", "2016-06-01", "month", "CVPR"),
        ("Journal of Machine Learning Research 15 (2014) 1929-1958 Submitted 11/13; "
         "Published 6/14", "2014-06-01", "month", "JMLR"),
        ("Journal of Machine Learning Research 21 (2020) 1-67 Submitted 1/20", "2020-01-01",
         "year", "JMLR"),
        ("IEEE TRANSACTIONS ON PATTERN ANALYSIS AND MACHINE INTELLIGENCE, VOL. 35, NO. 8, "
         "AUGUST 2013 1915", "2013-08-01", "month", "TPAMI"),
        ("Request permissions from permissions@acm.org. KDD '20, August 23-27, 2020, "
         "Virtual Event", "2020-08-01", "month", "KDD"),
    ],
)
def test_venue_statements(page: str, date: str, precision: str, venue: str) -> None:
    found = venue_date(page)
    assert found is not None
    assert (found.date, found.precision, found.detail.split(",")[0]) == (date, precision, venue)
    result = publication_date(None, None, None, [page])
    assert (result.date, result.source) == (date, "venue")


def test_cited_venue_is_not_the_papers_own() -> None:
    page = ("Deep networks such as AlexNet by Krizhevsky et al. [14] presented at the NIPS 2012 "
            "conference changed the field.")
    assert venue_date(page) is None


def test_statement_without_a_year_gives_nothing() -> None:
    assert venue_date("Published as a conference paper at ICLR\nTITLE") is None


@pytest.mark.parametrize(
    ("page", "year"),
    [
        ("978-1-4673-6964-0/15/$31.00 (c) 2015 IEEE", "2015"),
        ("Copyright 2010 by the authors.", "2010"),
        ("© 2024 Google DeepMind. All rights reserved", "2024"),
        ("c© Springer International Publishing Switzerland 2015", "2015"),
    ],
)
def test_copyright_lines(page: str, year: str) -> None:
    found = copyright_date(page)
    assert found is not None
    assert (found.date, found.precision) == (f"{year}-01-01", "year")
    result = publication_date(None, None, None, [page])
    assert (result.date, result.source, result.precision) == (f"{year}-01-01", "copyright", "year")


def test_venue_beats_copyright_and_they_agree() -> None:
    page = ("Appearing in Proceedings of the 13th International Conference on Artificial "
            "Intelligence and Statistics (AISTATS) 2010, Chia Laguna Resort. Copyright 2010 "
            "by the authors.")
    result = publication_date(None, None, None, [page])
    assert (result.date, result.source, result.conflict) == ("2010-05-01", "venue", None)


def test_venue_and_copyright_years_apart_is_a_conflict() -> None:
    page = "Published as a conference paper at ICLR 2022\n(c) 2019 IEEE"
    result = publication_date(None, None, None, [page])
    assert result.date == "2022-05-01"
    assert result.conflict == "venue 2022-05 (ICLR) vs copyright 2019"


def test_references_give_a_lower_bound_as_last_resort() -> None:
    pages = ["Language Models are Unsupervised Multitask Learners\nAbstract",
             "References\nA. Author. Some paper. arXiv preprint arXiv:1902.01313, 2019.\n"
             "B. Author. Other paper. In NAACL, 2018."]
    found = references_date(pages)
    assert found is not None and found.role == "lower"
    result = publication_date(None, None, None, pages)
    assert (result.date, result.source, result.precision) == ("2019-02-01", "references", "month")


def test_references_year_only() -> None:
    pages = ["Title", "References\nA. Author. Paper. Journal, 12 (2017).\nB. (2016). Book."]
    result = publication_date(None, None, None, pages)
    assert (result.date, result.source, result.precision) == ("2017-01-01", "references", "year")


def test_references_do_not_override_better_sources() -> None:
    pages = ["Title", "References\nA. Author. arXiv:2301.00001, 2023."]
    assert publication_date(None, "2204.02311", None, pages).source == "arxiv_id"


def test_venue_table_is_editable(tmp_path: Path) -> None:
    table = tmp_path / "venues.csv"
    table.write_text("venue,pattern,month\n# comment\nICLR,\\bICLR\\b,4\n", encoding="utf-8")
    venues = load_venues(table)
    page = "Published as a conference paper at ICLR 2022"
    assert publication_date(None, None, None, [page], venues).date == "2022-04-01"
    assert publication_date(None, None, None, [page]).date == "2022-05-01"
    table.write_text("venue,pattern,month\nWidgetConf,\\bWidgetConf\\b,3\n", encoding="utf-8")
    os.utime(table, ns=(1, 1))  # a new file version even on coarse-mtime file systems
    assert venue_date(page, load_venues(table)) is None


def test_bad_venue_table_is_a_config_error(tmp_path: Path) -> None:
    table = tmp_path / "bad.csv"
    table.write_text("venue,pattern,month\nICLR,(unclosed,5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="bad venue row 2"):
        load_venues(table)
    with pytest.raises(ConfigError, match="cannot read"):
        load_venues(tmp_path / "missing.csv")


def test_default_venue_table_loads() -> None:
    names = [venue.name for venue in load_venues()]
    assert {"NeurIPS", "ICML", "ICLR", "CVPR", "JMLR"} <= set(names)
    assert {v.name: v.month for v in load_venues()}["JMLR"] is None
