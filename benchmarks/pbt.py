"""PBT benchmarks (issue 15); figures in docs/benchmarks.md.

* ``toy``: the PBT paper's Figure 2 (Jaderberg et al. 2017) with the values of Ray Tune's PBT visualization guide:
  maximise Q(theta) = 1.2 - |theta|^2 through the surrogate Qhat(theta|h) = 1.2 - (h0 theta0^2 + h1 theta1^2) by
  gradient steps theta <- theta - lr * 2 h theta, theta from (0.9, 0.9), two members starting with h = (1, 0) and
  (0, 1) and lr = 0.05; perturbation interval 4 steps, 100 steps, quantile_fraction 0.5, resample_probability 0.5,
  synchronous; mutations lr log-uniform in [5e-3, 1e-1], h0 and h1 uniform in [0, 1]. Reported: the best member's
  final Q.
* ``lr``: the learning-rate schedule problem: (m, v) from (10, 0); a step with learning rate lr does
  m <- (1 - lr) m, v <- (1 - lr)^2 v + lr^2; loss m^2 + v after 100 steps; lr log-uniform in [1e-3, 0.5];
  population 8, interval 10. Compared with random search and ASHA at the same total budget (800 steps).
* ``ray``: the same two problems with Ray Tune's PopulationBasedTraining (run with a Python that has
  ``ray[tune]``; not a dependency), same budgets and seeds.
* ``latency``: the master's scheduling latency while exploit steps copy a 100 MB checkpoint directory.

Every member keeps its state in its ``config_directory`` (a small JSON checkpoint), as a real ``compute`` would, so
the simulated runs exercise the checkpoint copies too.

Run: ``nice -n 19 python benchmarks/pbt.py toy lr --seeds 20`` (simulated backend; a few seconds per seed).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402

# ------------------------------------------------------------------------------------------ the problems
TOY_STEPS, TOY_INTERVAL = 100, 4
LR_STEPS, LR_INTERVAL, LR_POPULATION = 100, 10, 8


def read_state(directory, default):
    path = os.path.join(directory, "state.json")
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    return default


def write_state(directory, state):
    path = os.path.join(directory, "state.json")
    with open(path + ".tmp", "w") as fh:
        json.dump(state, fh)
    os.replace(path + ".tmp", path)


def toy_q(theta):
    return 1.2 - float(np.sum(np.square(theta)))


def toy_steps(theta, h, lr, n):
    theta = np.asarray(theta, dtype=float)
    h = np.asarray(h, dtype=float)
    for _ in range(int(n)):
        theta = theta - lr * 2.0 * h * theta
    return theta


def toy_objective(config, budget, config_directory, previous_budget=None, **kwargs):
    """One interval of the toy: loss = -Q(theta)."""
    state = read_state(config_directory, {"theta": [0.9, 0.9], "step": 0})
    start = int(round(previous_budget or 0))
    if state["step"] != start:
        raise RuntimeError(f"checkpoint at step {state['step']}, expected {start}")
    theta = toy_steps(state["theta"], [config["h0"], config["h1"]], config["lr"], int(round(budget)) - start)
    write_state(config_directory, {"theta": theta.tolist(), "step": int(round(budget))})
    return {"loss": -toy_q(theta), "info": {"Q": toy_q(theta)}, "cost": budget - start}


def lr_steps(m, v, lr, n):
    for _ in range(int(n)):
        m = (1.0 - lr) * m
        v = (1.0 - lr) ** 2 * v + lr ** 2
    return m, v


def jitter(config, budget):
    """A duration factor in [0.9, 1.1], fixed per configuration and budget: equal durations would deliver the
    members' results at one virtual time, always in member order, which no real run does."""
    key = json.dumps([sorted(config.items()), float(budget)]).encode()
    return 0.9 + 0.2 * np.random.RandomState(zlib.crc32(key)).uniform()


def lr_objective(config, budget, config_directory=None, previous_budget=None, **kwargs):
    """One interval of the learning-rate problem (from the checkpoint in ``config_directory`` if given)."""
    start = int(round(previous_budget or 0))
    state = read_state(config_directory, {"m": 10.0, "v": 0.0, "step": 0}) if config_directory else \
        {"m": 10.0, "v": 0.0, "step": 0}
    if config_directory is None:
        start = 0
    if state["step"] != start:
        raise RuntimeError(f"checkpoint at step {state['step']}, expected {start}")
    m, v = lr_steps(state["m"], state["v"], config["lr"], int(round(budget)) - start)
    if config_directory:
        write_state(config_directory, {"m": m, "v": v, "step": int(round(budget))})
    return {"loss": m * m + v, "cost": (budget - start) * jitter(config, budget)}


