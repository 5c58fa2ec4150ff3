"""Compare the numbers of a run with the stored expectations.

The expectations for a profile live in ``expected/<profile>.json``::

    {
      "profile": "smoke",
      "metrics": {
        "01_collider_world": {
          "accuracy": {"value": 0.91, "atol": 0.02},
          "n_edges": {"value": 4},
          "spurious_gap": {"min": 0.1}
        }
      }
    }

A spec is either a value, ``{"value": v}`` with optional ``"atol"`` and
``"rtol"`` (finite numbers >= 0), bounds, ``{"min": a}``, ``{"max": b}`` or both, or
``{"machine_dependent": true}``, or ``{"not_checked": "why"}``. Floats (and ints given a tolerance) match
when ``math.isclose(got, v, rel_tol=rtol, abs_tol=atol)`` with ``rtol``
defaulting to 1e-6 and ``atol`` to 0; other ints, bools and strings must be
equal.

``{"machine_dependent": true}`` is for numbers a chapter records that measure
the machine rather than the method (wall times, throughputs): the check lists
them with their values in its summary but never fails on the value, since a
slower or busier machine is no regression. It still fails when the chapter
stopped recording the metric, or recorded something that is not a number.
Timing bounds that must hold belong in ``benchmarks/``, run on a known machine.

``{"not_checked": "why"}`` is for numbers a profile is too small to judge (a
test with no power at the smoke sizes): a tolerance wide enough to pass them
would let any method pass, so the check says so instead, listing them with the
reason. Like a machine-dependent number, the metric must still be recorded, as
a number.

Relations
---------
A spec may also relate a metric to another metric *of the same chapter*:
``"above": "other"`` (the metric must exceed ``other``) or ``"below": "other"``
(it must be under ``other``), with an optional ``"by"``, a non-negative margin
(default 0): the metric must beat ``other`` by *more* than ``by``, so equal
numbers never pass. A relation stands alone or rides on a value spec or on
bounds, which are checked as well::

    "gcm_map_states": {"value": 0.48, "atol": 0.2, "above": "map_chance", "by": 0.1},
    "l1_r2_irrelevant": {"value": 0.42, "atol": 0.02, "below": "no_l1_r2_irrelevant", "by": 0.1},
    "change_inside": {"min": 0.05, "above": "change_outside"},
    "r2_relevant": {"above": "r2_irrelevant"}

Loose tolerances, which trained networks need, let a broken method pass a value
spec; a relation to chance (a recorded chance level, such as a random ranking's
mean average precision) or to the other arm of an ablation is what such a method
cannot pass. A spec holds one relation: ``above`` and ``below`` together are
refused (to keep a metric between two others, put the second relation on the
other metric: "a below b" is "b above a"). A relation to the metric itself, a
``by`` without a relation, a negative or non-numeric ``by`` and a relation on a
machine-dependent metric are refused too. Both numbers must be numbers (not
bools or strings), and a relation naming a metric the chapter did not record is
a problem of the check.

``check_run(run_dir, update=True)`` rewrites the file from a run that fully
passed: values move to the new numbers (their tolerances stay), bounds,
relations and machine-dependent specs stay as they are, new metrics are added
and metrics a chapter stopped recording are removed. Bounds and relations are
claims about the method, so an update never loosens them; it reports a run that
violates them.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .files import write_json_atomic
from .run_folder import read_json, read_run

__all__ = ["CheckResult", "CheckedMetric", "check_run", "DEFAULT_RTOL"]

#: Relative tolerance of a value spec that gives no ``rtol``.
DEFAULT_RTOL = 1e-6

_VALUE_KEYS = {"value", "atol", "rtol"}
_BOUND_KEYS = {"min", "max"}
_RELATION_KEYS = {"above", "below"}
_MARGIN_KEY = "by"
_MACHINE_KEY = "machine_dependent"
_UNCHECKED_KEY = "not_checked"


class CheckedMetric(NamedTuple):
    """One metric as the check saw it.

    ``expected`` is the spec as text (None when there is no expectation) and
    ``value`` the recorded value (None when the chapter did not record it).
    """

    chapter: str
    metric: str
    expected: str | None
    value: Any
    ok: bool


@dataclass
class CheckResult:
    """Outcome of :func:`check_run`.

    Attributes
    ----------
    run_dir : Path
        The run folder that was checked.
    against : Path
        The expectations file.
    problems : list of str
        One line per problem; any problem fails the check.
    checked : list of CheckedMetric
        Every metric recorded or expected by a chapter that passed.
    not_run : list of str
        Chapters with expectations that the run did not execute (not a problem).
    changes : list of str
        With ``update=True``: what was added to, changed in or removed from the file.
    updated : bool
        Whether the expectations file was rewritten.
    """

    run_dir: Path
    against: Path
    problems: list[str] = field(default_factory=list)
    checked: list[CheckedMetric] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    updated: bool = False

    @property
    def ok(self) -> bool:
        """True when there is no problem."""
        return not self.problems

    def summary(self) -> str:
        """The outcome in a few lines: counts, every problem, chapters not run, changes made."""
        chapters = {item.chapter for item in self.checked}
        passing = sum(item.ok for item in self.checked)
        lines = [
            f"updated {self.against} from {self.run_dir}" if self.updated
            else f"checked {self.run_dir} against {self.against}",
            f"{len(self.checked)} metric(s) in {len(chapters)} chapter(s): {passing} ok, "
            f"{len(self.problems)} problem(s)",
        ]
        lines += [f"  {change}" for change in self.changes]
        machine = [item for item in self.checked if item.expected == _MACHINE_DESCRIPTION and item.value is not None]
        if machine:
            lines.append("machine-dependent (recorded, not checked): "
                         + ", ".join(f"{item.chapter}/{item.metric} = {item.value!r}" for item in machine))
        unchecked = {}
        for item in self.checked:
            if item.expected and item.expected.startswith(_UNCHECKED_PREFIX) and item.value is not None:
                unchecked.setdefault(item.expected, []).append(f"{item.chapter}/{item.metric} = {item.value!r}")
        for description, items in unchecked.items():
            lines.append(f"{description}: " + ", ".join(items))
        lines += [f"  PROBLEM {problem}" for problem in self.problems]
        if self.not_run:
            lines.append(f"not run (expectations kept): {', '.join(self.not_run)}")
        lines.append("OK" if self.ok else f"FAILED: {len(self.problems)} problem(s)")
        return "\n".join(lines)


def check_run(run_dir, against=None, update=False) -> CheckResult:
    """Check the metrics of a run folder against an expectations file.

    Parameters
    ----------
    run_dir : str or Path
        Folder written by ``python -m specbook run`` (holds ``metrics.json``).
    against : str or Path, optional
        Expectations file; default ``expected/<profile>.json`` next to the
        run's notebooks folder.
    update : bool, default=False
        Rewrite `against` from this run instead of checking (refused when a
        chapter failed). Bounds are kept, and reported if the run violates them.
        The file is replaced in one step, so a full disk leaves the old one.

    Returns
    -------
    CheckResult

    Raises
    ------
    ValueError
        When `run_dir` holds no readable run summary, or a chapter that did not
        finish (the run was interrupted or killed), or `against` is a folder or an
        unreadable expectations file.
    """
    run_dir = Path(run_dir)
    run = read_run(run_dir, allow_dirty=True, require=("profile", "notebooks_dir", "chapters"))
    if against is None:
        against = Path(run["notebooks_dir"]).parent / "expected" / f"{run['profile']}.json"
    elif not update and not Path(against).exists():
        raise ValueError(f"against={str(against)!r} does not exist; pass an expectations file (CLI: --against "
                         f"FILE), or create it from this run with update=True (CLI: --update).")
    elif Path(against).is_dir():
        raise ValueError(f"against={str(against)!r} is a folder; pass the expectations file itself, "
                         f"e.g. {Path(against) / (run['profile'] + '.json')} (CLI: --against FILE).")
    result = CheckResult(run_dir=run_dir, against=Path(against))
    if update:
        _update(run, result)
        return result

    for stem, chapter in run["chapters"].items():
        if chapter["status"] != "passed":
            result.problems.append(_failed_chapter_problem(stem, chapter, run_dir))
    if not result.against.exists():
        result.problems.append(
            f"no expectations file {result.against}; run `python -m specbook check {run_dir} --update` "
            "to create it from this run."
        )
        return result

    expected = _read_expectations(result.against, run["profile"])
    for stem, chapter in run["chapters"].items():
        if chapter["status"] != "passed":
            continue  # its failure is the problem; its missing numbers would only repeat it
        specs, recorded = expected.get(stem, {}), chapter["metrics"]
        for name, spec in specs.items():
            if name in recorded:
                _compare(stem, name, spec, recorded[name]["value"], result, recorded)
            else:
                result.checked.append(CheckedMetric(stem, name, _describe(spec), None, False))
                result.problems.append(f"{stem}/{name} missing: expected {_describe(spec)}, "
                                       "but the chapter did not record it.")
        for name in recorded.keys() - specs.keys():
            value = recorded[name]["value"]
            result.checked.append(CheckedMetric(stem, name, None, value, False))
            result.problems.append(
                f"{stem}/{name} = {value!r} has no expectation in {result.against}; run "
                f"`python -m specbook check {run_dir} --update` to store it."
            )
    result.not_run = sorted(expected.keys() - run["chapters"].keys())
    return result


def _read_expectations(path: Path, profile: str) -> dict:
    """Read and validate an expectations file; return its ``metrics`` mapping."""
    data = read_json(path)
    if not isinstance(data, dict) or set(data) != {"profile", "metrics"}:
        raise ValueError(f"{path} must be an object with exactly the keys 'profile' and 'metrics'; "
                         f"got {sorted(data) if isinstance(data, dict) else type(data).__name__}.")
    if data["profile"] != profile:
        raise ValueError(
            f"{path} holds expectations for profile {data['profile']!r}, but the run used profile "
            f"{profile!r}; pass --against expected/{profile}.json (or run with --profile {data['profile']})."
        )
    if not isinstance(data["metrics"], dict):
        raise ValueError(f"{path}: 'metrics' must map chapter stems to {{metric name: spec}} objects.")
    for stem, specs in data["metrics"].items():
        if not isinstance(specs, dict):
            raise ValueError(f"{path}, chapter {stem}: expected an object of {{metric name: spec}}; "
                             f"got {specs!r}.")
        for name, spec in specs.items():
            _validate_spec(spec, f"{path}, {stem}/{name}")
    return data["metrics"]


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_tolerance(value) -> bool:
    """Whether `value` can be an ``atol`` or ``rtol``: a finite number >= 0 (NaN matches nothing, inf anything)."""
    return _is_number(value) and math.isfinite(value) and value >= 0


def _validate_spec(spec, where: str) -> None:
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: a spec must be an object such as {{\"value\": 0.9, \"atol\": 0.01}} "
                         f"or {{\"min\": 0.8}}; got {spec!r}.")
    unknown = set(spec) - _VALUE_KEYS - _BOUND_KEYS - _RELATION_KEYS - {_MARGIN_KEY, _MACHINE_KEY, _UNCHECKED_KEY}
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; a spec uses "
                         "'value' (with optional 'atol', 'rtol'), 'min'/'max', 'above'/'below' (with optional "
                         "'by'), 'machine_dependent' or 'not_checked'.")
    if spec.keys() & (_RELATION_KEYS | {_MARGIN_KEY}):
        _validate_relation(spec, where)
        spec = {key: item for key, item in spec.items() if key not in _RELATION_KEYS | {_MARGIN_KEY}}
        if not spec:
            return  # a relation on its own
    if _MACHINE_KEY in spec:
        if set(spec) != {_MACHINE_KEY} or spec[_MACHINE_KEY] is not True:
            raise ValueError(f"{where}: a machine-dependent metric is given as exactly "
                             f"{{\"machine_dependent\": true}} (no value or bounds to check); got {spec!r}.")
        return
    if _UNCHECKED_KEY in spec:
        reason = spec[_UNCHECKED_KEY]
        if set(spec) != {_UNCHECKED_KEY} or not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{where}: a metric the profile cannot judge is given as exactly "
                             f"{{\"not_checked\": \"why\"}} with the reason as text (no value, bounds or "
                             f"relation); got {spec!r}.")
        return
    if "value" in spec:
        if spec.keys() & _BOUND_KEYS:
            raise ValueError(f"{where}: give either 'value' (with optional 'atol', 'rtol') or "
                             "'min'/'max' bounds, not both.")
        if not isinstance(spec["value"], (numbers.Real, str)):
            raise ValueError(f"{where}: 'value' must be a number, bool or string; got {spec['value']!r}.")
        for key in spec.keys() & {"atol", "rtol"}:
            if not _is_tolerance(spec[key]):
                raise ValueError(f"{where}: {key!r} must be a finite number >= 0; got {spec[key]!r}.")
        return
    if not spec.keys() & _BOUND_KEYS:
        raise ValueError(f"{where}: a spec needs 'value' or at least one of 'min'/'max'; got {spec!r}.")
    if spec.keys() & {"atol", "rtol"}:
        raise ValueError(f"{where}: 'atol'/'rtol' only apply to a 'value' spec, not to bounds.")
    for key in spec.keys() & _BOUND_KEYS:
        if not _is_number(spec[key]):
            raise ValueError(f"{where}: bound {key!r} must be a number; got {spec[key]!r}.")
    if spec.get("min", -math.inf) > spec.get("max", math.inf):
        raise ValueError(f"{where}: 'min' ({spec['min']!r}) is above 'max' ({spec['max']!r}).")


def _validate_relation(spec: dict, where: str) -> None:
    relations = sorted(spec.keys() & _RELATION_KEYS)
    if not relations:
        raise ValueError(f"{where}: 'by' is the margin of a relation; give 'above' or 'below' with it "
                         f"(e.g. {{\"above\": \"map_chance\", \"by\": 0.1}}); got {spec!r}.")
    if len(relations) > 1:
        raise ValueError(f"{where}: give either 'above' or 'below', not both (a spec holds one relation; "
                         "to keep a metric between two others, put the second relation on the other metric).")
    if _MACHINE_KEY in spec:
        raise ValueError(f"{where}: a machine-dependent metric measures the machine, so it has no relation "
                         "to check; drop 'above'/'below' or 'machine_dependent'.")
    if _UNCHECKED_KEY in spec:
        raise ValueError(f"{where}: a metric marked 'not_checked' has nothing to check, a relation included; "
                         "drop 'above'/'below' or 'not_checked'.")
    other = spec[relations[0]]
    if not isinstance(other, str) or not other:
        raise ValueError(f"{where}: {relations[0]!r} must name another metric of the same chapter; got {other!r}.")
    if other == where.rsplit("/", 1)[-1]:
        raise ValueError(f"{where}: {relations[0]!r} names the metric itself; name another metric of the chapter.")
    if _MARGIN_KEY in spec and (not _is_number(spec[_MARGIN_KEY]) or not spec[_MARGIN_KEY] >= 0):
        raise ValueError(f"{where}: 'by' must be a non-negative number; got {spec[_MARGIN_KEY]!r}.")


def _relation(spec: dict):
    """``(word, other metric, margin)`` of a spec's relation, or None."""
    for word in ("above", "below"):
        if word in spec:
            return word, spec[word], spec.get(_MARGIN_KEY, 0)
    return None


