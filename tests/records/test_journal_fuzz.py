"""Property-based tests (hypothesis): the journal reader survives garbage (design.md §5, issue 5 item 7).

Each example writes a journal directory whose ``configs.json`` and ``results.json`` mix

* valid lines (bandster's and HpBandSter's formats: 2- and 3-element config lines, 5- and 6-element result
  lines, non-finite losses as strings or bare tokens, unknown fields and trailing elements),
* degraded lines: a readable (config_id, budget) with one or more damaged fields (timestamps, result, loss,
  exception, extras of the wrong type). They are kept, with the damaged field replaced by "unknown" and a
  warning naming the file and line,
* unreadable lines: torn prefixes, random bytes, invalid UTF-8, deep nesting, wrong shapes, config ids and
  budgets of the wrong type. They are skipped with a warning naming the file and line,

optionally cut at a random byte (a truncated file), with a missing or garbage ``run.json``, a garbage
``events.json`` and unknown files. The reader must not raise; every readable line must be in the Result with
exactly the values written (later lines for the same (config_id, budget) win), nothing else may be, and the
Result's methods and a warm start from the directory must work on what was read.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import re
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bandster.core.base_config_generator import base_config_generator
from bandster.records.journal import Journal
from bandster.records.result import Result, logged_results_to_HBS_result
from bandster.samplers.warm_start import warm_start

# derandomize: CI sees the same examples every time (a failure is then reproducible, not luck)
FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

BIG = 10**400  # a JSON integer that float() cannot convert
NAN, INF = math.nan, math.inf
TIME_KEYS = ("submitted", "started", "finished")


# ------------------------------------------------------------------------------------------------------
# building blocks

finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | finite | st.text(max_size=8)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
config_ids = st.tuples(st.integers(-1, 2), st.integers(0, 2), st.integers(0, 6))
budgets = st.sampled_from([1, 3, 9.0, 27.0, 0.5, 81.25])
stamp_values = st.floats(0, 2e9, allow_nan=False) | st.integers(0, 2 * 10**9)
stamps = st.fixed_dictionaries({}, optional={key: stamp_values for key in TIME_KEYS})
configs = st.dictionaries(st.text(min_size=1, max_size=6), scalars, max_size=4)
config_infos = st.dictionaries(st.sampled_from(["model_based_pick", "initial_design", "x"]), scalars, max_size=2)


def encode(entry: Any) -> bytes:
    """One line as the writers produce it; bare NaN/Infinity tokens where the entry holds such floats."""
    return json.dumps(entry, allow_nan=True).encode()


@dataclass
class Line:
    """One line of a generated file and what the reader must make of it."""

    raw: bytes
    kind: str  # "valid", "degraded" (kept, with a warning) or "unreadable" (skipped, with a warning)
    key: Any = None  # config_id, or (config_id, budget) for results
    expect: dict = field(default_factory=dict)


def _is_blank(raw: bytes) -> bool:
    return not raw.strip(b" \t\r")


def _derived_status(loss: Any) -> str:
    ok = isinstance(loss, int | float) and not isinstance(loss, bool) and math.isfinite(loss)
    return "ok" if ok else "failed"


# ------------------------------------------------------------------------------------------------------
# results.json lines


@st.composite
def valid_result(draw) -> tuple[list, dict]:
    """A valid result line (as a list) and the Run values it must produce."""
    cid, budget = draw(config_ids), draw(budgets)
    times = draw(stamps)
    info = draw(json_values)
    kind = draw(st.sampled_from(["finite", "finite", "nonfinite", "no_loss", "failed"]))
    exception = draw(st.none() | st.text(max_size=20))
    if kind == "finite":
        loss = draw(finite | st.integers(-100, 100))
        result, written = {"loss": loss, "info": info}, loss
    elif kind == "nonfinite":
        loss = draw(st.sampled_from([NAN, INF, -INF]))
        as_string = draw(st.booleans())  # bandster writes strings, HpBandSter wrote bare tokens
        written = ("NaN" if math.isnan(loss) else "Infinity" if loss > 0 else "-Infinity") if as_string else loss
        result = {"loss": written, "info": info}
    elif kind == "no_loss":
        loss, result = None, {"loss": None, "info": info}
    else:
        loss, info, result = None, None, None
    if isinstance(result, dict) and draw(st.booleans()):
        result["future_field"] = draw(scalars)  # unknown fields are ignored
    entry = [list(cid), budget, times, result, exception]
    extras = draw(
        st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "worker": st.none() | st.text(max_size=8),
                "attempt": st.integers(1, 5),
                "status": st.sampled_from(["ok", "failed"]),
                "future": scalars,
            },
        )
    )
    if extras is not None:
        entry.append(extras)
        if draw(st.booleans()):
            entry.append(draw(json_values))  # a trailing element a later version might add
    extras = extras or {}
    expect = {
        "loss": loss,
        "info": info,
        "error_logs": exception,
        "stamps": dict(times),
        "worker": extras.get("worker"),
        "attempt": extras.get("attempt", 1),
        "status": extras.get("status"),  # None: derived from the loss, see finish()
    }
    return entry, expect


def finish(expect: dict) -> dict:
    """The status a Run reports: the one on the line, else derived from the loss."""
    if expect.get("status") is None:
        expect["status"] = _derived_status(expect["loss"])
    return expect


BAD_STAMPS = [None, "x", [1.0], 3, True]
BAD_STAMP_VALUES = ["abc", None, True, [1], {"a": 1}, BIG, NAN, INF, "NaN"]
BAD_RESULTS = [[1, 2], "abc", 5, True, [{"loss": 1.0}]]
BAD_LOSSES = ["abc", [1], True, {"a": 1}, BIG, ""]
BAD_EXCEPTIONS = [5, [1], {"a": 1}, True, 1.5]
BAD_EXTRAS = ["w", [1], 5, None, True]
BAD_ATTEMPTS = ["2", 0, -1, True, 1.5, None, "NaN"]
BAD_STATUSES = ["banana", 1, None, ["ok"]]
BAD_WORKERS = [5, [1], {"a": 1}, True]


@st.composite
def degraded_result(draw) -> Line:
    """A result line with a readable key but damaged fields; kept with "unknown" in their place."""
    entry, expect = draw(valid_result())
    damages = draw(
        st.lists(
            st.sampled_from(["stamps", "stamp", "result", "loss", "exception", "extras", "attempt", "status",
                             "worker"]),
            min_size=1, max_size=3, unique=True,
        )
    )
    for damage in damages:
        if damage == "stamps":
            entry[2] = draw(st.sampled_from(BAD_STAMPS))
            expect["stamps"] = {}
        elif damage == "stamp" and isinstance(entry[2], dict):
            key = draw(st.sampled_from(TIME_KEYS))
            entry[2][key] = draw(st.sampled_from(BAD_STAMP_VALUES))
            expect["stamps"].pop(key, None)
        elif damage in ("result", "loss"):
            if damage == "result":
                entry[3] = draw(st.sampled_from(BAD_RESULTS))
            else:
                entry[3] = {"loss": draw(st.sampled_from(BAD_LOSSES)), "info": draw(json_values)}
            expect["loss"] = expect["info"] = None
        elif damage == "exception":
            entry[4] = draw(st.sampled_from(BAD_EXCEPTIONS))
            expect["error_logs"] = json.dumps(entry[4])
        elif damage == "extras":
            del entry[5:]
            entry.append(draw(st.sampled_from(BAD_EXTRAS)))
            expect.update(worker=None, attempt=1, status=None)
        elif damage in ("attempt", "status", "worker"):
            del entry[6:]
            if len(entry) < 6 or not isinstance(entry[5], dict):
                entry[5:] = [{}]
                expect.update(worker=None, attempt=1, status=None)
            bad = {"attempt": BAD_ATTEMPTS, "status": BAD_STATUSES, "worker": BAD_WORKERS}[damage]
            entry[5][damage] = draw(st.sampled_from(bad))
            expect[damage] = 1 if damage == "attempt" else None
    return Line(encode(entry), "degraded", (tuple(entry[0]), float(entry[1])), finish(expect))


BAD_CONFIG_IDS = ["abc", 5, None, {"a": 1}, [], [0, 0], [0, 0, 0, 0], ["a", 0, 0], [True, 0, 0], [0.5, 0, 0],
                  [[0], 0, 0], [0, None, 0], [0, 0, 1.0]]
BAD_BUDGETS = ["1", None, True, [1], "NaN", NAN, INF, -INF, BIG, {}]


@st.composite
def unreadable_lines(draw, valid_entry: st.SearchStrategy) -> bytes:
    """A non-blank line the reader cannot use, built on a valid entry of the file's kind."""
    entry = draw(valid_entry)
    raw = encode(entry)
    how = draw(st.sampled_from(["torn", "bytes", "utf8", "deep", "top", "short", "config_id", "second"]))
    if how == "torn":
        return raw[: draw(st.integers(1, len(raw) - 1))]
    if how == "bytes":
        return draw(st.binary(min_size=1, max_size=30).filter(lambda b: b"\n" not in b and not _is_blank(b)))
    is_result = len(entry) >= 5
    if how == "utf8":  # a valid line with invalid UTF-8 inside a JSON string
        entry = [*entry[:4], "@@", *entry[5:]] if is_result else [entry[0], {"bad": "@@"}, *entry[2:]]
        return encode(entry).replace(b"@@", draw(st.sampled_from([b"\xff", b"a\xc3(b", b"\xed\xa0\x80", b"\x80"])))
    if how == "deep":
        return draw(st.sampled_from([b"[" * 100_000, b'{"a":' * 50_000, b"[" * 5_000 + b"]" * 5_000]))
    if how == "top":
        return encode(draw(st.sampled_from([None, 5, "abc", {"a": 1}, []])))
    if how == "short":
        return encode(entry[: draw(st.integers(1, 4))] if is_result else entry[:1])
    if how == "config_id":
        return encode([draw(st.sampled_from(BAD_CONFIG_IDS)), *entry[1:]])
    # "second": a result line's budget, or a config line's config, of the wrong type
    bad = BAD_BUDGETS if is_result else [None, 5, "x", [1], True]
    return encode([entry[0], draw(st.sampled_from(bad)), *entry[2:]])