def toy_space():
    import ConfigSpace as CS

    return CS.ConfigurationSpace({"lr": CS.Float("lr", (5e-3, 1e-1), log=True), "h0": (0.0, 1.0), "h1": (0.0, 1.0)})


def lr_space():
    import ConfigSpace as CS

    return CS.ConfigurationSpace({"lr": CS.Float("lr", (1e-3, 0.5), log=True)})


# ------------------------------------------------------------------------------------------ bandster runs
def run_pbt_toy(seed, workdir, synchronous=True):
    from bandster.backends import SimulatedBackend
    from bandster.optimizers import PBT

    pbt = PBT(toy_space(), population_size=2, perturbation_interval=TOY_INTERVAL, max_budget=TOY_STEPS,
              quantile_fraction=0.5, resample_probability=0.5, synchronous=synchronous, seed=seed,
              points_to_evaluate=[{"lr": 0.05, "h0": 1.0, "h1": 0.0}, {"lr": 0.05, "h0": 0.0, "h1": 1.0}],
              run_id=f"toy{seed}", working_directory=workdir, backend=SimulatedBackend(2, toy_objective))
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown()
    return max(-r.loss for r in result.get_all_runs() if r.budget == TOY_STEPS and r.loss is not None)


def run_pbt_lr(seed, workdir, synchronous=False):
    from bandster.backends import SimulatedBackend
    from bandster.optimizers import PBT

    pbt = PBT(lr_space(), population_size=LR_POPULATION, perturbation_interval=LR_INTERVAL, max_budget=LR_STEPS,
              synchronous=synchronous, seed=seed, run_id=f"lr{seed}", working_directory=workdir,
              backend=SimulatedBackend(LR_POPULATION, lr_objective))
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown()
    return min(r.loss for r in result.get_all_runs() if r.budget == LR_STEPS and r.loss is not None)


def run_random_lr(seed, workdir):
    """Random search with the same total budget: 8 configurations of 100 steps."""
    from bandster.backends import SimulatedBackend
    from bandster.optimizers import RandomSearch

    opt = RandomSearch(lr_space(), min_budget=LR_STEPS, max_budget=LR_STEPS, seed=seed, run_id=f"rs{seed}",
                       working_directory=workdir, backend=SimulatedBackend(LR_POPULATION, lr_objective))
    try:
        result = opt.run(n_iterations=LR_POPULATION, progress=False)
    finally:
        opt.shutdown()
    return min(r.loss for r in result.get_all_runs() if r.loss is not None)


def run_asha_lr(seed, workdir):
    """ASHA (eta 3, budgets 100/9 .. 100) until the same total budget (800 steps) is started."""
    from bandster.backends import SimulatedBackend
    from bandster.optimizers import ASHA

    opt = ASHA(lr_space(), eta=3, min_budget=LR_STEPS / 9, max_budget=LR_STEPS, seed=seed, run_id=f"asha{seed}",
               working_directory=workdir, backend=SimulatedBackend(LR_POPULATION, lr_objective))
    try:
        result = opt.run(n_iterations=100, max_budget_spent=LR_POPULATION * LR_STEPS, progress=False)
    finally:
        opt.shutdown()
    losses = [r.loss for r in result.get_all_runs() if r.budget == LR_STEPS and r.loss is not None]
    return min(losses) if losses else float("inf")


def best_constant_lr():
    grid = np.exp(np.linspace(np.log(1e-3), np.log(0.5), 20001))
    losses = [sum(lr_steps(10.0, 0.0, lr, LR_STEPS)[i] ** p for i, p in ((0, 2), (1, 1))) for lr in grid[::20]]
    i = int(np.argmin(losses))
    return float(grid[::20][i]), float(losses[i])


def mann_whitney_less(a, b):
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(a, b, alternative="less").pvalue)


