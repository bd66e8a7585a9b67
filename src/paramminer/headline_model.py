"""The fitted decision: which candidate size is the paper's headline, and how sure that is.

Two small linear models, fitted on the labeled dev corpus:

1. **Mentions.** A logistic regression scores every mention (features.MENTION_FEATURES: rule,
   section, own and cited cues, hedges) as stating one of the sizes the curators record.
2. **Sizes.** A conditional logit (a softmax over each paper's candidate sizes) scores every
   size from its mentions' best and mean scores and its place among the paper's sizes
   (features.GROUP_FEATURES). The headline is the best-scored size.

The confidence of a headline is a calibrated probability that it is right (Platt scaling of
its softmax share and score, fitted on out-of-fold scores). `auto` needs that probability to
clear a threshold chosen on out-of-fold predictions of the training papers for an
auto_precision of at least TARGET_PRECISION, and the hard gates of resolve.py.

The fitted model is data (rules/headline-model-vN.json, written by `paramminer fit`); reading
it needs no scikit-learn, only fitting does.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from paramminer.config import rules_dir
from paramminer.errors import ConfigError
from paramminer.features import GROUP_FEATURES, MENTION_FEATURES, Candidate

MODEL_PREFIX = "headline-model-v"
TARGET_PRECISION = 0.98
MENTION_C = 0.1  # inverse L2 strength of the mention model (chosen by 5-fold CV, 3 splits)
SIZE_C = 0.5  # inverse L2 strength of the size model (chosen by 5-fold CV, 3 splits)
SHARE_CAP = 8.0  # log-odds of a softmax share, capped (a lone candidate has share 1)
SIZE_INPUTS = ("mention_max", "mention_mean", *GROUP_FEATURES)
CALIBRATION_INPUTS = ("share", "top_score", "top_clean_prose", "top_in_front")
INNER_REPEATS = 3  # inner cross-validations (different splits) whose out-of-fold scores are pooled
Gate = Callable[[Sequence[Candidate], int], bool]


@dataclass(frozen=True)
class Linear:
    """Standardized linear scores: intercept + sum(coef * (x - mean) / scale)."""

    names: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float = 0.0

    def score(self, row: Sequence[float]) -> float:
        """The score of one feature row (in `names` order)."""
        terms = zip(self.coef, row, self.mean, self.scale, strict=True)
        return self.intercept + sum(w * (x - m) / s for w, x, m, s in terms)


@dataclass(frozen=True)
class PaperExample:
    """One labeled paper for fitting: its candidates and which of them match the gold values."""

    key: str
    candidates: tuple[Candidate, ...]
    labels: tuple[bool, ...]
    allows_auto: bool = True  # False for a paper that presents no model of its own
    stated: bool = True  # its gold value is written in its text (the threshold is chosen on these)


@dataclass(frozen=True)
class Decision:
    """The headline a model picks for one paper."""

    index: int | None  # into the candidates; None when there is none
    probabilities: tuple[float, ...]  # per candidate: its share of the paper's softmax
    confidence: float  # calibrated: the headline is right
    auto: bool


@dataclass(frozen=True)
class HeadlineModel:
    """Both stages' weights, the calibration and the auto threshold."""

    version: int
    mentions: Linear
    sizes: Linear
    calibration: Linear  # over CALIBRATION_INPUTS, on the logit scale
    auto_threshold: float
    report: Mapping[str, Any] = field(default_factory=dict)

    def size_inputs(self, candidate: Candidate) -> list[float]:
        """The size model's inputs for one candidate (SIZE_INPUTS order)."""
        scores = [self.mentions.score(row) for row in candidate.mention_features]
        return [max(scores), sum(scores) / len(scores), *candidate.features]

    def logits(self, candidates: Sequence[Candidate]) -> list[float]:
        """Score of each candidate size (higher: more likely a recorded size)."""
        return [self.sizes.score(self.size_inputs(c)) for c in candidates]

    def confidence(self, logits: Sequence[float], candidates: Sequence[Candidate]) -> float:
        """Calibrated probability that the best-scored candidate is right."""
        if not logits:
            return 0.0
        return _sigmoid(self.calibration.score(calibration_inputs(logits, candidates)))

    def decide(self, candidates: Sequence[Candidate], gate: Gate) -> Decision:
        """The headline, its calibrated confidence and whether it may be accepted unreviewed."""
        if not candidates:
            return Decision(None, (), 0.0, False)
        logits = self.logits(candidates)
        index = _top(logits, candidates)
        confidence = self.confidence(logits, candidates)
        auto = confidence >= self.auto_threshold and gate(candidates, index)
        return Decision(index, _softmax(logits), round(confidence, 4), auto)

    def to_json(self) -> str:
        """The model file's text."""
        return json.dumps(asdict(self), indent=1) + "\n"


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -60 else 0.0


