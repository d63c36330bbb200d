"""Example 6 - Population Based Training: a learning-rate schedule found while the models train.

A linear classifier (scikit-learn's ``SGDClassifier``) learns the digits data set epoch by epoch with
``partial_fit``; the budget is the number of epochs. A population of models trains side by side, each in jobs of
``--interval`` epochs. After every interval, the worst quarter copies the checkpoint and the hyperparameters of
one of the best quarter and perturbs them (the learning rate ``eta0`` and the regularisation ``alpha`` times 0.8
or 1.2, or resampled). Over the run, the best model's learning rate becomes a *schedule*: this script prints it
and draws it (``pbt_schedule.png``).

``compute`` continues from the checkpoint in ``config_directory`` at ``previous_budget`` epochs: its own, or the
one PBT copied there from another member (docs/pbt.md). Run it::

    pip install scikit-learn matplotlib
    python example_6_pbt.py
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
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split

from bandster.backends import ThreadBackend
from bandster.optimizers import PBT

logging.basicConfig(level=logging.WARNING)

X, y = load_digits(return_X_y=True)
X_TRAIN, X_VALID, Y_TRAIN, Y_VALID = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
CLASSES = np.unique(y)


def checkpoint_path(config_directory, epochs):
    return os.path.join(config_directory, f"model_{int(epochs)}.pkl")


def train(config, budget, config_id, config_directory, previous_budget=None):
    """Train from the checkpoint of ``previous_budget`` epochs up to ``budget`` epochs with ``config``."""
    done = int(round(previous_budget or 0))
    if done:
        with open(checkpoint_path(config_directory, done), "rb") as fh:  # our own file, never from the network
            model = pickle.load(fh)
        model.set_params(eta0=config["eta0"], alpha=config["alpha"])  # the hyperparameters may have changed
    else:
        model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=config["eta0"], alpha=config["alpha"],
                              random_state=config_id[0])
    rng = np.random.RandomState(done)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(int(round(budget)) - done):
            order = rng.permutation(len(X_TRAIN))
            model.partial_fit(X_TRAIN[order], Y_TRAIN[order], classes=CLASSES)  # one epoch
    os.makedirs(config_directory, exist_ok=True)
    path = checkpoint_path(config_directory, budget)
    with open(path + ".tmp", "wb") as fh:
        pickle.dump(model, fh)
    os.replace(path + ".tmp", path)  # atomic: a crash never leaves half a checkpoint
    accuracy = float(model.score(X_VALID, Y_VALID))
    return {"loss": 1.0 - accuracy, "info": {"validation accuracy": accuracy}}


def main():
    parser = argparse.ArgumentParser(description="Example 6 - Population Based Training of SGDClassifier.")
    parser.add_argument("--population", type=int, default=8, help="Members of the population.")
    parser.add_argument("--interval", type=float, default=2, help="Epochs between exploit/explore steps.")
    parser.add_argument("--epochs", type=float, default=20, help="Epochs every member trains in total.")
    parser.add_argument("--n_workers", type=int, default=2, help="Threads training members at the same time.")
    parser.add_argument("--shared_directory", default="example6_run", help="The run's journal and checkpoints.")
    parser.add_argument("--plot", default="pbt_schedule.png", help="Where to draw the schedule ('' for none).")
    args = parser.parse_args()

    space = CS.ConfigurationSpace(seed=1)
    space.add([CS.UniformFloatHyperparameter("eta0", 1e-4, 1.0, log=True),
               CS.UniformFloatHyperparameter("alpha", 1e-6, 1e-2, log=True)])
    pbt = PBT(space, population_size=args.population, perturbation_interval=args.interval, max_budget=args.epochs,
              seed=1, run_id="example6", working_directory=args.shared_directory,
              backend=ThreadBackend(args.n_workers, train))
    try:
        result = pbt.run()
    finally:
        pbt.shutdown()

    from bandster.visualization.pbt import best_member

    best = best_member(result)
    final = [r for r in result.get_all_runs() if r.budget == args.epochs and r.config_id[0] == best][-1]
    print(f"Best member: {best}, validation accuracy {final.info['validation accuracy']:.3f} after "
          f"{args.epochs:g} epochs")
    print("Its learning-rate schedule (epochs: eta0):")
    for start, end, value in result.get_schedule(best)["eta0"]:
        print(f"  {start:4g} - {end:4g}: {value:.4g}")
    lineage = result.get_lineage(best)
    print("Its lineage:", " -> ".join(f"member {s['member']} ({s['kind']}, epochs {s['budget_start']:g}-"
                                      f"{s['budget_end']:g})" for s in lineage))
    print("A total of %i runs were executed." % len(result.get_all_runs()))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from bandster.visualization import pbt_schedule

        fig, _ = pbt_schedule(result, member=best, log_y=True)
        fig.savefig(args.plot, dpi=100)
        print("Schedule plot:", os.path.abspath(args.plot))


if __name__ == "__main__":
    main()
