"""Statistics of blind pairwise judgments: pure functions over numpy arrays (no ORM, no scipy).

Conventions: an outcome is scored from side A's point of view, 1 = A wins, 0 = B wins, 0.5 = tie.
Intervals are 95 %. Win rates use the Wilson score interval on (wins + ties / 2) out of all votes;
Bradley–Terry intervals come from a seeded bootstrap that resamples each pair's counts (multinomial).
"""
from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054
ELO_SCALE = 400.0 / math.log(10.0)
ELO_ANCHOR = 1000.0


# ---- proportions and tests -----------------------------------------------------------------------------

def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; `successes` may be fractional (ties counted as half)."""
    if n <= 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _binom_logpmf_all(n: int, p: float) -> np.ndarray:
    """log P(X = k) for k = 0..n, by cumulative sums of logs (exact up to float rounding)."""
    k = np.arange(1, n + 1, dtype=float)
    log_comb = np.concatenate([[0.0], np.cumsum(np.log(n - k + 1) - np.log(k))])
    ks = np.arange(n + 1, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lp = ks * math.log(p) if p > 0 else np.where(ks == 0, 0.0, -np.inf)
        lq = (n - ks) * math.log1p(-p) if p < 1 else np.where(ks == n, 0.0, -np.inf)
    return log_comb + lp + lq


def binomial_test(k: int, n: int, p: float = 0.5) -> float:
    """Exact two-sided binomial test p-value, the same definition as scipy.stats.binomtest: the sum of
    the probabilities of every outcome no more likely than the observed one."""
    k, n = int(k), int(n)
    if n <= 0:
        return 1.0
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must lie in 0..{n}")
    logpmf = _binom_logpmf_all(n, p)
    pmf = np.exp(logpmf)
    d = pmf[k]
    rerr = 1 + 1e-7
    if k == p * n:
        return 1.0
    return float(min(1.0, pmf[pmf <= d * rerr].sum()))


def mean_interval(x: np.ndarray) -> dict:
    """Mean with a normal-approximation 95 % interval (n, mean, low, high)."""
    x = np.asarray(x, dtype=float)
    n = int(x.size)
    if n == 0:
        return {"n": 0, "mean": None, "low": None, "high": None}
    m = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return {"n": n, "mean": m, "low": m - Z95 * se, "high": m + Z95 * se}


def win_rate(outcomes: np.ndarray) -> dict:
    """Win rate of A with ties as half, its Wilson interval, and the sign test on decisive votes."""
    o = np.asarray(outcomes, dtype=float)
    n = int(o.size)
    wins, losses = int((o == 1).sum()), int((o == 0).sum())
    ties = n - wins - losses
    score = wins + ties / 2
    low, high = wilson_interval(score, n)
    decisive = wins + losses
    return {"n": n, "wins": wins, "losses": losses, "ties": ties,
            "rate": (score / n) if n else None, "low": low if n else None, "high": high if n else None,
            "p_value": binomial_test(wins, decisive) if decisive else None}


# ---- Bradley–Terry -------------------------------------------------------------------------------------

def pair_counts(a: np.ndarray, b: np.ndarray, outcome: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(wins, ties): wins[i, j] = decisive wins of player i over player j; ties[i, j] = ties (symmetric)."""
    a, b, o = np.asarray(a, dtype=int), np.asarray(b, dtype=int), np.asarray(outcome, dtype=float)
    wins = np.zeros((k, k))
    ties = np.zeros((k, k))
    np.add.at(wins, (a[o == 1], b[o == 1]), 1)
    np.add.at(wins, (b[o == 0], a[o == 0]), 1)
    t = o == 0.5
    np.add.at(ties, (a[t], b[t]), 1)
    np.add.at(ties, (b[t], a[t]), 1)
    return wins, ties