def _describe_relation(spec: dict) -> str:
    word, other, by = _relation(spec)
    return f"{word} {other}" + (f" by > {by!r}" if by else "")


def _relation_holds(spec: dict, value, other_value) -> bool:
    word, _, by = _relation(spec)
    if not (_is_number(value) and _is_number(other_value)):
        return False
    return value - other_value > by if word == "above" else other_value - value > by


def _is_exact(spec: dict) -> bool:
    """Whether a value spec asks for equality rather than closeness."""
    expected = spec["value"]
    return not _is_number(expected) or (isinstance(expected, numbers.Integral)
                                        and not spec.keys() & {"atol", "rtol"})


_MACHINE_DESCRIPTION = "machine-dependent (not checked)"
_UNCHECKED_PREFIX = "recorded, not checked"


def _describe(spec: dict) -> str:
    if _relation(spec) is not None:
        own = {key: item for key, item in spec.items() if key not in _RELATION_KEYS | {_MARGIN_KEY}}
        return " and ".join(([_describe(own)] if own else []) + [_describe_relation(spec)])
    if _MACHINE_KEY in spec:
        return _MACHINE_DESCRIPTION
    if _UNCHECKED_KEY in spec:
        return f"{_UNCHECKED_PREFIX} ({spec[_UNCHECKED_KEY]})"
    if "value" not in spec:
        bounds = (("min", ">="), ("max", "<="))
        return " and ".join(f"{op} {spec[key]!r}" for key, op in bounds if key in spec)
    if _is_exact(spec):
        return f"{spec['value']!r}" + (" (exact)" if _is_number(spec["value"]) else "")
    tolerances = [f"atol {spec['atol']!r}"] if "atol" in spec else []
    tolerances.append(f"rtol {spec.get('rtol', DEFAULT_RTOL)!r}")
    return f"{spec['value']!r} ({', '.join(tolerances)})"