@st.composite
def result_lines(draw) -> Line:
    kind = draw(st.sampled_from(["valid", "valid", "degraded", "unreadable", "blank"]))
    if kind == "valid":
        entry, expect = draw(valid_result())
        return Line(encode(entry), "valid", (tuple(entry[0]), float(entry[1])), finish(expect))
    if kind == "degraded":
        return draw(degraded_result())
    if kind == "blank":
        return Line(draw(st.sampled_from([b"", b" ", b"\t", b"\r"])), "blank")
    return Line(draw(unreadable_lines(valid_result().map(lambda pair: pair[0]))), "unreadable")


# ------------------------------------------------------------------------------------------------------
# configs.json lines


@st.composite
def valid_config(draw) -> list:
    entry = [list(draw(config_ids)), draw(configs)]
    if draw(st.integers(0, 3)):  # HpBandSter also wrote 2-element lines
        entry.append(draw(config_infos))
        if draw(st.integers(0, 4)) == 0:
            entry.append(draw(json_values))  # a trailing element a later version might add
    return entry


@st.composite
def config_lines(draw) -> Line:
    kind = draw(st.sampled_from(["valid", "valid", "degraded", "unreadable", "blank"]))
    if kind == "blank":
        return Line(b"", "blank")
    if kind == "unreadable":
        return Line(draw(unreadable_lines(valid_config())), "unreadable")
    entry = draw(valid_config())
    info = entry[2] if len(entry) >= 3 else "N/A"
    if kind == "degraded":
        entry[2:] = [draw(st.sampled_from([None, 5, "x", [1], True]))]
        info = {}
    return Line(encode(entry), kind, tuple(entry[0]), {"config": entry[1], "config_info": info})


