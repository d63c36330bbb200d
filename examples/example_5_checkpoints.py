"""Example 5 - checkpoints: a promoted configuration resumes training instead of starting over.

A small neural network (scikit-learn's ``MLPClassifier``) learns the digits data set one epoch at a time; the
budget is the number of epochs. When successive halving promotes a configuration from 3 to 9 epochs, the worker
that gets it (any worker, on any node) loads the checkpoint the earlier run left in the configuration's own
directory and trains 6 more epochs, not 9.

``compute`` receives, besides HpBandSter's arguments,

* ``config_directory``: an absolute path, the same for every budget of one configuration and for every worker
  (it lies under the run's working directory, so put that on a shared file system on a cluster);
* ``previous_budget``: the budget this configuration last finished on, or None the first time.

Workers written for HpBandSter (``compute(self, config_id, config, budget, working_directory)``) do not get
them and keep working. Run it on one machine::

    pip install scikit-learn
    python example_5_checkpoints.py

or with more worker processes (they join through the shared directory, as in example 4)::

    python example_5_checkpoints.py --n_workers 3 &
    python example_5_checkpoints.py --worker &
    python example_5_checkpoints.py --worker
"""

import argparse
import logging
import os
import pickle
import warnings

import ConfigSpace as CS
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import bandster.core.nameserver as hpns
from bandster.core.worker import Worker
from bandster.optimizers import BOHB

logging.basicConfig(level=logging.WARNING)


class MLPWorker(Worker):
    """Trains an MLP on digits for ``budget`` epochs in total, resuming from its checkpoint when promoted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        X, y = load_digits(return_X_y=True)
        self.X_train, self.X_valid, self.y_train, self.y_valid = train_test_split(
            X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
        self.classes = np.unique(y)

    def compute(self, config_id, config, budget, working_directory, config_directory, previous_budget, **kwargs):
        checkpoint = os.path.join(config_directory, "checkpoint.pkl")
        model, done = None, 0
        if previous_budget is not None and os.path.exists(checkpoint):
            with open(checkpoint, "rb") as fh:  # our own file: pickle is fine here (never from the network)
                state = pickle.load(fh)
            if state["epochs"] <= budget:
                model, done = state["model"], state["epochs"]
        if model is None:
            model = MLPClassifier(hidden_layer_sizes=(config["n_hidden"],), alpha=config["alpha"],
                                  learning_rate_init=config["lr"], batch_size=config["batch_size"],
                                  random_state=config_id[0] * 1000 + config_id[2])
        epochs = int(round(budget))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(epochs - done):
                model.partial_fit(self.X_train, self.y_train, classes=self.classes)  # one epoch
        tmp = checkpoint + f".{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            pickle.dump({"model": model, "epochs": epochs}, fh)
        os.replace(tmp, checkpoint)  # atomic: a crash never leaves half a checkpoint
        accuracy = float(model.score(self.X_valid, self.y_valid))
        return {"loss": 1.0 - accuracy,
                "info": {"validation accuracy": accuracy, "epochs trained": epochs - done, "resumed from": done,
                         "worker pid": os.getpid()}}

    @staticmethod
    def get_configspace():
        cs = CS.ConfigurationSpace(seed=1)
        cs.add([
            CS.UniformFloatHyperparameter("lr", lower=1e-4, upper=1e-1, log=True),
            CS.UniformFloatHyperparameter("alpha", lower=1e-6, upper=1e-1, log=True),
            CS.UniformIntegerHyperparameter("n_hidden", lower=8, upper=128, log=True),
            CS.CategoricalHyperparameter("batch_size", [16, 32, 64, 128]),
        ])
        return cs


def main():
    parser = argparse.ArgumentParser(description="Example 5 - checkpoints: promoted configurations resume.")
    parser.add_argument("--min_budget", type=float, help="Minimum number of epochs.", default=1)
    parser.add_argument("--max_budget", type=float, help="Maximum number of epochs.", default=27)
    parser.add_argument("--n_iterations", type=int, help="Number of iterations performed by the optimizer", default=4)
    parser.add_argument("--n_workers", type=int, help="Start once this many workers (the master's included) joined.",
                        default=1)
    parser.add_argument("--worker", help="Flag to turn this into a worker process", action="store_true")
    parser.add_argument("--run_id", type=str, default="example5", help="A unique run id for this optimization run.")
    parser.add_argument("--shared_directory", type=str, default="example5_run",
                        help="Working directory of the run: the configurations' directories (checkpoints) and the "
                             "name server's credentials go here.")
    args = parser.parse_args()

    if args.worker:
        w = MLPWorker(run_id=args.run_id)
        w.load_nameserver_credentials(working_directory=args.shared_directory, num_tries=120, interval=1)
        w.run(background=False)
        return

    NS = hpns.NameServer(run_id=args.run_id, host="127.0.0.1", port=0, working_directory=args.shared_directory)
    ns_host, ns_port = NS.start()
    w = MLPWorker(run_id=args.run_id, nameserver=ns_host, nameserver_port=ns_port)
    w.run(background=True)
    bohb = BOHB(configspace=MLPWorker.get_configspace(), run_id=args.run_id, nameserver=ns_host,
                nameserver_port=ns_port, min_budget=args.min_budget, max_budget=args.max_budget,
                working_directory=args.shared_directory, seed=1)
    try:
        res = bohb.run(n_iterations=args.n_iterations, min_n_workers=args.n_workers)
    finally:
        bohb.shutdown(shutdown_workers=True)
        w.shutdown()
        NS.shutdown()

    runs = [r for r in res.get_all_runs() if r.info]
    incumbent = res.get_incumbent_id()
    if incumbent is None:
        print("No incumbent: no run on the largest budget finished (the run was stopped early or every run "
              "failed). A total of %i runs were executed." % len(res.get_all_runs()))
        return
    best = res.get_runs_by_id(incumbent)[-1]
    resumed = [r for r in runs if r.info["resumed from"] > 0]
    promoted = [r for r in runs if r.budget > args.min_budget and r.config_id in {q.config_id for q in runs
                                                                                   if q.budget < r.budget}]
    trained = sum(r.info["epochs trained"] for r in runs)
    scratch = sum(int(round(r.budget)) for r in runs)
    print("Best found configuration:", res.get_id2config_mapping()[incumbent]["config"])
    print("Its validation accuracy: %.3f after %i epochs" % (best.info["validation accuracy"], best.budget))
    print("A total of %i runs were executed." % len(res.get_all_runs()))
    print("%i of %i promoted runs resumed from a checkpoint." % (len(resumed), len(promoted)))
    print("Epochs trained: %i instead of %i without checkpoints." % (trained, scratch))
    print("Worker processes: %i" % len({r.info["worker pid"] for r in runs}))


if __name__ == "__main__":
    main()
