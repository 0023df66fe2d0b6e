#!/usr/bin/python3
"""The yardstick: the as-planned projection of open cases, vectorised in numpy with grouping.

Same rule as forecasting/ (projector.cc, "as planned"): a case with an expectation closes to its
expected outcome in its expected month with its risk's probability (in the current month when
the expected month has passed); the rest closes geometrically from the month after
at its case type's mean hazard, with the type's outcome mix. Cases without an expectation follow
the baseline hazard by case type and duration. Cases sharing (type, risk, lead, outcome) are
grouped first, so a million cases become a few thousand groups.

Usage: /usr/bin/python3 tests/bench/numpy_reference.py [cases] [horizon]   (default 1000000 24)
Prints the best of 7 timed runs (thread CPU time and wall time) of the projection (grouping + spreading + summing), excluding
data generation. Compare with BM_AsPlannedTotals/1000000 of forecasting_benchmark.
"""
import sys
import time

import numpy as np

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
H = int(sys.argv[2]) if len(sys.argv) > 2 else 24
T, R, K, D = 8, 3, 8, 49  # case types, risks, outcomes, durations (0..48, the last pooled)

rng = np.random.default_rng(20261122)
risk_p = np.array([0.8, 0.5, 0.25])
type_hazard = rng.uniform(0.05, 0.3, T)
mix = rng.dirichlet(np.ones(K), T)                       # [type, outcome]
hazard = rng.uniform(0.03, 0.3, (T, D))                  # baseline [type, duration]
share = rng.dirichlet(np.ones(K), (T, D))                # [type, duration, outcome]

case_type = rng.integers(0, T, N).astype(np.int32)
risk = rng.integers(0, R, N).astype(np.int32)
outcome = rng.integers(0, K, N).astype(np.int32)
lead = rng.integers(-4, 30, N).astype(np.int32)          # expected month - current month
has_expectation = rng.random(N) < 0.95
duration = rng.integers(0, 60, N).astype(np.int32)


def project():
    slots = H + 2  # passed, 0..H-1, beyond the horizon
    slot = np.where(lead < 0, 0, np.minimum(lead, H) + 1)
    key = ((case_type * R + risk) * slots + slot) * K + outcome
    counts = np.bincount(key[has_expectation], minlength=T * R * slots * K)
    keys = np.flatnonzero(counts)
    c = counts[keys].astype(np.float64)
    o = keys % K
    s = (keys // K) % slots
    r = (keys // (K * slots)) % R
    t = keys // (K * slots * R)
    planned = risk_p[r]
    month = np.where(s == 0, 0, s - 1)
    out = np.zeros((H, K))
    inside = month < H
    np.add.at(out, (month[inside], o[inside]), (c * planned)[inside])
    steps = np.arange(H)[None, :] - month[:, None] - 1    # months since the planned month
    g = type_hazard[t][:, None]
    tail = np.where(steps >= 0, (1 - planned)[:, None] * g * (1 - g) ** np.maximum(steps, 0), 0.0)
    tail *= inside[:, None]
    out += np.einsum('gh,gk->hk', tail * c[:, None], mix[t])
    # No expectation: baseline by type and duration, grouped the same way.
    bkey = case_type[~has_expectation] * D + np.minimum(duration[~has_expectation], D - 1)
    bcounts = np.bincount(bkey, minlength=T * D)
    bkeys = np.flatnonzero(bcounts)
    bt, bd = bkeys // D, bkeys % D
    d = np.minimum(bd[:, None] + np.arange(H)[None, :], D - 1)
    h = hazard[bt[:, None], d]
    survive = np.cumprod(np.concatenate([np.ones((len(bkeys), 1)), 1 - h[:, :-1]], axis=1), axis=1)
    closing = survive * h * bcounts[bkeys][:, None]
    out += np.einsum('gh,ghk->hk', closing, share[bt[:, None], d])
    return out


# CPU time of this thread, like the C++ benchmark's figures (the machine may be shared); numpy
# runs these operations on one thread.
best = best_wall = float('inf')
for _ in range(7):
    start, start_wall = time.thread_time(), time.perf_counter()
    result = project()
    best = min(best, time.thread_time() - start)
    best_wall = min(best_wall, time.perf_counter() - start_wall)
print(f"numpy {np.__version__} as-planned totals: {N} cases, {H} months x {K} outcomes: "
      f"{best * 1e3:.1f} ms CPU ({best_wall * 1e3:.1f} ms wall), best of 7; "
      f"expected closures {result.sum():.0f}")