# ------------------------------------------------------------------------------------------------------
# run.json

GOOD_HB = {"eta": 3.0, "min_budget": 1.0, "max_budget": 9.0, "budgets": [1.0, 3.0, 9.0], "max_SH_iter": 3}
manifests = st.one_of(
    st.just(None),  # no run.json
    st.builds(lambda t: {"bandster_version": "x", "HB_config": {**GOOD_HB, "time_ref": t}}, st.floats(0, 1e9)),
    st.just({"HB_config": {**GOOD_HB, "time_ref": None}}),
    st.dictionaries(st.sampled_from([*GOOD_HB, "time_ref", "other"]), json_values).map(lambda hb: {"HB_config": hb}),
    json_values,
    st.binary(max_size=40),
    st.just(b"[" * 100_000),
    st.just(b'{"HB_config": {"time_ref": 1e999, "eta": NaN, "budgets": [1, "x"], "max_SH_iter": 1e999}}'),
)


# ------------------------------------------------------------------------------------------------------
# helpers


@contextmanager
def captured_warnings():
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    reader_logger = logging.getLogger("bandster.records")  # the readers (format) and Result
    reader_logger.addHandler(handler)
    try:
        yield records
    finally:
        reader_logger.removeHandler(handler)


def names_line(records: list[logging.LogRecord], path: str, number: int) -> bool:
    pattern = re.compile(rf"\bline {number}\b")
    return any(path in r.getMessage() and pattern.search(r.getMessage()) for r in records)


