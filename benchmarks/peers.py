"""bandster's BOHB against the peers users would pick instead, at equal budget on the same noisy objectives.

Systems (each with its library's defaults; only the problem's space, budget ladder and seed are passed):

* ``bandster-BOHB``, ``bandster-HyperBand``: this checkout, run as ``benchmarks/quality.py`` runs them.
* ``HpBandSter-BOHB``: HpBandSter 0.7.4's BOHB in its own environment (it needs numpy 1.26, ConfigSpace 0.7.1 and
  Pyro4), run as ``quality.py --optimizers HpBandSterBOHB`` runs it (``hpbandster_bohb_driver.py``: a Pyro4 name
  server on 127.0.0.1 and one thread worker, ``numpy.random`` and the space seeded with the seed; HpBandSter has
  no seed argument).
* ``DEHB`` (``dehb``), ``SMAC-MF`` / ``SMAC-HB`` (SMAC3's ``MultiFidelityFacade`` / ``HyperbandFacade``),
  ``Optuna-TPE+HB`` (``TPESampler`` + ``HyperbandPruner``), ``SyneTune-BOHB`` / ``SyneTune-ASHA``: in the peers'
  environment (``pip install 'bandster[bench]'`` in a virtualenv of their own), each driven in an ask/tell loop
  by one sequential worker.

Protocol
--------
* The problems are those of ``benchmarks/problems.py`` (default: counting ones, Hartmann-6, Branin and the
  conditional Branin); every system calls the same ``problem.evaluate(config, budget, seed)``, whose noise is a
  function of (active configuration, budget, seed) only: common random numbers.
* Budget: B = the planned total budget of ``--iterations`` Hyperband brackets (eta 3), which is what bandster's
  BOHB spends per seed. bandster and HpBandSter run those ``--iterations`` brackets. DEHB and the two SMAC
  facades evaluate each (configuration, budget) from scratch: a run costs its budget. Optuna's and Syne Tune's
  trials are stop-type (a trial continues): the objective is evaluated at each rung budget min_budget * eta^k
  (Optuna: ``trial.report`` at step eta^k, pruned when ``should_prune``; ``HyperbandPruner(min_resource=1,
  max_resource=max/min, reduction_factor=eta)``; Syne Tune: ``on_trial_result`` with ``epoch`` = eta^k,
  ``max_t`` = max/min, stopped on STOP), and a trial costs the largest budget it reached (each rung adds its
  increment over the previous one). Each peer runs until its summed cost reaches B; runs past B are ignored.
* Incumbent and regret as in ``benchmarks/quality.py``: after each run, the configuration with the lowest
  observed loss among the runs on the highest budget reached so far; regret = its exact loss minus the optimum.
* Table per problem: median final regret (at B), median regret at 50 % of B, and one-sided Mann-Whitney U
  p-values over the seeds, "worse" testing bandster-BOHB's final regrets greater than the system's, "better"
  testing them smaller.

Each (system, problem, chunk of seeds) runs in a subprocess of its environment's interpreter
(``benchmarks/_peer_runner.py``), ``--jobs`` at a time. A system whose environment is not given or lacks its
library is skipped with the reason printed. ``--reuse FILE`` takes the per-seed regrets of systems not run now
from an earlier ``--out`` file (to re-run one column, e.g. bandster's after a change, on the same seeds).

    python benchmarks/peers.py --seeds 20 --iterations 5 --peers-python VENV/bin/python \\
        --hpbandster-python HPB_VENV/bin/python [--jobs 2] [--out /tmp/peers.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from quality import planned_budget, trajectory, value_at
from scipy.stats import mannwhitneyu

from problems import PROBLEMS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RUNNER = os.path.join(HERE, "_peer_runner.py")
REFERENCE = "bandster-BOHB"
# system -> (environment whose interpreter must import the module, module); every system's runner runs in that
# environment but HpBandSter's, whose runner runs in bandster's and starts hpbandster_bohb_driver.py in its own
SYSTEMS = {
    "bandster-BOHB": ("bandster", "bandster"),
    "bandster-HyperBand": ("bandster", "bandster"),
    "HpBandSter-BOHB": ("hpbandster", "hpbandster"),
    "DEHB": ("peers", "dehb"),
    "SMAC-MF": ("peers", "smac"),
    "SMAC-HB": ("peers", "smac"),
    "Optuna-TPE+HB": ("peers", "optuna"),
    "SyneTune-BOHB": ("peers", "syne_tune"),
    "SyneTune-ASHA": ("peers", "syne_tune"),
}
SLOW = ["HpBandSter-BOHB", "SMAC-MF", "SMAC-HB", "SyneTune-BOHB"]  # the longest per seed, started first
DEFAULT_PROBLEMS = "counting_ones,hartmann6,branin,cond_branin"


def interpreters(args) -> dict[str, str | None]:
    return {"bandster": sys.executable, "peers": args.peers_python, "hpbandster": args.hpbandster_python}


def runner_environment(system: str) -> str:
    return "bandster" if SYSTEMS[system][0] == "hpbandster" else SYSTEMS[system][0]


def child_env(environment: str, hpbandster_python: str | None = None) -> dict:
    """bandster's environment sees this checkout; the peers' see only ``benchmarks/`` (problems.py)."""
    path = [HERE, ROOT] if environment == "bandster" else [HERE]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path), PYTHONWARNINGS="ignore")
    if hpbandster_python:
        env["BANDSTER_HPBANDSTER_PYTHON"] = hpbandster_python
    return env


def available(system: str, python: str | None) -> str | None:
    """None if ``system`` can run with ``python``, else the reason why not (with the fix)."""
    environment, module = SYSTEMS[system]
    option = {"peers": "--peers-python", "hpbandster": "--hpbandster-python"}.get(environment)
    if python is None:
        return f"no interpreter for its environment (pass {option} PATH to a virtualenv that has {module})"
    if not os.path.exists(python):
        return f"{python} does not exist (pass {option} PATH to an existing interpreter)"
    probe = subprocess.run([python, "-c", f"import {module}"], env=child_env(environment), capture_output=True,
                           text=True, timeout=300)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"{python} cannot import {module} ({last}); install it there or pass {option} another interpreter"
    return None


def run_task(system: str, problem: str, seeds: list[int], budget: float, iterations: int,
             pythons: dict[str, str | None], raw_dir: str) -> tuple[dict | None, str]:
    """One subprocess: ``system`` on ``problem`` for ``seeds``; returns (its JSON or None, a status line)."""
    tag = f"{system}__{problem}__{seeds[0]}-{seeds[-1]}"
    out, log = os.path.join(raw_dir, tag + ".json"), os.path.join(raw_dir, tag + ".log")
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        environment = runner_environment(system)
        proc = subprocess.run(
            [pythons[environment], RUNNER, system, problem, ",".join(map(str, seeds)), repr(budget),
             str(iterations), out],
            env=child_env(environment, pythons["hpbandster"]), cwd=HERE, stdout=fh, stderr=subprocess.STDOUT,
        )
    seconds = time.perf_counter() - t0
    data = None
    if os.path.exists(out):
        with open(out) as fh:
            data = json.load(fh)
    done = len(data["seeds"]) if data else 0
    status = f"{system} on {problem}, seeds {seeds[0]}-{seeds[-1]}: {done}/{len(seeds)} seeds in {seconds:.0f} s"
    if proc.returncode != 0:
        status += f" -- FAILED (exit {proc.returncode}; log {log})"
    return data, status


def regrets(problem_name: str, data: dict, budget: float) -> dict[str, dict]:
    """seed -> {"final", "half", "seconds", "runs"} for one runner output."""
    problem = PROBLEMS[problem_name]
    total = budget / problem.max_budget
    out = {}
    for seed, entry in data["seeds"].items():
        runs = [(b, loss, config, cost) for b, loss, config, cost in entry["runs"]]
        cum, vals, _ = trajectory(problem, runs, budget)
        out[seed] = {
            "final": value_at(cum, vals, total) - problem.optimum,
            "half": value_at(cum, vals, 0.5 * total) - problem.optimum,
            "seconds": entry["seconds"],
            "runs": len(runs),
        }
    return out


def p_value(a: list[float], b: list[float], alternative: str) -> float:
    a, b = [x for x in a if not math.isnan(x)], [x for x in b if not math.isnan(x)]
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return float(mannwhitneyu(a, b, alternative=alternative).pvalue)


def summarize(results: dict) -> tuple[str, dict]:
    """The tables (Markdown) and the target checks from ``results[problem][system][seed]``."""
    lines, checks = [], {}
    systems_seen = [s for s in SYSTEMS if any(s in results[p] for p in results)]
    for problem, by_system in results.items():
        ref = by_system.get(REFERENCE)
        lines.append(f"\n### {problem}\n")
        lines.append("| system | seeds | median final regret | median regret at 50 % of B | p (bandster worse) | "
                     "p (bandster better) | s per seed |")
        lines.append("|---|---|---|---|---|---|---|")
        medians = {}
        for system in systems_seen:
            if system not in by_system:
                continue
            seeds = by_system[system]
            final = [seeds[s]["final"] for s in sorted(seeds, key=int)]
            half = [seeds[s]["half"] for s in sorted(seeds, key=int)]
            medians[system] = (float(np.nanmedian(final)), float(np.nanmedian(half)))
            if ref is not None and system != REFERENCE:
                ref_final = [ref[s]["final"] for s in ref]
                worse, better = p_value(ref_final, final, "greater"), p_value(ref_final, final, "less")
                ptext = f"{worse:.3g} | {better:.3g}"
            else:
                ptext = "- | -"
            seconds = float(np.median([seeds[s]["seconds"] for s in seeds]))
            lines.append(f"| {system} | {len(seeds)} | {medians[system][0]:.4g} | {medians[system][1]:.4g} | "
                         f"{ptext} | {seconds:.1f} |")
        if ref is not None:
            ref_final = [ref[s]["final"] for s in ref]
            peers = [s for s in medians if not s.startswith("bandster")]
            checks[problem] = {
                "lowest_median": all(medians[REFERENCE][0] < medians[s][0] for s in peers),
                "significantly_worse_than": [
                    s for s in peers
                    if p_value(ref_final, [by_system[s][x]["final"] for x in by_system[s]], "greater") < 0.05
                ],
                "below_hpbandster": (medians[REFERENCE][0] < medians["HpBandSter-BOHB"][0]
                                     if "HpBandSter-BOHB" in medians else None),
                "half_at_or_below_hyperband": (medians[REFERENCE][1] <= medians["bandster-HyperBand"][1]
                                               if "bandster-HyperBand" in medians else None),
                "medians": medians,
            }
    if checks:
        shown = [s for s in systems_seen if any(s in c["medians"] for c in checks.values())]
        lines.append("\n### Median final regret (lowest in bold)\n")
        lines.append("| problem | " + " | ".join(shown) + " |")
        lines.append("|---" * (len(shown) + 1) + "|")
        for problem, c in checks.items():
            best = min(m[0] for m in c["medians"].values())
            cells = [("**{:.3g}**" if c["medians"][s][0] == best else "{:.3g}").format(c["medians"][s][0])
                     if s in c["medians"] else "-" for s in shown]
            lines.append(f"| {problem} | " + " | ".join(cells) + " |")
        lines.append("\n### Targets (issue 13, item 3)\n")
        lowest = [p for p, c in checks.items() if c["lowest_median"]]
        lines.append(f"- bandster-BOHB has the lowest median final regret on {len(lowest)} of {len(checks)} "
                     f"problems ({', '.join(lowest) or 'none'}); target: at least 3 of 4.")
        worse = {p: c["significantly_worse_than"] for p, c in checks.items() if c["significantly_worse_than"]}
        lines.append("- significantly worse (one-sided Mann-Whitney p < 0.05) than: "
                     + ("; ".join(f"{p}: {', '.join(s)}" for p, s in worse.items()) if worse else "none")
                     + "; target: none.")
        below = {p: c["below_hpbandster"] for p, c in checks.items() if c["below_hpbandster"] is not None}
        lines.append(f"- lower median than HpBandSter-BOHB on {sum(below.values())} of {len(below)} problems "
                     f"({', '.join(p for p, v in below.items() if not v) or 'none'} not); target: all four.")
        half = {p: c["half_at_or_below_hyperband"] for p, c in checks.items()
                if c["half_at_or_below_hyperband"] is not None}
        lines.append(f"- median regret at 50 % of B at or below bandster-HyperBand's on {sum(half.values())} of "
                     f"{len(half)} problems ({', '.join(p for p, v in half.items() if not v) or 'none'} not).")
    return "\n".join(lines), checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0 .. N-1; default 20")
    parser.add_argument("--first-seed", type=int, default=0, help="first seed; default 0")
    parser.add_argument("--iterations", type=int, default=5,
                        help="Hyperband brackets whose planned budget is B; default 5 (one full Hyperband round)")
    parser.add_argument("--problems", default=DEFAULT_PROBLEMS, help=f"comma list; default {DEFAULT_PROBLEMS}")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma list of {', '.join(SYSTEMS)}")
    parser.add_argument("--peers-python", default=os.environ.get("BANDSTER_PEERS_PYTHON"),
                        help="interpreter of the peers' virtualenv (dehb, smac, optuna, syne-tune); "
                             "default $BANDSTER_PEERS_PYTHON")
    parser.add_argument("--hpbandster-python", default=os.environ.get("BANDSTER_HPBANDSTER_PYTHON"),
                        help="interpreter of HpBandSter's virtualenv; default $BANDSTER_HPBANDSTER_PYTHON")
    parser.add_argument("--jobs", type=int, default=1, help="subprocesses at a time; default 1")
    parser.add_argument("--chunk", type=int, default=5, help="seeds per subprocess; default 5")
    parser.add_argument("--reuse", default=None, help="an earlier --out file: its systems not run now are kept")
    parser.add_argument("--raw-dir", default=None, help="where the runners' JSON and logs go; default a temp dir")
    parser.add_argument("--from-raw", action="store_true",
                        help="run nothing: summarize the runners' files already in --raw-dir")
    parser.add_argument("--out", default=None, help="the JSON summary; default a file in the temp dir")
    args = parser.parse_args()
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for name in problems:
        if name not in PROBLEMS or PROBLEMS[name].optimum is None:
            parser.error(f"unknown problem {name!r} (or one without a known optimum); choose from "
                         + ", ".join(p for p in PROBLEMS if PROBLEMS[p].optimum is not None))
    for name in systems:
        if name not in SYSTEMS:
            parser.error(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}")
    raw_dir = args.raw_dir or tempfile.mkdtemp(prefix="bandster_peers_")
    os.makedirs(raw_dir, exist_ok=True)
    out_path = args.out or os.path.join(raw_dir, "peers.json")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    pythons = interpreters(args)
    runnable = []
    for system in [] if args.from_raw else systems:
        reason = available(system, pythons[SYSTEMS[system][0]])
        if reason:
            print(f"skipped {system}: {reason}", flush=True)
        else:
            runnable.append(system)
    budgets = {p: planned_budget(PROBLEMS[p], args.iterations) for p in problems}
    print(f"seeds {seeds[0]}..{seeds[-1]}; B = {args.iterations} Hyperband brackets = "
          + ", ".join(f"{p} {b / PROBLEMS[p].max_budget:g} x max_budget" for p, b in budgets.items())
          + f"; runners' files in {raw_dir}", flush=True)
    # chunk by chunk (a run cut short has the first seeds of every system), the slowest systems first
    order = sorted(runnable, key=lambda s: SLOW.index(s) if s in SLOW else len(SLOW))
    tasks = [(s, p, seeds[i:i + args.chunk]) for i in range(0, len(seeds), args.chunk) for p in problems
             for s in order]
    results: dict[str, dict] = {p: {} for p in problems}
    versions: dict[str, str] = {}
    if args.reuse:
        with open(args.reuse) as fh:
            old = json.load(fh)
        for p in problems:
            for system, by_seed in old["results"].get(p, {}).items():
                if system not in runnable:
                    results[p][system] = by_seed
                    versions[system] = old["versions"].get(system, "?") + f" (reused from {args.reuse})"
    if args.from_raw:  # no runs: summarize the runners' files already in --raw-dir
        tasks = []
        for name in sorted(os.listdir(raw_dir)):
            parts = name.split("__")
            if name.endswith(".json") and len(parts) == 3 and parts[0] in systems and parts[1] in problems:
                system, problem = parts[0], parts[1]
                with open(os.path.join(raw_dir, name)) as fh:
                    data = json.load(fh)
                versions[system] = data["version"]
                results[problem].setdefault(system, {}).update(regrets(problem, data, budgets[problem]))
    t_all = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs, thread_name_prefix="peers-task") as pool:
        futures = [(s, p, pool.submit(run_task, s, p, chunk, budgets[p], args.iterations, pythons, raw_dir))
                   for s, p, chunk in tasks]
        for system, problem, future in futures:
            data, status = future.result()
            print(status, flush=True)
            if data:
                versions[system] = data["version"]
                results[problem].setdefault(system, {}).update(regrets(problem, data, budgets[problem]))
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    for system in runnable:
        if system.startswith("bandster") and system in versions:
            versions[system] = f"bandster at commit {commit or '?'}"
    for problem, by_system in results.items():  # compare on the seeds every system finished
        common = set.intersection(*(set(v) for v in by_system.values())) if by_system else set()
        for system in by_system:
            dropped = len(by_system[system]) - len(common)
            if dropped:
                print(f"{problem}: {system}'s {dropped} seeds not finished by every system left out")
            by_system[system] = {k: v for k, v in by_system[system].items() if k in common}
    table, checks = summarize(results)
    print(f"\nversions: {json.dumps(versions)}")
    print(table)
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s")
    with open(out_path, "w") as fh:
        json.dump({"command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   "iterations": args.iterations, "budgets": budgets, "versions": versions, "results": results,
                   "targets": checks, "table": table}, fh, indent=1)
    print(f"summary: {out_path}")


if __name__ == "__main__":
    main()