def _softmax(logits: Sequence[float]) -> tuple[float, ...]:
    top = max(logits)
    exp = [math.exp(x - top) for x in logits]
    total = sum(exp)
    return tuple(round(e / total, 4) for e in exp)


def calibration_inputs(logits: Sequence[float], candidates: Sequence[Candidate]) -> list[float]:
    """What the confidence is calibrated on (CALIBRATION_INPUTS order)."""
    top = candidates[_top(logits, candidates)]
    return [_share_logit(logits), max(logits), top.feature("clean_own_prose"),
            top.feature("in_front")]


def _top(logits: Sequence[float], candidates: Sequence[Candidate]) -> int:
    return max(range(len(logits)), key=lambda i: (logits[i], candidates[i].value))


def _share_logit(logits: Sequence[float]) -> float:
    """Log-odds of the top candidate's share of the paper's softmax (capped)."""
    top = max(logits)
    rest = sum(math.exp(x - top) for x in logits) - 1.0
    return SHARE_CAP if rest <= math.exp(-SHARE_CAP) else min(SHARE_CAP, -math.log(rest))


def neutral_model() -> HeadlineModel:
    """A model that needs no fitting: it prefers explicit own statements, repeated and large,
    and never accepts a value unreviewed. Used to extract the corpus a model is fitted on."""
    prior = {"clean_own_prose": 1.0, "clean_own": 0.5, "log_mentions": 0.5, "is_max_own": 0.5}
    n_mentions, n_sizes = len(MENTION_FEATURES), len(SIZE_INPUTS)
    return HeadlineModel(
        version=0,
        mentions=Linear(MENTION_FEATURES, (0.0,) * n_mentions, (1.0,) * n_mentions,
                        (0.0,) * n_mentions),
        sizes=Linear(SIZE_INPUTS, (0.0,) * n_sizes, (1.0,) * n_sizes,
                     tuple(prior.get(name, 0.0) for name in SIZE_INPUTS)),
        calibration=_identity_calibration(-4.0), auto_threshold=1.01,
        report={"note": "neutral prior, not fitted"},
    )


def model_path(folder: Path | None = None) -> Path | None:
    """The newest rules/headline-model-vN.json, if any."""
    found = sorted(
        (folder or rules_dir()).glob(f"{MODEL_PREFIX}*.json"),
        key=lambda p: int(p.stem.removeprefix(MODEL_PREFIX) or 0),
    )
    return found[-1] if found else None


def _identity_calibration(bias: float = 0.0) -> Linear:
    n = len(CALIBRATION_INPUTS)
    return Linear(CALIBRATION_INPUTS, (0.0,) * n, (1.0,) * n, (1.0,) + (0.0,) * (n - 1), bias)


def _linear(raw: Mapping[str, Any]) -> Linear:
    return Linear(
        names=tuple(raw["names"]), mean=tuple(raw["mean"]), scale=tuple(raw["scale"]),
        coef=tuple(raw["coef"]), intercept=float(raw.get("intercept", 0.0)),
    )


