"""Packaging for bandster. ``pip install -e '.[test]'`` for development."""

import os

from setuptools import find_packages, setup

here = os.path.abspath(os.path.dirname(__file__))
version: dict = {}
with open(os.path.join(here, "bandster", "__version__.py")) as fh:
    exec(fh.read(), version)

with open(os.path.join(here, "README.md"), encoding="utf-8") as fh:
    long_description = fh.read()

plots = ["matplotlib>=3.7", "pandas>=2.0"]
docs = ["sphinx>=7", "numpydoc>=1.6", "myst-parser>=2"]
examples = ["scikit-learn>=1.3"]
importance = ["scikit-learn>=1.3"]  # Result.importance, visualization.hyperparameter_importance
# interactive figures in bandster report and bandster dashboard (plotly.js embedded); orjson: the dashboard reads
# and answers a large journal faster
report = ["plotly>=5.0", "orjson>=3.9"]
dask = ["dask>=2024.1", "distributed>=2024.1"]  # bandster.backends.DaskBackend: jobs as tasks on a Dask cluster
# the experiment trackers of bandster.callbacks; SQLAlchemy and Alembic give mlflow-skinny its local sqlite store
trackers = ["tensorboardX>=2.6", "mlflow-skinny>=3.0", "sqlalchemy>=2.0", "alembic>=1.10"]
# the peers benchmarks/peers.py compares against; never dependencies of bandster. DEHB pins numpy < 2: install
# this extra in a virtualenv of its own (HpBandSter needs older pins still and is installed by hand, see
# docs/benchmarks.md)
peers = ["dehb>=0.1.2", "smac>=2.4", "optuna>=4.0", "syne-tune>=0.16", "ray[tune]>=2.40"]

setup(
    name="bandster",
    version=version["__version__"],
    description="Distributed multi-fidelity hyperparameter optimization: HpBandSter's API on a maintained stack",
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=find_packages(include=["bandster", "bandster.*"]),
    package_data={"bandster.analysis": ["assets/*.js", "assets/*.css"]},  # the report's and dashboard's scripts
    install_requires=[
        "Pyro5>=5.14",
        "ConfigSpace>=1.0",
        "numpy>=1.24",
        "scipy>=1.10",
        "statsmodels>=0.14",
        "netifaces-plus>=0.12",
        "tqdm>=4.60",
        "cloudpickle>=2.0",  # ProcessBackend: the objective sent to local child processes (closures, notebooks)
    ],
    extras_require={
        "plots": plots,
        "docs": docs,
        "examples": examples,
        "importance": importance,
        "trackers": trackers,
        "report": report,
        "dask": dask,
        "bench": plots + examples + peers,
        "test": plots
        + docs  # make test builds the docs too
        + examples  # example 5 (checkpoints with a real model) runs in the tests
        + importance
        + trackers
        + report
        + dask  # tests/backends/test_dask.py runs real Dask clusters
        + [
            "pyarrow>=14",  # the Parquet export of Result.to_dataframe() in the tests
            "tensorboard>=2.14",  # the tests read the TensorBoard tracker's files back with TensorBoard's reader
            "pytest>=7.4",
            "pytest-timeout>=2.2",
            "hypothesis>=6.80",
            "ruff>=0.4",
            "nbclient>=0.9",
            "nbformat>=5.9",
            "ipykernel>=6.25",
        ],
    },
    entry_points={"console_scripts": ["bandster=bandster.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