def write_file(path: str, lines: list[Line], final_newline: bool, cut: int | None) -> list[Line]:
    """Write ``lines``; with ``cut``, truncate the file there. Returns the lines as the file now holds them."""
    data = b"\n".join(line.raw for line in lines) + (b"\n" if final_newline and lines else b"")
    if cut is not None:
        data = data[: min(cut, len(data))]
    with open(path, "wb") as fh:
        fh.write(data)
    now: list[Line] = []
    for i, raw in enumerate(data.split(b"\n")):
        if i < len(lines) and raw == lines[i].raw:
            now.append(lines[i])
        else:  # the line the cut went through, or the empty rest after the final newline
            now.append(Line(raw, "blank" if _is_blank(raw) else "unreadable"))
    return now


def finite_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def same(a: Any, b: Any) -> bool:
    """Equality in which NaN equals NaN and None equals only None."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if a is None or b is None:
        return a is None and b is None
    return a == b


def exercise(result: Result) -> None:
    """Every analysis method works on what was read."""
    runs = result.get_all_runs()
    assert len(runs) == sum(len(d.results) for d in result.data.values())
    result.get_all_runs(only_largest_budget=True)
    result.get_incumbent_id()
    result.get_incumbent_per_budget()
    for all_budgets in (True, False):
        result.get_incumbent_trajectory(all_budgets=all_budgets)
    result.get_learning_curves()
    result.get_id2config_mapping()
    result.num_iterations()
    repr(result)
    for run in runs:
        repr(run)
    result.to_dataframe()
    result.get_pandas_dataframe()
    assert pickle.loads(pickle.dumps(result)) == result


def check_hb_config(hb_config: dict) -> None:
    """HB_config never hands garbage to the Result's methods."""
    for key in ("eta", "min_budget", "max_budget", "time_ref"):
        assert hb_config.get(key) is None or finite_number(hb_config[key]), (key, hb_config)
    budgets_ = hb_config.get("budgets")
    assert budgets_ is None or (isinstance(budgets_, list) and all(finite_number(b) for b in budgets_))
    max_sh_iter = hb_config.get("max_SH_iter")
    assert max_sh_iter is None or (isinstance(max_sh_iter, int) and not isinstance(max_sh_iter, bool))


# ------------------------------------------------------------------------------------------------------
# the properties


@FUZZ
@given(data=st.data())
def test_reader_survives_garbage_and_reads_the_rest_right(data):
    config_file = data.draw(st.none() | st.lists(config_lines(), max_size=12), label="configs.json")
    result_file = data.draw(st.none() | st.lists(result_lines(), max_size=16), label="results.json")
    manifest = data.draw(manifests, label="run.json")
    with tempfile.TemporaryDirectory() as directory:
        written: dict[str, list[Line]] = {}
        for name, lines in (("configs.json", config_file), ("results.json", result_file)):
            if lines is None:
                continue
            final_newline = data.draw(st.booleans(), label=f"{name} ends with a newline")
            size = sum(len(line.raw) + 1 for line in lines)
            cut = data.draw(st.none() | st.integers(0, size), label=f"{name} cut at")
            written[name] = write_file(os.path.join(directory, name), lines, final_newline, cut)
        if manifest is not None:
            with open(os.path.join(directory, "run.json"), "wb") as fh:
                fh.write(manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode())
        with open(os.path.join(directory, "events.json"), "wb") as fh:
            fh.write(b'{"time": 1, "event": "dispatch"}\n\xff\xfe garbage [[[\n')
        with open(os.path.join(directory, "notes.txt"), "wb") as fh:
            fh.write(b"unknown files are ignored")

        with captured_warnings() as records:
            if not written:
                with pytest.raises(FileNotFoundError, match="no run journal"):
                    logged_results_to_HBS_result(directory)
                return
            result = logged_results_to_HBS_result(directory)

        # the oracle: later readable lines win
        expected_configs: dict[tuple, dict] = {}
        for line in written.get("configs.json", []):
            if line.kind in ("valid", "degraded"):
                expected_configs[line.key] = line.expect
        expected_runs: dict[tuple, dict] = {}
        for line in written.get("results.json", []):
            if line.kind in ("valid", "degraded"):
                expected_runs[line.key] = line.expect
        empty = {"config": {}, "config_info": {}}  # a result for a config id configs.json lacks
        for cid, _ in expected_runs:
            expected_configs.setdefault(cid, empty)

        assert set(result.data) == set(expected_configs)
        for cid, expect in expected_configs.items():
            assert result[cid].config == expect["config"]
            assert result[cid].config_info == expect["config_info"]

        check_hb_config(result.HB_config)
        time_ref = result.HB_config.get("time_ref")
        hb_config = manifest.get("HB_config") if isinstance(manifest, dict) else None
        if isinstance(hb_config, dict) and finite_number(hb_config.get("time_ref")):
            assert time_ref == hb_config["time_ref"]
        else:  # the earliest submission on any readable line (a replaced line's too)
            submitted = [
                line.expect["stamps"]["submitted"]
                for line in written.get("results.json", [])
                if line.kind in ("valid", "degraded") and "submitted" in line.expect["stamps"]
            ]
            assert time_ref == (min(submitted) if submitted else None)
        shift = time_ref if time_ref is not None else 0.0

        runs = {(r.config_id, r.budget): r for r in result.get_all_runs()}
        assert set(runs) == set(expected_runs)
        for key, expect in expected_runs.items():
            run = runs[key]
            assert same(run.loss, expect["loss"]), (key, run.loss, expect)
            assert run.info == expect["info"]
            assert run.error_logs == expect["error_logs"]
            assert run.worker_name == expect["worker"]
            assert run.attempt == expect["attempt"]
            assert run.status == expect["status"]
            assert run.time_stamps == {k: v - shift for k, v in expect["stamps"].items()}

        for name, lines in written.items():
            path = os.path.join(directory, name)
            for number, line in enumerate(lines, start=1):
                if line.kind in ("unreadable", "degraded"):
                    assert names_line(records, path, number), (name, number, line, [r.getMessage() for r in records])
                else:
                    assert not names_line(records, path, number), (name, number, line)

        exercise(result)
        with tempfile.TemporaryDirectory() as other, Journal(other) as journal:
            summary = warm_start(directory, base_config_generator(), journal, time.time())
        assert summary["runs"] == len(expected_runs) and summary["configs"] == len(expected_configs)