def load_model(path: Path | None = None) -> HeadlineModel:
    """The fitted model in force (a missing, malformed or stale file is a clear error)."""
    path = path or model_path()
    if path is None:
        raise ConfigError(f"rules: no {MODEL_PREFIX}N.json in {rules_dir()}; run `paramminer fit`")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        model = HeadlineModel(
            version=int(raw["version"]), mentions=_linear(raw["mentions"]),
            sizes=_linear(raw["sizes"]), calibration=_linear(raw["calibration"]),
            auto_threshold=float(raw["auto_threshold"]), report=raw.get("report", {}),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"rules: cannot read the headline model {path}: {exc}") from None
    if (model.mentions.names, model.sizes.names, model.calibration.names) != (
        MENTION_FEATURES, SIZE_INPUTS, CALIBRATION_INPUTS
    ):
        raise ConfigError(
            f"rules: {path.name} was fitted for other features; run `paramminer fit`"
        )
    return model


# ---- fitting (needs scikit-learn and scipy) ----------------------------------------------


def paper_folds(keys: Sequence[str], folds: int, seed: int) -> list[list[str]]:
    """Papers split into `folds` groups at random (never one paper across two folds)."""
    shuffled = sorted(keys)
    random.Random(seed).shuffle(shuffled)
    return [shuffled[i::folds] for i in range(folds)]


def fit_model(
    examples: Sequence[PaperExample], gate: Gate, *, version: int = 1, seed: int = 0,
    inner_folds: int = 5,
) -> HeadlineModel:
    """Fit both stages on `examples`; calibrate and choose the auto threshold on out-of-fold
    scores of the same papers (INNER_REPEATS inner cross-validations, pooled)."""
    model = replace(_fit_stages(examples), version=version)
    held_out = [_out_of_fold(examples, inner_folds, seed + repeat)
                for repeat in range(INNER_REPEATS)]
    model = replace(model, calibration=_fit_calibration(examples, held_out))
    return replace(model, auto_threshold=_auto_threshold(model, examples, held_out, gate))


def _out_of_fold(
    examples: Sequence[PaperExample], folds: int, seed: int
) -> dict[str, list[float]]:
    """Each paper's candidate scores from a model fitted without the paper's fold."""
    held_out: dict[str, list[float]] = {}
    for fold in paper_folds([e.key for e in examples], folds, seed):
        fold_model = _fit_stages([e for e in examples if e.key not in fold])
        for example in examples:
            if example.key in fold:
                held_out[example.key] = fold_model.logits(example.candidates)
    return held_out


