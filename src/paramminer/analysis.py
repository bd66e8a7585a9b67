"""Bootstrap intervals for the doubling times of the trend views.

The point estimates are SQL (views trend_fits, record_trend_fits, gap_trend_fits); this module
resamples the same systems with replacement and refits, so every fit gets 5th/50th/95th
percentiles. The groups mirror the views exactly: per source, era (table eras) and domain
(plus 'All'); record setters are recomputed inside every resample, so an early outlier that
a resample leaves out stops holding the record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import numpy.typing as npt
import pandas as pd

from paramminer.warehouse import Warehouse

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 2207_02852  # arXiv id of Villalobos et al. (2022): any fixed number would do
PERCENTILES = (5.0, 50.0, 95.0)
FITS = ("systems", "record_setters", "below gap", "above gap")
MAX_CELLS = 4_000_000  # resamples x systems held in memory at once

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def doubling_months(slope: float | None) -> float | None:
    """Months for log10(parameters) to grow by log10(2) at `slope` per year (None if slope=0)."""
    if slope is None or not math.isfinite(slope) or slope == 0:
        return None
    return 12 * math.log10(2) / slope


@dataclass(frozen=True)
class SlopeInterval:
    """Bootstrap percentiles of a slope (log10 parameters per year)."""

    n: int
    resamples: int
    p5: float | None
    p50: float | None
    p95: float | None

    def doubling(self) -> tuple[float | None, float | None, float | None]:
        """(p5, p50, p95) of the doubling time in months.

        A larger slope is a shorter doubling, so the 5th percentile of the doubling time is
        the 95th of the slope. A slope percentile <= 0 (no growth) gives None.
        """

        def positive(slope: float | None) -> float | None:
            return doubling_months(slope) if slope is not None and slope > 0 else None

        return positive(self.p95), positive(self.p50), positive(self.p5)


def ols_slopes(x: FloatArray, y: FloatArray, weights: FloatArray) -> FloatArray:
    """Weighted least-squares slopes of y on x (1-D, length n), one per row of `weights`.

    A row of weights is how often each point is in a resample (0 leaves it out). Rows with
    fewer than two distinct x get NaN. The sums are one matrix product (BLAS).
    """
    x = x - x.mean()  # centring keeps the sums of squares well conditioned
    columns = np.stack([np.ones_like(x), x, y, x * x, x * y], axis=1)
    count, sx, sy, sxx, sxy = (weights @ columns).T
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = count * sxx - sx * sx
        slopes: FloatArray = np.where(spread > 1e-9 * np.maximum(count * sxx, 1e-300),
                                      (count * sxy - sx * sy) / spread, np.nan)
    return slopes


def _chunks(resamples: int, n: int) -> list[int]:
    per_chunk = max(1, MAX_CELLS // max(n, 1))
    sizes = [per_chunk] * (resamples // per_chunk)
    if resamples % per_chunk:
        sizes.append(resamples % per_chunk)
    return sizes


def _resample_counts(rng: np.random.Generator, n: int, size: int) -> FloatArray:
    """(size, n): how many times each of n points is drawn in each of `size` resamples."""
    draws = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
    counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n)
    result: FloatArray = counts.astype(np.float64)
    return result


def _interval(slopes: FloatArray, n: int, resamples: int) -> SlopeInterval:
    finite = slopes[np.isfinite(slopes)]
    if finite.size == 0:
        return SlopeInterval(n, resamples, None, None, None)
    p5, p50, p95 = (float(v) for v in np.percentile(finite, PERCENTILES))
    return SlopeInterval(n, resamples, p5, p50, p95)


def bootstrap_slope(
    x: FloatArray, y: FloatArray, *, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> SlopeInterval:
    """Percentiles of the OLS slope of y on x over `resamples` resamples of the points."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    if n < 2:
        return SlopeInterval(n, resamples, None, None, None)
    rng = np.random.default_rng(seed)
    parts = [ols_slopes(x, y, _resample_counts(rng, n, size)) for size in _chunks(resamples, n)]
    return _interval(np.concatenate(parts), n, resamples)