@FUZZ
@given(hb_config=st.dictionaries(st.sampled_from([*GOOD_HB, "time_ref", "unknown"]), json_values | st.just(BIG)))
def test_garbage_hb_config_in_the_manifest(hb_config):
    lines = [
        [[0, 0, 0], 1.0, {"submitted": 5.0, "finished": 6.0}, {"loss": 1.0, "info": {}}, None],
        [[0, 0, 0], 9.0, {"submitted": 7.0, "finished": 8.0}, {"loss": 0.5, "info": {}}, None],
        [[0, 0, 1], 3.0, {"submitted": 2.0, "finished": 9.0}, None, "died"],
    ]
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "configs.json"), "w") as fh:
            fh.write('[[0, 0, 0], {"x": 1}, {}]\n[[0, 0, 1], {"x": 2}, {}]\n')
        with open(os.path.join(directory, "results.json"), "w") as fh:
            fh.writelines(json.dumps(line) + "\n" for line in lines)
        with open(os.path.join(directory, "run.json"), "w") as fh:
            fh.write(json.dumps({"HB_config": hb_config}))
        result = logged_results_to_HBS_result(directory)
    check_hb_config(result.HB_config)
    for key, value in hb_config.items():  # valid values are kept as they are, unknown keys too
        if value is None:
            valid = True
        elif key in ("eta", "min_budget", "max_budget", "time_ref"):
            valid = finite_number(value)
        elif key == "budgets":
            valid = isinstance(value, list) and all(finite_number(b) for b in value)
        elif key == "max_SH_iter":
            valid = isinstance(value, int) and not isinstance(value, bool)
        else:
            valid = True
        if valid and not (key == "time_ref" and value is None):
            assert result.HB_config[key] == value
        elif key != "time_ref":
            assert key not in result.HB_config
    expected_ref = hb_config["time_ref"] if finite_number(hb_config.get("time_ref")) else 2.0
    assert result.HB_config["time_ref"] == expected_ref
    assert len(result.get_all_runs()) == 3
    exercise(result)


def test_unreadable_files_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "configs.json").mkdir()  # a directory where the file should be
    (tmp_path / "results.json").write_bytes(
        b'[[0, 0, 0], 1.0, {"submitted": 1.0}, {"loss": 1.0, "info": null}, null]\n'
    )
    with caplog.at_level(logging.WARNING, logger="bandster.records"):
        result = logged_results_to_HBS_result(tmp_path)
    assert str(tmp_path / "configs.json") in caplog.text
    assert [r.loss for r in result.get_all_runs()] == [1.0] and result[(0, 0, 0)].config == {}