def _standardized(rows: Sequence[Sequence[float]]) -> tuple[Any, list[float], list[float]]:
    import numpy as np

    x = np.asarray(rows, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    return (x - mean) / scale, [float(v) for v in mean], [float(v) for v in scale]


def _fit_stages(examples: Sequence[PaperExample]) -> HeadlineModel:
    stage = HeadlineModel(0, _fit_mentions(examples), Linear(SIZE_INPUTS, (), (), ()),
                          _identity_calibration(), 1.01)
    usable = [e for e in examples if any(e.labels)]
    if not usable:
        raise ConfigError("fit: no training paper has a candidate matching its gold values")
    rows = [[stage.size_inputs(c) for c in e.candidates] for e in usable]
    return replace(stage, sizes=_fit_conditional_logit(rows, [e.labels for e in usable]))


def _fit_mentions(examples: Sequence[PaperExample]) -> Linear:
    """Pointwise logistic regression: does this mention state a recorded size?"""
    from sklearn.linear_model import LogisticRegression

    rows = [row for e in examples for c in e.candidates for row in c.mention_features]
    labels = [int(y) for e in examples for c, y in zip(e.candidates, e.labels, strict=True)
              for _ in c.mentions]
    if len(set(labels)) < 2:
        raise ConfigError("fit: the training papers need both matching and other mentions")
    x, mean, scale = _standardized(rows)
    regression = LogisticRegression(C=MENTION_C, max_iter=2000).fit(x, labels)
    return Linear(MENTION_FEATURES, tuple(mean), tuple(scale),
                  tuple(float(w) for w in regression.coef_[0]), float(regression.intercept_[0]))


def _fit_conditional_logit(
    papers: Sequence[Sequence[Sequence[float]]], labels: Sequence[Sequence[bool]]
) -> Linear:
    """Within each paper, a softmax over its sizes puts the mass on the recorded ones."""
    import numpy as np
    from scipy.optimize import minimize

    x, mean, scale = _standardized([row for paper in papers for row in paper])
    positive = np.asarray([y for paper in labels for y in paper], dtype=bool)
    counts = [len(paper) for paper in papers]
    starts = np.cumsum([0, *counts])[:-1]
    owner = np.repeat(np.arange(len(papers)), counts)
    l2 = 1.0 / SIZE_C

    def loss(w: Any) -> tuple[float, Any]:
        scores = x @ w
        exp = np.exp(scores - np.maximum.reduceat(scores, starts)[owner])
        total = np.add.reduceat(exp, starts)
        good = np.add.reduceat(np.where(positive, exp, 0.0), starts)
        value = float(np.sum(np.log(total) - np.log(good)) + 0.5 * l2 * w @ w)
        weight = exp / total[owner] - np.where(positive, exp / good[owner], 0.0)
        return value, x.T @ weight + l2 * w

    fitted = minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return Linear(SIZE_INPUTS, tuple(mean), tuple(scale), tuple(float(v) for v in fitted.x))


def _paper_rows(
    examples: Sequence[PaperExample], logits: Mapping[str, list[float]]
) -> list[tuple[PaperExample, list[float], int]]:
    """(example, logits, index of the top candidate) for papers with candidates."""
    return [
        (example, logits[example.key], _top(logits[example.key], example.candidates))
        for example in examples if logits.get(example.key)
    ]


def _fit_calibration(
    examples: Sequence[PaperExample], held_out: Sequence[Mapping[str, list[float]]]
) -> Linear:
    """Platt scaling: P(the top candidate is right) from CALIBRATION_INPUTS."""
    from sklearn.linear_model import LogisticRegression

    rows = [(calibration_inputs(scores, example.candidates), int(example.labels[top]))
            for logits in held_out for example, scores, top in _paper_rows(examples, logits)]
    if len({right for _, right in rows}) < 2:
        return _identity_calibration()
    platt = LogisticRegression(C=1.0, max_iter=1000)
    platt.fit([inputs for inputs, _ in rows], [right for _, right in rows])
    n = len(CALIBRATION_INPUTS)
    return Linear(CALIBRATION_INPUTS, (0.0,) * n, (1.0,) * n,
                  tuple(float(w) for w in platt.coef_[0]), float(platt.intercept_[0]))


def _auto_threshold(
    model: HeadlineModel, examples: Sequence[PaperExample],
    held_out: Sequence[Mapping[str, list[float]]], gate: Gate,
) -> float:
    """The lowest confidence at which the out-of-fold autos reach TARGET_PRECISION (each
    paper's confidence and correctness averaged over the inner repeats)."""
    pooled: dict[str, list[tuple[float, bool]]] = {}
    for logits in held_out:
        for example, scores, top in _paper_rows(examples, logits):
            if example.stated and example.allows_auto and gate(example.candidates, top):
                pooled.setdefault(example.key, []).append(
                    (model.confidence(scores, example.candidates), example.labels[top]))
    scored = sorted(
        ((sum(c for c, _ in runs) / len(runs), sum(ok for _, ok in runs) / len(runs))
         for runs in pooled.values()),
        reverse=True,
    )
    threshold, right = 1.01, 0.0
    for count, (confidence, ok) in enumerate(scored, 1):
        right += ok
        if right / count >= TARGET_PRECISION and ok > 0.5:
            threshold = confidence
    return round(threshold, 4)
