"""Differential test of BOHB's model: bandster's config generator against HpBandSter 0.7.4's, on the same data.

Both generators are given the same observations (configurations drawn from the problem's space, evaluated
with the problem's noisy objective on one budget) and compared step by step, column by column:

1. the good/bad split (the losses in each set);
2. the bandwidths of the good and bad densities, per column and column type;
3. l(x) and g(x) of both models at the same points (the candidates of both), and how well the two
   l(x)/g(x) rankings agree (Spearman);
4. the candidate distribution: per column, the candidates' mean and spread (continuous), or how often a
   candidate's level differs from the good set's majority level (categorical);
5. the proposals: the exact (noise-free) loss of ``--proposals`` model-based proposals of each generator
   (``random_fraction = 0``), and their l(x)/g(x) under HpBandSter's model.

HpBandSter runs in its own environment through ``hpbandster_bohb_driver.py`` (``--hpbandster-python``, default
``/work/venvs/hpb/bin/python``; pins in docs/benchmarks.md). Not a test: it needs that environment.

    PYTHONPATH=$PWD python benchmarks/bohb_differential.py [--problem counting_ones] [--n 60] [--budget 9]
        [--seed 0] [--proposals 200] [--bandster-kwargs '{"top_n_percent": 15}']
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess

import numpy as np
from scipy.stats import spearmanr

from bandster.samplers.bohb import BOHB

from problems import PROBLEMS

HERE = os.path.dirname(os.path.abspath(__file__))


def observations(problem, n: int, budget: float, seed: int) -> list[list]:
    """``n`` prior samples of the problem's space and their noisy losses on ``budget``."""
    cs = problem.make_space(seed)
    out = []
    for config in cs.sample_configuration(n):
        values = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in dict(config).items()}
        out.append([values, budget, float(problem.evaluate(values, budget, seed))])
    return out