def _matches(spec: dict, value) -> bool:
    """Whether `value` meets the value, bounds or machine-dependent part of `spec` (not its relation)."""
    spec = {key: item for key, item in spec.items() if key not in _RELATION_KEYS | {_MARGIN_KEY}}
    if not spec:
        return True  # a relation on its own: checked by _compare
    if _MACHINE_KEY in spec or _UNCHECKED_KEY in spec:
        return _is_number(value)  # any number: the machine's speed, or a size the profile cannot judge
    if "value" not in spec:
        return _is_number(value) and spec.get("min", -math.inf) <= value <= spec.get("max", math.inf)
    expected = spec["value"]
    if not (_is_number(expected) and _is_number(value)):
        # bools and strings: same type and equal (so True does not pass for 1)
        return type(value) is type(expected) and value == expected
    if _is_exact(spec):
        return value == expected
    return math.isclose(value, expected, rel_tol=spec.get("rtol", DEFAULT_RTOL),
                        abs_tol=spec.get("atol", 0.0))


def _compare(stem: str, name: str, spec: dict, value, result: CheckResult, recorded: dict) -> None:
    """Check one recorded `value` against `spec`; `recorded` is the chapter's {name: entry} (for relations)."""
    problems = []
    own = {key: item for key, item in spec.items() if key not in _RELATION_KEYS | {_MARGIN_KEY}}
    if not _matches(own, value):
        if _MACHINE_KEY in own:
            problems.append(f"{stem}/{name} = {value!r} is machine-dependent but must be a number")
        elif _UNCHECKED_KEY in own:
            problems.append(f"{stem}/{name} = {value!r} is not checked at this profile but must be a number")
        elif "value" in own:
            problems.append(f"{stem}/{name} moved: expected {_describe(own)}, got {value!r}")
        else:
            problems.append(f"{stem}/{name} = {value!r} violates {_describe(own)}")
    relation = _relation(spec)
    if relation is not None:
        word, other, by = relation
        margin = f" by more than {by!r}" if by else ""
        if other not in recorded:
            problems.append(f"{stem}/{name} must be {word} {other}, but the chapter did not record {other}.")
        elif not _relation_holds(spec, value, recorded[other]["value"]):
            other_value = recorded[other]["value"]
            if not (_is_number(value) and _is_number(other_value)):
                problems.append(f"{stem}/{name} = {value!r} must be {word} {other} = {other_value!r}, "
                                "but a relation compares numbers.")
            else:
                problems.append(f"{stem}/{name} = {value!r} is not {word} {other} = {other_value!r}{margin} "
                                f"(difference {value - other_value:+.4g})")
    result.checked.append(CheckedMetric(stem, name, _describe(spec), value, not problems))
    result.problems += problems


