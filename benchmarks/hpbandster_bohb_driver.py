"""Runs HpBandSter's own BOHB (0.7.4) in its old environment, for ``quality.py`` and ``bohb_differential.py``.

This script is executed by ``/work/venvs/hpb/bin/python`` (HpBandSter 0.7.4, numpy 1.26, ConfigSpace 0.7.1,
Pyro4; see docs/benchmarks.md), never imported by bandster or its tests. It reads one JSON request on stdin
and writes one JSON answer on stdout. The problems come from ``problems.py`` (the same objectives, the same
noise seeds as bandster's runs); only the ConfigSpace calls of their spaces are adapted to ConfigSpace 0.7.

Requests
--------
``{"mode": "run", "problem": name, "seed": s, "n_iterations": k}``
    HpBandSter's ``BOHB`` optimizer end to end on loopback (its own Pyro4 name server, one worker thread that
    evaluates ``problem.evaluate(config, budget, seed)``), ``numpy.random.seed(seed)`` and the space seeded with
    ``seed``. Answer: ``{"runs": [[budget, loss, config], ...]}`` in finish order, and ``"model_based"``, the
    number of model-based proposals.
``{"mode": "model", "problem": name, "observations": [[config, budget, loss], ...], "budget": b,
"seed": s, "n_proposals": m, "points": [[...], ...]}``
    HpBandSter's BOHB *config generator* only: the observations are fed through ``new_result`` in order, then
    the model of ``budget`` is read out: ``names`` (vector order), ``var_type``, the good and bad training data
    and bandwidths, l(x) and g(x) of the model at ``points`` (ConfigSpace vectors), and ``m`` model-based
    proposals (``random_fraction = 0``, ``numpy.random.seed(seed)``), each with every candidate vector it
    scored. Candidates are recorded by wrapping the good KDE's ``pdf``, which the generator calls once per
    candidate.

    /work/venvs/hpb/bin/python benchmarks/hpbandster_bohb_driver.py < request.json > answer.json
"""

import json
import logging
import math
import os
import sys
import threading

import ConfigSpace as CS
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _add(self, items):
    """ConfigSpace 1.x's ``ConfigurationSpace.add`` on ConfigSpace 0.7."""
    items = items if isinstance(items, (list, tuple)) else [items]
    for item in items:
        if isinstance(item, CS.hyperparameters.Hyperparameter):
            self.add_hyperparameter(item)
        else:
            self.add_condition(item)


if not hasattr(CS.ConfigurationSpace, "add"):
    CS.ConfigurationSpace.add = _add

import problems  # noqa: E402  (after the shim: the spaces call ``cs.add``)


def _run(request):
    import hpbandster.core.nameserver as hpns
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers import BOHB

    problem = problems.PROBLEMS[request["problem"]]
    seed = int(request["seed"])
    run_id = f"hpb-{problem.name}-{seed}-{os.getpid()}"

    class ProblemWorker(Worker):
        def compute(self, config, budget, **kwargs):
            return {"loss": float(problem.evaluate(config, budget, seed)), "info": {}}

    np.random.seed(seed)
    ns = hpns.NameServer(run_id=run_id, host="127.0.0.1", port=0)
    host, port = ns.start()
    worker = ProblemWorker(run_id=run_id, nameserver=host, nameserver_port=port)
    worker.run(background=True)
    opt = BOHB(
        configspace=problem.make_space(seed),
        run_id=run_id,
        nameserver=host,
        nameserver_port=port,
        min_budget=problem.min_budget,
        max_budget=problem.max_budget,
        eta=problem.eta,
        **request.get("kwargs", {}),
    )
    try:
        result = opt.run(n_iterations=int(request["n_iterations"]), min_n_workers=1)
    finally:
        opt.shutdown(shutdown_workers=True)
        ns.shutdown()
    id2conf = result.get_id2config_mapping()
    runs = sorted(result.get_all_runs(), key=lambda r: r.time_stamps["finished"])
    out = [[float(r.budget), r.loss, id2conf[r.config_id]["config"]] for r in runs]
    model_based = sum(bool(v["config_info"].get("model_based_pick")) for v in id2conf.values())
    return {"runs": out, "model_based": model_based}


def _model(request):
    from hpbandster.core.dispatcher import Job
    from hpbandster.optimizers.config_generators.bohb import BOHB as BOHBGenerator

    problem = problems.PROBLEMS[request["problem"]]
    seed = int(request.get("seed", 0))
    cs = problem.make_space(seed)
    kwargs = dict(request.get("kwargs", {}))
    kwargs["random_fraction"] = 0.0
    cg = BOHBGenerator(cs, **kwargs)
    for i, (config, budget, loss) in enumerate(request["observations"]):
        job = Job((0, 0, i), config=config, budget=budget)
        job.result = {"loss": loss}
        cg.new_result(job)
    budget = float(request["budget"])
    models = cg.kde_models[budget]
    good, bad = models["good"], models["bad"]
    answer = {
        "names": cs.get_hyperparameter_names(),
        "var_type": good.var_type,
        "good_data": good.data.tolist(),
        "bad_data": bad.data.tolist(),
        "good_bw": good.bw.tolist(),
        "bad_bw": bad.bw.tolist(),
    }
    points = np.asarray(request.get("points", []), dtype=float)
    if len(points):
        answer["l"] = [float(good.pdf(p)) for p in points]
        answer["g"] = [float(bad.pdf(p)) for p in points]

    candidates = []
    good_pdf = good.pdf

    def recording_pdf(x, *args, **kw):
        candidates.append(np.asarray(x, dtype=float).tolist())
        return good_pdf(x, *args, **kw)

    good.pdf = recording_pdf
    np.random.seed(seed)
    cs.seed(seed)
    proposals = []
    for _ in range(int(request.get("n_proposals", 0))):
        candidates.clear()
        config, info = cg.get_config(budget)
        vector = CS.Configuration(cs, values=config).get_array()
        proposals.append(
            {
                "config": config,
                "vector": [None if math.isnan(v) else float(v) for v in vector],
                "model_based": bool(info.get("model_based_pick")),
                "candidates": list(candidates),
            }
        )
    answer["proposals"] = proposals
    return answer


def main():
    logging.basicConfig(level=logging.ERROR)
    request = json.load(sys.stdin)
    mode = request.get("mode")
    if mode == "run":
        answer = _run(request)
    elif mode == "model":
        answer = _model(request)
    else:
        raise SystemExit(f"unknown mode {mode!r}: use 'run' or 'model'")
    json.dump(answer, sys.stdout, default=float)


if __name__ == "__main__":
    threading.current_thread().name = "hpbandster-driver"
    main()