def hpbandster_answer(python: str, request: dict) -> dict:
    done = subprocess.run(
        [python, os.path.join(HERE, "hpbandster_bohb_driver.py")],
        input=json.dumps(request), capture_output=True, text=True, check=False, timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"HpBandSter's driver failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", default="counting_ones", choices=[p for p in PROBLEMS if p != "sgd_digits"])
    parser.add_argument("--n", type=int, default=60, help="observations on the budget (default 60)")
    parser.add_argument("--budget", type=float, default=9.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--proposals", type=int, default=200, help="model-based proposals per generator")
    parser.add_argument("--bandster-kwargs", default="{}", help="JSON keyword arguments for bandster's BOHB")
    parser.add_argument("--hpbandster-python", default="/work/venvs/hpb/bin/python")
    args = parser.parse_args()

    problem = PROBLEMS[args.problem]
    obs = observations(problem, args.n, args.budget, args.seed)
    cg = BOHB(problem.make_space(args.seed), seed=args.seed, random_fraction=0.0, **json.loads(args.bandster_kwargs))
    for config, budget, loss in obs:
        cg.tell(config, budget, loss)
    good, bad = cg.get_model(args.budget)
    enc = cg.encoding
    names = [enc.names[i] for i in enc.model_columns]

    # bandster's candidates (drawn as its proposals draw them) and proposals
    candidates = good.sample(
        cg.num_samples * args.proposals, cg.rng, cg.bandwidth_factor, categorical_resample=True
    )
    proposals = [cg.get_config(args.budget)[0] for _ in range(args.proposals)]

    request = {
        "mode": "model", "problem": args.problem, "observations": obs, "budget": args.budget, "seed": args.seed,
        "n_proposals": args.proposals,
    }
    first = hpbandster_answer(args.hpbandster_python, request)
    hpb_names = first["names"]
    col = [hpb_names.index(name) for name in names]  # bandster model column -> HpBandSter vector column
    hpb_full = np.array([c for p in first["proposals"] for c in p["candidates"]], dtype=float)
    hpb_cands = hpb_full[:, col]
    # evaluate HpBandSter's densities at both sets of candidates (second call, same model)
    to_hpb = np.full((len(candidates), len(hpb_names)), np.nan)
    to_hpb[:, col] = candidates
    request_points = dict(request, n_proposals=0, points=np.vstack([to_hpb, hpb_full]).tolist())
    second = hpbandster_answer(args.hpbandster_python, request_points)
    n_b = len(candidates)
    hl, hg = np.array(second["l"]), np.array(second["g"])

    print(f"## {args.problem}: {args.n} observations on budget {args.budget:g}, seed {args.seed}\n")
    # 1. split
    losses = sorted(o[2] for o in obs)
    n_good, n_bad = len(good), len(bad)
    print(f"1. split: bandster good {n_good} / bad {n_bad}; HpBandSter good {len(first['good_data'])} / bad "
          f"{len(first['bad_data'])}; good losses up to {losses[n_good - 1]:.4g}")
    hgood = np.array(first["good_data"], dtype=float)[:, col]
    raw, _ = cg.observations(args.budget)
    always = ~np.isnan(raw).any(axis=0)  # columns active in every observation (the others hold imputed values)
    same = hgood.shape == good.data.shape and np.allclose(
        np.sort(hgood[:, always], axis=0), np.sort(good.data[:, always], axis=0)
    )
    print(f"   same good rows on the {always.sum()} always-active columns (column-wise sorted): {same}\n")
    # 2. bandwidths
    print("2. bandwidths | column | type | bandster good | HpBandSter good | bandster bad | HpBandSter bad |")
    hgb, hbb = np.array(first["good_bw"])[col], np.array(first["bad_bw"])[col]
    for j, name in enumerate(names):
        print(f"   | {name} | {enc.var_types[j]} | {good.bandwidths[j]:.4f} | {hgb[j]:.4f} | {bad.bandwidths[j]:.4f} "
              f"| {hbb[j]:.4f} |")
    # 3. densities
    bl = np.concatenate([good.logpdf(candidates), good.logpdf(hpb_cands)])
    bg = np.concatenate([bad.logpdf(candidates), bad.logpdf(hpb_cands)])
    with np.errstate(divide="ignore"):
        hll, hgl = np.log(hl), np.log(hg)
    finite = np.isfinite(bl) & np.isfinite(bg) & np.isfinite(hll) & np.isfinite(hgl)
    print(f"\n3. densities at {len(bl)} candidates ({n_b} bandster's, {len(hpb_cands)} HpBandSter's; "
          f"{(~finite).sum()} non-finite somewhere):")
    print(f"   median |log l_b - log l_h| = {np.median(np.abs(bl - hll)[finite]):.3g}, "
          f"|log g_b - log g_h| = {np.median(np.abs(bg - hgl)[finite]):.3g}")
    rho = spearmanr((bl - bg)[finite], (hll - hgl)[finite]).statistic
    print(f"   Spearman of the two log l/g: {rho:.3f}")
    for part, sl in (("bandster's", slice(0, n_b)), ("HpBandSter's", slice(n_b, None))):
        ratio_b, ratio_h = (bl - bg)[sl], (hll - hgl)[sl]
        print(f"   on {part} candidates: mean log l/g bandster {np.nanmean(ratio_b[np.isfinite(ratio_b)]):.3f}, "
              f"HpBandSter {np.nanmean(ratio_h[np.isfinite(ratio_h)]):.3f}")
    # 4. candidate distribution
    print("\n4. candidates | column | type | good-set mean | bandster mean (sd) | HpBandSter mean (sd) |")
    for j, name in enumerate(names):
        g_mean = good.data[:, j].mean()
        print(f"   | {name} | {enc.var_types[j]} | {g_mean:.3f} | {candidates[:, j].mean():.3f} "
              f"({candidates[:, j].std():.3f}) | {hpb_cands[:, j].mean():.3f} ({hpb_cands[:, j].std():.3f}) |")
    # 5. proposals
    b_true = [problem.true_loss(p) for p in proposals]
    h_true = [problem.true_loss(p["config"]) for p in first["proposals"]]
    print(
        f"\n5. proposals: exact loss, mean ± s.e.: bandster {np.mean(b_true):.4f} ± {sem(b_true):.3f}, HpBandSter "
        f"{np.mean(h_true):.4f} ± {sem(h_true):.3f}; best observed {min(problem.true_loss(o[0]) for o in obs):.4f}"
    )


def sem(values: list[float]) -> float:
    return float(np.std(values, ddof=1) / math.sqrt(len(values)))


if __name__ == "__main__":
    main()