# ------------------------------------------------------------------------------------------ Ray Tune
def ray_pbt(problem, seed, storage):
    """Ray Tune's PopulationBasedTraining on ``problem`` ('toy' or 'lr') with the same settings and budget."""
    import random

    from ray import tune
    from ray.tune.schedulers import PopulationBasedTraining

    random.seed(seed)
    np.random.seed(seed)

    def trainable(config):
        checkpoint = tune.get_checkpoint()
        if problem == "toy":
            state = {"theta": [0.9, 0.9], "step": 0}
        else:
            state = {"m": 10.0, "v": 0.0, "step": 0}
        if checkpoint:
            with checkpoint.as_directory() as d:
                state = read_state(d, state)
        interval = TOY_INTERVAL if problem == "toy" else LR_INTERVAL
        while True:
            if problem == "toy":
                theta = toy_steps(state["theta"], [config["h0"], config["h1"]], config["lr"], interval)
                state = {"theta": theta.tolist(), "step": state["step"] + interval}
                loss = -toy_q(theta)
            else:
                m, v = lr_steps(state["m"], state["v"], config["lr"], interval)
                state = {"m": m, "v": v, "step": state["step"] + interval}
                loss = m * m + v
            with tempfile.TemporaryDirectory() as d:
                write_state(d, state)
                tune.report({"loss": loss, "step": state["step"]}, checkpoint=tune.Checkpoint.from_directory(d))

    if problem == "toy":
        mutations = {"lr": tune.loguniform(5e-3, 1e-1), "h0": tune.uniform(0.0, 1.0), "h1": tune.uniform(0.0, 1.0)}
        space = {"lr": 0.05, "h0": tune.grid_search([0.0, 1.0]),
                 "h1": tune.sample_from(lambda spec: 1.0 - spec.config["h0"])}
        scheduler = PopulationBasedTraining(time_attr="step", perturbation_interval=TOY_INTERVAL,
                                            quantile_fraction=0.5, resample_probability=0.5,
                                            hyperparam_mutations=mutations, synch=True)
        samples, stop = 1, TOY_STEPS
    else:
        mutations = {"lr": tune.loguniform(1e-3, 0.5)}
        space = {"lr": tune.loguniform(1e-3, 0.5)}
        scheduler = PopulationBasedTraining(time_attr="step", perturbation_interval=LR_INTERVAL,
                                            hyperparam_mutations=mutations)
        samples, stop = LR_POPULATION, LR_STEPS
    tuner = tune.Tuner(
        tune.with_resources(trainable, {"cpu": 0.1}), param_space=space,
        tune_config=tune.TuneConfig(scheduler=scheduler, metric="loss", mode="min", num_samples=samples,
                                    reuse_actors=True,
                                    search_alg=tune.search.BasicVariantGenerator(random_state=seed)),
        run_config=tune.RunConfig(stop={"step": stop}, storage_path=storage, verbose=0, name=f"{problem}{seed}"),
    )
    results = tuner.fit()
    finals = [r.metrics["loss"] for r in results if r.metrics and r.metrics.get("step") == stop]
    return min(finals)