def _failed_chapter_problem(stem: str, chapter: dict, run_dir: Path) -> str:
    error = chapter.get("error") or {}
    cell = "" if error.get("cell_index") is None else f" in cell {error['cell_index']}"
    evalue = (error.get("evalue") or "").strip().splitlines()
    raised = f"{error.get('ename', 'an error')}" + (f": {evalue[0]}" if evalue else "")
    return (f"{stem} failed{cell} ({raised}); see {run_dir / 'report.md'} and "
            f"{run_dir / chapter.get('executed_notebook', '')}")


def _new_spec(entry: dict) -> dict:
    """Spec for a metric seen for the first time: its value, with the tolerance hints of record()."""
    spec = {"value": entry["value"]}
    spec.update({key: entry[key] for key in ("atol", "rtol") if key in entry})
    if isinstance(entry["value"], float) and not spec.keys() & {"atol", "rtol"}:
        spec["rtol"] = DEFAULT_RTOL
    return spec


def _update(run: dict, result: CheckResult) -> None:
    failed = [stem for stem, chapter in run["chapters"].items() if chapter["status"] != "passed"]
    if failed:
        raise ValueError(
            f"refusing to update {result.against}: chapter(s) {', '.join(failed)} failed in "
            f"{result.run_dir}. A failed run is no reference; fix the chapter(s) and run again."
        )
    expected = _read_expectations(result.against, run["profile"]) if result.against.exists() else {}
    for stem, chapter in run["chapters"].items():
        old, new = expected.get(stem, {}), {}
        for name, entry in chapter["metrics"].items():
            value, spec = entry["value"], old.get(name)
            if spec is None:
                new[name] = _new_spec(entry)
                result.changes.append(f"added {stem}/{name}: {_describe(new[name])}")
            elif "value" in spec:
                new[name] = {**spec, "value": value}
                if spec["value"] != value:
                    result.changes.append(f"changed {stem}/{name}: {spec['value']!r} -> {value!r}")
            else:
                # a bound or a relation is a claim about the method; a new run must not loosen
                # it. A machine-dependent spec stays so: one machine's number is no expectation
                new[name] = spec
            _compare(stem, name, new[name], value, result, chapter["metrics"])
        result.changes += [f"removed {stem}/{name}" for name in sorted(old.keys() - new.keys())]
        if new:
            expected[stem] = new
        else:
            expected.pop(stem, None)
    result.not_run = sorted(expected.keys() - run["chapters"].keys())
    result.against.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(result.against, {"profile": run["profile"], "metrics": expected}, sort_keys=True)
    result.updated = True
