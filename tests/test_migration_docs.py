"""docs/migration.md covers every public module of HpBandSter 0.7.4, and what it says bandster provides exists
under the names it gives (issue 11, item 18)."""

import importlib
import os

import pytest

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "migration.md")

# HpBandSter's public modules (its package tree; /work/shared/reference/hpbandster.md, section 1.1)
HPBANDSTER_MODULES = [
    "core/nameserver.py", "core/worker.py", "core/dispatcher.py", "core/master.py", "core/base_iteration.py",
    "core/base_config_generator.py", "core/result.py", "optimizers/hyperband.py", "optimizers/bohb.py",
    "optimizers/randomsearch.py", "optimizers/h2bo.py", "optimizers/lcnet.py", "optimizers/config_generators/bohb.py",
    "optimizers/config_generators/random_sampling.py", "optimizers/config_generators/h2bo.py",
    "optimizers/config_generators/kde.py", "optimizers/config_generators/lcnet.py",
    "optimizers/iterations/successivehalving.py", "optimizers/iterations/successiveresampling.py",
    "optimizers/kde/kernels.py", "optimizers/kde/mvkde.py", "optimizers/learning_curve_models",
    "workers/hpolibbenchmark.py", "utils.py", "visualization.py", "examples",
]

# what the migration guide says bandster provides: (module, names)
PROVIDED = [
    ("bandster.core.nameserver", ["NameServer", "nic_name_to_host"]),
    ("bandster.core.worker", ["Worker"]),
    ("bandster.core.dispatcher", ["Dispatcher", "Job"]),
    ("bandster.core.master", ["Master"]),
    ("bandster.core.base_iteration", ["Datum", "BaseIteration", "WarmStartIteration"]),
    ("bandster.core.base_config_generator", ["base_config_generator"]),
    ("bandster.core.result", ["Result", "Run", "json_result_logger", "logged_results_to_HBS_result",
                              "extract_HBS_learning_curves"]),
    ("bandster.optimizers", ["RandomSearch", "HyperBand", "BOHB"]),
    ("bandster.optimizers.randomsearch", ["RandomSearch"]),
    ("bandster.optimizers.hyperband", ["HyperBand"]),
    ("bandster.optimizers.bohb", ["BOHB"]),
    ("bandster.optimizers.iterations", ["SuccessiveHalving", "SuccessiveResampling"]),
    ("bandster.optimizers.iterations.successivehalving", ["SuccessiveHalving"]),
    ("bandster.optimizers.iterations.successiveresampling", ["SuccessiveResampling"]),
    ("bandster.optimizers.config_generators", ["RandomSampling"]),
    ("bandster.optimizers.config_generators.random_sampling", ["RandomSampling"]),
    ("bandster.optimizers.config_generators.bohb", ["BOHB"]),
    ("bandster.utils", ["start_local_nameserver", "nic_name_to_host"]),
    ("bandster.visualization", ["default_tool_tips", "concurrent_runs_over_time", "finished_runs_over_time",
                                "performance_histogram_model_vs_random", "correlation_across_budgets",
                                "losses_over_time", "interactive_HBS_plot"]),
    ("bandster.samplers.kde.product_kde", ["ProductKDE"]),
    ("bandster.samplers.kde.kernels", ["aitchison_aitken_table", "wang_ryzin_table", "gaussian_log_mass",
                                         "sample_truncated_normal", "sample_from_tables"]),
]

NOT_PROVIDED = ["H2BO", "MultivariateKDE", "Gaussian", "AitchisonAitken", "WangRyzinOrdinal", "WangRyzinInteger",
                "LCNet", "LCNetWrapper", "KernelDensityEstimator", "learning_curve_models", "HPOlib2Worker"]


@pytest.fixture(scope="module")
def text():
    with open(DOC) as fh:
        return fh.read()


@pytest.mark.parametrize("module", HPBANDSTER_MODULES)
def test_every_hpbandster_module_is_mapped(text, module):
    dotted = "hpbandster." + module.removesuffix(".py").replace("/", ".")
    assert f"`{dotted}" in text, module


@pytest.mark.parametrize("module, names", PROVIDED)
def test_what_the_guide_names_exists(module, names):
    mod = importlib.import_module(module)
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"


def test_what_is_not_provided_is_listed_with_a_reason_and_a_replacement(text):
    section = text[text.index("### Not provided"):text.index("## Differences")]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    for name in NOT_PROVIDED:
        row = next((r for r in rows if name in r), None)
        assert row is not None, name
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 3 and all(cells), row  # module, why not, instead