# ------------------------------------------------------------------------------------------ latency
def latency(size_mb, n_members, intervals, workdir, background=True):
    """Median and p99 (ms) of the master's scheduling latency: the time ``Runner.job_finished`` takes for a result
    (journal, scheduler, submitting the next jobs; under the runner's lock), with 4 thread workers whose members
    keep a ``size_mb`` MB checkpoint (0: the same writes go to a scratch file), which every exploit and every freeze
    copies. ``background=False`` makes the
    runner copy under its lock, as before this issue, for comparison."""
    import ConfigSpace as CS

    from bandster.backends import ThreadBackend
    from bandster.optimizers import PBT

    block = os.urandom(1024 * 1024)

    def compute(config, budget, config_directory, previous_budget=None, **kwargs):
        # every job writes 100 MB (1 MB at a time: the writes release the GIL), into its checkpoint when copies are
        # measured, else into a scratch file that nothing copies: the two runs differ only in the copies
        path = os.path.join(config_directory, "weights.bin") if size_mb else os.path.join(
            workdir, f"scratch-{threading.get_ident()}.bin")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            for _ in range(100):
                fh.write(block)
        time.sleep(0.2)
        return {"loss": config["x"] + 1.0 / budget}

    backend = ThreadBackend(4, compute)
    backend.background_copies = background
    pbt = PBT(CS.ConfigurationSpace({"x": (0.0, 1.0)}), population_size=n_members, perturbation_interval=1,
              max_budget=intervals, seed=0, run_id=f"lat{size_mb}{background}", working_directory=workdir,
              backend=backend)
    samples = []
    runner = pbt.runner
    job_finished = runner.job_finished

    def timed(job):
        start = time.perf_counter()
        job_finished(job)
        samples.append(time.perf_counter() - start)

    runner.job_finished = timed
    try:
        result = pbt.run(progress=False)
    finally:
        pbt.shutdown()
    copies = sum(1 for e in result.get_id2config_mapping().values() if e["config_info"]["pbt"]["generation"] > 0)
    return np.asarray(samples) * 1000, copies


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="+", choices=["toy", "lr", "ray", "latency"])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--size_mb", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="latency: runs of each variant, interleaved")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        if "toy" in args.what:
            t = time.perf_counter()
            qs = [run_pbt_toy(seed, os.path.join(workdir, "toy")) for seed in range(args.seeds)]
            fixed = toy_q(toy_steps([0.9, 0.9], [1, 0], 0.05, TOY_STEPS))
            print(f"toy: bandster PBT median final Q over {args.seeds} seeds = {statistics.median(qs):.4f} "
                  f"(min {min(qs):.4f}, max {max(qs):.4f}); fixed h=(1,0): Q = {fixed:.4f}; target >= 1.15; "
                  f"{time.perf_counter() - t:.0f} s")
            print("toy Q per seed:", json.dumps([round(q, 4) for q in qs]))
        if "lr" in args.what:
            t = time.perf_counter()
            pbt = [run_pbt_lr(seed, os.path.join(workdir, "lr")) for seed in range(args.seeds)]
            rs = [run_random_lr(seed, os.path.join(workdir, "rs")) for seed in range(args.seeds)]
            asha = [run_asha_lr(seed, os.path.join(workdir, "asha")) for seed in range(args.seeds)]
            lr, best = best_constant_lr()
            print(f"lr: best constant lr {lr:.4f} -> loss {best:.4f}")
            for name, values in (("PBT", pbt), ("RandomSearch", rs), ("ASHA", asha)):
                print(f"lr: {name:12s} median final loss over {args.seeds} seeds = {statistics.median(values):.4f} "
                      f"(min {min(values):.4f}, max {max(values):.4f})")
            print(f"lr: one-sided Mann-Whitney p(PBT < RandomSearch) = {mann_whitney_less(pbt, rs):.2g}, "
                  f"p(PBT < ASHA) = {mann_whitney_less(pbt, asha):.2g}; target: median < 0.029, p < 0.05; "
                  f"{time.perf_counter() - t:.0f} s")
            print("lr PBT per seed:", json.dumps([round(x, 5) for x in pbt]))
        if "ray" in args.what:
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            storage = os.path.join(workdir, "ray")
            toy, lrs = [], []
            for seed in range(args.seeds):  # one seed of each problem at a time: partial figures are usable
                toy.append(-ray_pbt("toy", seed, storage))
                lrs.append(ray_pbt("lr", seed, storage))
                print(f"ray seed {seed}: toy Q {toy[-1]:.4f}, lr loss {lrs[-1]:.5f}", flush=True)
            print(f"ray toy: median final Q over {args.seeds} seeds = {statistics.median(toy):.4f}")
            print(f"ray lr: median final loss over {args.seeds} seeds = {statistics.median(lrs):.4f}")
            print("ray toy per seed:", json.dumps([round(q, 4) for q in toy]))
            print("ray lr per seed:", json.dumps([round(x, 5) for x in lrs]))
        if "latency" in args.what:
            pooled = {}
            variants = [(0, True, 10), (args.size_mb, True, 10)] * args.repeat + [(args.size_mb, False, 4)]
            for k, (size, background, intervals) in enumerate(variants):
                ms, copies = latency(size, 8, intervals, os.path.join(workdir, f"lat{k}"), background)
                pooled.setdefault((size, background), []).append(ms)
                how = "in the copier thread" if background else "under the runner's lock (before this issue)"
                print(f"latency: {size} MB checkpoints, {copies} copies {how}: median {np.median(ms):.2f} ms, "
                      f"p99 {np.percentile(ms, 99):.2f} ms over {len(ms)} results", flush=True)
            for (size, background), runs in pooled.items():
                ms = np.concatenate(runs)
                print(f"latency pooled: {size} MB, background={background}: median {np.median(ms):.2f} ms, "
                      f"p99 {np.percentile(ms, 99):.2f} ms over {len(ms)} results")

if __name__ == "__main__":
    main()