def _bt_newton(w: np.ndarray, iters: int = 100, ridge: float = 1e-8) -> np.ndarray:
    """Maximum-likelihood BT strengths (natural log scale, mean 0) for one or a batch of win matrices.

    w: (..., K, K), ties already counted as half a win each. Newton–Raphson on the log-likelihood
    sum_ij W_ij log sigmoid(t_i - t_j); the tiny ridge only pins the free additive constant."""
    w = np.asarray(w, dtype=float)
    squeeze = w.ndim == 2
    if squeeze:
        w = w[None]
    bsz, k, _ = w.shape
    n = w + np.swapaxes(w, 1, 2)
    wins = w.sum(axis=2)
    theta = np.zeros((bsz, k))
    eye = np.eye(k)
    for _ in range(iters):
        d = theta[:, :, None] - theta[:, None, :]
        p = 1.0 / (1.0 + np.exp(-d))
        grad = wins - (n * p).sum(axis=2) - ridge * theta
        v = n * p * (1 - p)
        hess = v - eye * v.sum(axis=2)[:, :, None] - ridge * eye
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        step = np.clip(step, -5, 5)
        theta = theta - step
        theta -= theta.mean(axis=1, keepdims=True)
        if np.abs(step).max() < 1e-10:
            break
    return theta[0] if squeeze else theta


def bradley_terry(wins: np.ndarray, ties: np.ndarray | None = None, *, bootstrap: int = 0, seed: int = 0,
                  prior: float = 0.0) -> dict:
    """Elo-scale BT ratings (400/ln 10 points per natural-log unit, mean 1000) with bootstrap 95 % intervals.

    The bootstrap resamples each pair's battle counts (i wins, j wins, ties) from a multinomial with the
    observed proportions and refits all resamples at once (batched Newton), so its cost does not grow
    with the number of judgments; seeded, hence reproducible. `prior` adds that many virtual ties to
    every pair that met, which keeps ratings finite when a player won (or lost) every battle."""
    wins = np.asarray(wins, dtype=float)
    ties = np.zeros_like(wins) if ties is None else np.asarray(ties, dtype=float)
    k = wins.shape[0]
    met = (wins + wins.T + ties) > 0
    pad = prior * 0.5 * met
    theta = _bt_newton(wins + ties / 2 + pad)
    out = {"rating": ELO_ANCHOR + ELO_SCALE * theta, "low": None, "high": None}
    if bootstrap:
        rng = np.random.default_rng(seed)
        samples = np.zeros((bootstrap, k, k))
        iu, ju = np.triu_indices(k, 1)
        for i, j in zip(iu, ju):
            counts = np.array([wins[i, j], wins[j, i], ties[i, j]])
            total = int(counts.sum())
            if total == 0:
                continue
            draws = rng.multinomial(total, counts / total, size=bootstrap).astype(float)
            samples[:, i, j] = draws[:, 0] + draws[:, 2] / 2
            samples[:, j, i] = draws[:, 1] + draws[:, 2] / 2
        ratings = ELO_ANCHOR + ELO_SCALE * _bt_newton(samples + pad)
        out["low"] = np.percentile(ratings, 2.5, axis=0)
        out["high"] = np.percentile(ratings, 97.5, axis=0)
    return out


