"""``bandster plan``: print a run's schedule (brackets, stages, costs, wall-clock estimate) before it starts."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction, formatter_class: type) -> None:
    """Add the ``plan`` subcommand."""
    parser = subparsers.add_parser(
        "plan",
        help="print the schedule of a run (brackets, stages, cost, wall-clock estimate) before it starts",
        description=(
            "Print what a run will evaluate: per iteration the bracket, per stage the number of configurations,\n"
            "their budget and the stage's cost, totals per bracket and overall, and an estimate of the wall-clock\n"
            "time on --workers workers. The same table comes from bandster.plan(...) in Python.\n\n"
            "example: bandster plan --min-budget 1 --max-budget 243 --eta 3 --n-iterations 6 "
            "--cost-per-unit 2 --workers 8"
        ),
        formatter_class=formatter_class,
    )
    parser.add_argument("--min-budget", "--min_budget", type=float, required=True, help="the smallest budget")
    parser.add_argument("--max-budget", "--max_budget", type=float, required=True, help="the largest budget")
    parser.add_argument("--eta", type=float, default=3, help="the reduction factor between stages")
    parser.add_argument("--n-iterations", "--n_iterations", type=int, default=1,
                        help="the number of iterations, as passed to run(n_iterations=...)")
    parser.add_argument("--cost-per-unit", "--cost_per_unit", type=float, default=None, metavar="SECONDS",
                        help="seconds one unit of budget costs; without it costs are in budget units")
    parser.add_argument("--workers", type=int, default=1, help="workers for the wall-clock estimate")
    parser.add_argument("--optimizer", default="hyperband", choices=["hyperband", "bohb", "randomsearch"],
                        help="BOHB follows Hyperband's schedule; random search runs len(budgets) configs on "
                        "max_budget per iteration")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON instead of a table")
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Print the plan; exit code 2 for invalid arguments."""
    from bandster.plan import plan

    try:
        schedule = plan(
            min_budget=args.min_budget,
            max_budget=args.max_budget,
            eta=args.eta,
            n_iterations=args.n_iterations,
            cost_per_unit=args.cost_per_unit,
            workers=args.workers,
            optimizer=args.optimizer,
        )
    except ValueError as err:
        print(f"bandster plan: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(schedule.to_dict(), indent=2))
    else:
        print(schedule.format())
    return 0
