"""Overhead of BOHB's config generator: model-based proposal and result-update times.

Space: 10 hyperparameters, mixed (log floats, a linear float, log and linear integers, categoricals,
one conditional float). For each observation count N, the generator is fed N results on one budget
(configs drawn from the prior, a synthetic loss); then, ``--repeats`` times, one more result is told
and one model-based proposal is timed (``random_fraction=0``), so every timed proposal includes the
lazy refit of both KDEs. The proposal time with the model already fitted is shown too.

Usage::

    python benchmarks/bohb_overhead.py [--sizes 100 1000 5000] [--repeats 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from ConfigSpace import Categorical, ConfigurationSpace, EqualsCondition, Float, Integer

from bandster.core._convert import config_to_dict
from bandster.core.job import Job
from bandster.samplers.bohb import BOHB


def make_space(seed: int) -> ConfigurationSpace:
    cs = ConfigurationSpace(seed=seed)
    cs.add(
        [
            Float("lr", (1e-5, 1e-1), log=True),
            Float("weight_decay", (1e-6, 1e-2), log=True),
            Float("dropout", (0.0, 0.8)),
            Integer("batch_size", (16, 512), log=True),
            Integer("units", (8, 1024), log=True),
            Integer("layers", (1, 8)),
            Categorical("optimizer", ["adam", "sgd", "rmsprop"]),
            Categorical("activation", ["relu", "tanh", "elu", "gelu"]),
            Categorical("init", ["he", "xavier"]),
            Float("momentum", (0.0, 0.99)),
        ]
    )
    cs.add(EqualsCondition(cs["momentum"], cs["optimizer"], "sgd"))
    return cs


def synthetic_loss(config: dict) -> float:
    loss = (math.log10(config["lr"]) + 3.0) ** 2 + config["dropout"] + 0.1 * config["layers"]
    penalty = {"adam": 0.0, "sgd": 0.5 * (1 - config.get("momentum", 0.0)), "rmsprop": 0.3}
    loss += penalty[config["optimizer"]]
    return loss


def measure(n: int, repeats: int, seed: int) -> dict[str, float]:
    cs = make_space(seed)
    cg = BOHB(cs, random_fraction=0.0, seed=seed)
    prior = [config_to_dict(c) for c in cs.sample_configuration(n + 2 * repeats)]
    for config in prior[:n]:
        cg.tell(config, 1.0, synthetic_loss(config))
    extra = iter(prior[n:])

    fresh, cached, update = [], [], []
    for r in range(repeats):
        config = next(extra)
        job = Job((0, 0, r), config=config, budget=1.0)
        job.result = {"loss": synthetic_loss(config), "info": {}}
        t0 = time.perf_counter()
        cg.new_result(job)
        update.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        _, info = cg.get_config(1.0)
        fresh.append(time.perf_counter() - t0)
        assert info["model_based_pick"], "expected a model-based pick"

        t0 = time.perf_counter()
        cg.get_config(1.0)
        cached.append(time.perf_counter() - t0)
    return {
        "n": n,
        "proposal_ms": 1e3 * statistics.median(fresh),
        "proposal_cached_ms": 1e3 * statistics.median(cached),
        "new_result_ms": 1e3 * statistics.median(update),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100, 1000, 5000], help="observation counts on the model's budget"
    )
    parser.add_argument("--repeats", type=int, default=50, help="timed proposals per size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"BOHB config generator overhead, 10-dim mixed space, median of {args.repeats} repeats")
    print(
        f"{'observations':>12} | {'proposal incl. refit (ms)':>25} | {'proposal, model fitted (ms)':>27} "
        f"| {'new_result (ms)':>15}"
    )
    print("-" * 90)
    for n in args.sizes:
        row = measure(n, args.repeats, args.seed)
        print(
            f"{row['n']:>12} | {row['proposal_ms']:>25.2f} | {row['proposal_cached_ms']:>27.2f} "
            f"| {row['new_result_ms']:>15.3f}"
        )
    print("targets: proposal <= 5 ms at 1,000 and <= 20 ms at 5,000 observations; new_result <= 2 ms at 1,000")


if __name__ == "__main__":
    main()