def bootstrap_record_slopes(
    x: FloatArray,
    y: FloatArray,
    windows: dict[str, BoolArray],
    *,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> dict[str, SlopeInterval]:
    """Percentiles of the slope over record setters, per window (which points lie in it).

    x, y must be sorted the way record_setters orders systems (date, then largest first).
    Each resample draws systems with replacement from the whole history, finds its record
    setters (strictly larger than every earlier drawn system; a system drawn twice counts
    once) and fits those inside each window.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(x)
    original = _records(y[None, :], np.ones((1, n), dtype=np.bool_))[0]
    points = {name: int((original & inside).sum()) for name, inside in windows.items()}
    if n < 2:
        return {name: SlopeInterval(points[name], resamples, None, None, None) for name in windows}
    rng = np.random.default_rng(seed)
    parts: dict[str, list[FloatArray]] = {name: [] for name in windows}
    for size in _chunks(resamples, n):
        drawn = _resample_counts(rng, n, size) > 0
        records = _records(np.broadcast_to(y, drawn.shape), drawn)
        for name, inside in windows.items():
            weights = (records & inside[None, :]).astype(np.float64)
            parts[name].append(ols_slopes(x, y, weights))
    return {
        name: _interval(np.concatenate(parts[name]), points[name], resamples) for name in windows
    }


def _records(ys: FloatArray, drawn: BoolArray) -> BoolArray:
    """Row-wise: drawn cells strictly larger than every drawn cell before them."""
    present = np.where(drawn, ys, -np.inf)
    running = np.maximum.accumulate(present, axis=1)
    previous = np.concatenate([np.full((ys.shape[0], 1), -np.inf), running[:, :-1]], axis=1)
    result: BoolArray = drawn & (ys > previous)
    return result


def _era_masks(
    days: pd.Series, eras: list[tuple[str, date | None, date | None]]
) -> dict[str, BoolArray]:
    """Which of `days` fall in each era (start inclusive, end exclusive, None open)."""
    values = pd.to_datetime(days).to_numpy(dtype="datetime64[D]")
    masks: dict[str, BoolArray] = {}
    for era, start, end in eras:
        inside = np.ones(len(values), dtype=np.bool_)
        if start is not None:
            inside &= values >= np.datetime64(start, "D")
        if end is not None:
            inside &= values < np.datetime64(end, "D")
        masks[era] = inside
    return masks


def bootstrap_fits(
    con: duckdb.DuckDBPyConnection,
    *,
    sources: list[str] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Bootstrap intervals for every row of trend_summary's fits, as trend_bootstrap rows."""
    systems = con.execute(
        "SELECT a.source, a.domain, a.year_fraction, a.log10_parameters, a.parameters, "
        "a.publication_date, a.system, coalesce(a.paper_id, '') AS paper_id, k.gap_low, k.gap_high "
        "FROM analysis_systems a LEFT JOIN ("
        "  SELECT source, max(value) FILTER (WHERE name = 'gap_low') AS gap_low,"
        "         max(value) FILTER (WHERE name = 'gap_high') AS gap_high"
        "  FROM analysis_settings_by_source GROUP BY source) k USING (source) "
        "ORDER BY a.source, a.publication_date, a.parameters DESC, a.system, paper_id"
    ).df()
    eras: list[tuple[str, date | None, date | None]] = [
        (str(era), start, end)
        for era, start, end in con.execute("SELECT era, start_date, end_date FROM eras").fetchall()
    ]
    if sources is not None:
        systems = systems[systems["source"].isin(sources)]
    rows: list[dict[str, object]] = []

    def add(source: str, fit: str, domain: str, era: str, interval: SlopeInterval) -> None:
        d5, d50, d95 = interval.doubling()
        rows.append({
            "source": source, "fit": fit, "domain": domain, "era": era, "n": interval.n,
            "resamples": resamples, "seed": seed, "slope_p5": interval.p5,
            "slope_p50": interval.p50, "slope_p95": interval.p95, "doubling_months_p5": d5,
            "doubling_months_p50": d50, "doubling_months_p95": d95,
        })

    for source, of_source in systems.groupby("source", sort=True):
        groups = [("All", of_source)]
        groups += [(str(d), g) for d, g in of_source.groupby("domain", sort=True)]
        for domain, group in groups:
            x = group["year_fraction"].to_numpy(dtype=np.float64)
            y = group["log10_parameters"].to_numpy(dtype=np.float64)
            windows = _era_masks(group["publication_date"], eras)
            for era, inside in windows.items():
                if inside.sum() >= 1:
                    add(str(source), "systems", domain, era,
                        bootstrap_slope(x[inside], y[inside], resamples=resamples, seed=seed))
            records = bootstrap_record_slopes(x, y, windows, resamples=resamples, seed=seed)
            for era, interval in records.items():
                if interval.n >= 1:
                    add(str(source), "record_setters", domain, era, interval)
        x = of_source["year_fraction"].to_numpy(dtype=np.float64)
        y = of_source["log10_parameters"].to_numpy(dtype=np.float64)
        size = of_source["parameters"].to_numpy(dtype=np.float64)
        bands = {
            "below gap": size < of_source["gap_low"].to_numpy(dtype=np.float64),
            "above gap": size > of_source["gap_high"].to_numpy(dtype=np.float64),
        }
        windows = _era_masks(of_source["publication_date"], eras)
        for band, in_band in bands.items():
            for era, in_era in windows.items():
                inside = in_band & in_era
                if inside.sum() >= 1:
                    add(str(source), band, "All", era,
                        bootstrap_slope(x[inside], y[inside], resamples=resamples, seed=seed))
    columns = ["source", "fit", "domain", "era", "n", "resamples", "seed", "slope_p5",
               "slope_p50", "slope_p95", "doubling_months_p5", "doubling_months_p50",
               "doubling_months_p95"]
    return pd.DataFrame.from_records(rows, columns=columns)


def write_bootstrap(warehouse: Warehouse, frame: pd.DataFrame, sources: list[str]) -> None:
    """Replace the trend_bootstrap rows of `sources` with `frame`, in one transaction."""
    with warehouse.transaction() as con:
        con.execute("DELETE FROM trend_bootstrap WHERE source IN (SELECT unnest(?))", [sources])
        if frame.empty:
            return
        con.register("incoming_bootstrap", frame)
        try:
            con.execute(
                "INSERT INTO trend_bootstrap (source, fit, domain, era, n, resamples, seed, "
                "slope_p5, slope_p50, slope_p95, doubling_months_p5, doubling_months_p50, "
                "doubling_months_p95) SELECT source, fit, domain, era, n, resamples, seed, "
                "slope_p5, slope_p50, slope_p95, doubling_months_p5, doubling_months_p50, "
                "doubling_months_p95 FROM incoming_bootstrap"
            )
        finally:
            con.unregister("incoming_bootstrap")


def refresh_bootstrap(
    warehouse: Warehouse,
    *,
    sources: list[str] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Compute the intervals of `sources` (default: every source) and store them."""
    if sources is None:
        sources = [str(row[0]) for row in warehouse.con.execute(
            "SELECT DISTINCT source FROM analysis_systems ORDER BY 1").fetchall()]
    frame = bootstrap_fits(warehouse.con, sources=sources, resamples=resamples, seed=seed)
    write_bootstrap(warehouse, frame, sources)
    return frame