def win_matrix(wins: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Share of battles i won against j (ties as half); NaN where they never met."""
    w = wins + ties / 2
    n = w + w.T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, w / n, np.nan)


# ---- bias diagnostics -----------------------------------------------------------------------------------

def position_bias(left_won: np.ndarray) -> dict:
    """Share of decisive votes won by the Left side, Wilson interval, and the sign test against 1/2."""
    lw = np.asarray(left_won, dtype=bool)
    n, k = int(lw.size), int(lw.sum())
    low, high = wilson_interval(k, n)
    return {"n": n, "left_wins": k, "rate": (k / n) if n else None, "low": low if n else None,
            "high": high if n else None, "p_value": binomial_test(k, n) if n else None}


def logistic_fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, iters: int = 50,
                 ridge: float = 1e-6) -> np.ndarray:
    """Logistic regression by iteratively reweighted least squares; x must include an intercept column.
    y may be fractional (a tie is y = 0.5). The tiny ridge keeps separable data finite."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    wts = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    beta = np.zeros(x.shape[1])
    eye = np.eye(x.shape[1])
    for _ in range(iters):
        eta = np.clip(x @ beta, -30, 30)
        p = 1 / (1 + np.exp(-eta))
        grad = x.T @ (wts * (y - p)) - ridge * beta
        hess = (x * (wts * p * (1 - p))[:, None]).T @ x + ridge * eye
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.abs(step).max() < 1e-9:
            break
    return beta


LENGTH_BUCKETS = (-1.01, -0.5, -0.2, -0.05, 0.05, 0.2, 0.5, 1.01)


def length_bias(outcomes: np.ndarray, len_a: np.ndarray, len_b: np.ndarray) -> dict:
    """Win rate of A by relative length difference (lenA - lenB) / (lenA + lenB), the win rate of the
    longer answer, and a length-controlled win rate: sigmoid(intercept) of a logistic regression of the
    outcome on the relative length difference (the A-vs-B effect at equal length)."""
    o = np.asarray(outcomes, dtype=float)
    la, lb = np.asarray(len_a, dtype=float), np.asarray(len_b, dtype=float)
    tot = la + lb
    rel = np.divide(la - lb, tot, out=np.zeros_like(tot), where=tot > 0)
    buckets = []
    idx = np.digitize(rel, LENGTH_BUCKETS[1:-1])
    for b in range(len(LENGTH_BUCKETS) - 1):
        sel = o[idx == b]
        wr = win_rate(sel)
        buckets.append({"low_edge": max(-1.0, LENGTH_BUCKETS[b]), "high_edge": min(1.0, LENGTH_BUCKETS[b + 1]),
                        "n": wr["n"], "rate": wr["rate"], "low": wr["low"], "high": wr["high"]})
    differ = rel != 0
    longer_outcome = np.where(rel[differ] > 0, o[differ], 1 - o[differ])
    longer = win_rate(longer_outcome)
    result = {"buckets": buckets, "longer_wins": longer, "controlled_rate": None, "length_coef": None}
    if o.size >= 2:
        x = np.column_stack([np.ones_like(rel), rel])
        beta = logistic_fit(x, o)
        result["controlled_rate"] = float(1 / (1 + math.exp(-beta[0])))
        result["length_coef"] = float(beta[1])
    return result


# ---- reviewer agreement ---------------------------------------------------------------------------------

def fleiss_kappa(counts: np.ndarray) -> float | None:
    """Fleiss' kappa for items × categories rating counts; items may have different numbers of raters
    (each item needs at least two)."""
    c = np.asarray(counts, dtype=float)
    if c.ndim != 2 or c.shape[0] == 0:
        return None
    n_i = c.sum(axis=1)
    c = c[n_i >= 2]
    n_i = n_i[n_i >= 2]
    if c.shape[0] == 0:
        return None
    p_i = ((c * c).sum(axis=1) - n_i) / (n_i * (n_i - 1))
    p_bar = p_i.mean()
    p_j = c.sum(axis=0) / n_i.sum()
    p_e = float((p_j * p_j).sum())
    if p_e >= 1:
        return 1.0 if p_bar >= 1 else None
    return float((p_bar - p_e) / (1 - p_e))


def agreement(group: np.ndarray, label: np.ndarray, n_labels: int) -> dict:
    """Agreement among judgments of the same comparison: share of agreeing pairs and Fleiss' kappa."""
    group = np.asarray(group)
    label = np.asarray(label, dtype=int)
    if group.size == 0:
        return {"comparisons": 0, "pairs": 0, "pair_agreement": None, "fleiss_kappa": None}
    uniq, inv = np.unique(group, return_inverse=True)
    counts = np.zeros((uniq.size, n_labels))
    np.add.at(counts, (inv, label), 1)
    n_i = counts.sum(axis=1)
    multi = n_i >= 2
    pairs = float((n_i[multi] * (n_i[multi] - 1) / 2).sum())
    agreeing = float((counts[multi] * (counts[multi] - 1) / 2).sum())
    return {"comparisons": int(multi.sum()), "pairs": int(pairs),
            "pair_agreement": (agreeing / pairs) if pairs else None,
            "fleiss_kappa": fleiss_kappa(counts[multi]) if multi.any() else None}
