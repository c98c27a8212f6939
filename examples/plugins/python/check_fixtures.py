#!/usr/bin/env python3
"""Checks the Jambi policy against the conformance fixtures, under ordinary Python.

For every NAME.request.json in plugins/fixtures/jambi (ABI 1 JSON), the answer must match
NAME.expected.json the way `kinerja plugin test` matches: every field of the expected document
must be in the answer (other fields are free), arrays of the same length, numbers within 0.01.

    python3 check_fixtures.py                  # jambi/policy_rules.py, and jambi/app.py through
                                               #   the record classes when build.sh has made them
    python3 check_fixtures.py DIR              # another fixture folder
    .venv/bin/python check_fixtures.py --wasm out/jambi.wasm
                                               # also the built component, in the wasmtime
                                               #   package (.venv/bin/pip install wasmtime)

Prints PASS/FAIL per fixture and "N passed, N failed"; exits 1 on any failure.
"""

import argparse
import dataclasses
import enum
import json
import sys
import typing
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "jambi"))

import policy_rules  # noqa: E402

DEFAULT_FIXTURES = HERE / "../../../plugins/fixtures/jambi"
BINDINGS = HERE / "out/bindings"  # written by build.sh (`componentize-py ... bindings`)


# ---- ABI 1 JSON -> the plain data of policy_rules (what app.py makes of the records) ---------


def _num(x):
    return None if x is None else float(x)


def _ratings(r):
    return None if r is None else {v: int(r[v]) for v in policy_rules.BERAKHLAK}


def _levels(obj):
    """An ABI 1 object of numbers as app.py makes it from a list of (name, value): floats."""
    return {k: float(v) for k, v in sorted((obj or {}).items())}


def plain_case(c):
    e, p, b = c["employee"], c["period"], c["behavior"]
    a = c.get("activities")
    return {
        "employee": {
            k: e.get(k) for k in ("nip", "name", "agency", "position_id", "position_since")
        },
        "period": {
            "id": p["id"],
            "start": p["start"],
            "end": p["end"],
            "working_days": int(p["working_days"]),
        },
        "indicators": [
            {
                "id": i["id"],
                "name": i.get("name"),
                "kind": i["kind"],
                "direction": i["direction"],
                "unit": i.get("unit"),
                "target": float(i["target"]),
                "realization": _num(i.get("realization")),
                "weight": _num(i.get("weight")),
                "evidence": i.get("evidence"),
            }
            for i in c.get("indicators") or []
        ],
        "behavior": {
            "supervisor": _ratings(b["supervisor"]),
            "peers": None if b.get("peers") is None else [_ratings(r) for r in b["peers"]],
            "self": _ratings(b.get("self")),
        },
        "activities": None
        if a is None
        else {"days_reported": int(a["days_reported"]), "minutes_reported": a.get("minutes_reported")},
        "innovations": None
        if c.get("innovations") is None
        else [{"title": i.get("title"), "date": i.get("date")} for i in c["innovations"]],
        "process": None if c.get("process") is None else _levels(c["process"]),
        "budget": None
        if c.get("budget") is None
        else {k: float(c["budget"][k]) for k in ("planned", "realized")},
        "public_feedback": None
        if c.get("public_feedback") is None
        else {
            "ikm": float(c["public_feedback"]["ikm"]),
            "respondents": int(c["public_feedback"]["respondents"]),
        },
    }


def plain_request(doc):
    base = {"region": doc["region"], "config": doc.get("config") or {}}
    if doc["hook"] == "appraise":
        return dict(base, cases=[plain_case(c) for c in doc["cases"]])
    return dict(
        base,
        as_of=doc["as_of"],
        employees=[
            {
                "nip": e["nip"],
                "agency": e.get("agency"),
                "position_id": e["position_id"],
                "position_since": e["position_since"],
                "competencies": _levels(e.get("competencies")),
                "latest_predikat": e.get("latest_predikat"),
                "potential": e.get("potential"),
                "declined_rotation": bool(e.get("declined_rotation", False)),
            }
            for e in doc["employees"]
        ],
        positions=[
            {
                "id": p["id"],
                "title": p.get("title"),
                "agency": p.get("agency"),
                "kind": p["kind"],
                "level": int(p["level"]),
                "required": _levels(p.get("required")),
                "vacancies": int(p["vacancies"]),
            }
            for p in doc["positions"]
        ],
    )


def run_rules(doc):
    """(answer, None) or (None, refusal message) from policy_rules."""
    hook = policy_rules.appraise if doc["hook"] == "appraise" else policy_rules.rotate
    try:
        return hook(plain_request(doc)), None
    except policy_rules.Refusal as e:
        return None, str(e)


# ---- through app.py, with componentize-py's record classes (no WebAssembly) ------------------

# WIT field names whose ABI 1 JSON name differs (beyond kebab-case to snake_case).
RENAMED = {"self_assessment": "self", "nine_box": "box", "from_": "from"}


def to_records(cls, value):
    """ABI 1 JSON -> an instance of the generated type `cls` (dataclass, enum, list, ...)."""
    origin, args = typing.get_origin(cls), typing.get_args(cls)
    if origin is typing.Union:  # Optional[X]
        inner = [a for a in args if a is not type(None)][0]
        return None if value is None else to_records(inner, value)
    if origin in (list, typing.List):
        (item,) = args
        if value is None:
            return []
        if isinstance(value, dict):  # ABI 1 object -> list of (name, value), in name order
            return [(k, float(v)) for k, v in sorted(value.items())]
        return [to_records(item, v) for v in value]
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return cls[value.upper()]
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        out = {}
        for f in dataclasses.fields(cls):
            v = value.get(RENAMED.get(f.name, f.name))
            if f.name == "config":
                v = json.dumps(v if v is not None else {})
            elif v is None and hints[f.name] is bool:
                v = False
            out[f.name] = to_records(hints[f.name], v)
        return cls(**out)
    if cls is float:
        return float(value)
    return value


def from_records(value):
    """Generated records -> ABI 1 JSON-like data."""
    if dataclasses.is_dataclass(value):
        return {
            RENAMED.get(f.name, f.name): from_records(getattr(value, f.name))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, enum.Enum):
        return value.name.lower()
    if isinstance(value, (list, tuple)):
        return [from_records(v) for v in value]
    return value


def app_runner():
    """A runner through jambi/app.py, or None when build.sh has not written the bindings."""
    if not (BINDINGS / "wit_world").is_dir():
        return None
    sys.path.insert(0, str(BINDINGS))
    try:
        import app  # noqa: E402
        from componentize_py_types import Err  # noqa: E402
        from wit_world.imports import types  # noqa: E402
    except ImportError as e:  # the generated classes need Python 3.11 (typing.Self)
        print("(app.py not checked: %s)" % e)
        return None

    def run(doc):
        try:
            if doc["hook"] == "appraise":
                answer = app.Appraise().appraise(to_records(types.AppraiseRequest, doc))
            else:
                answer = app.Rotate().rotate(to_records(types.RotateRequest, doc))
        except Err as e:
            return None, e.value
        return from_records(answer), None

    return run


# ---- the built component, in the wasmtime package ------------------------------------------


def wasm_runner(path):
    import wasmtime
    from wasmtime import component as cm

    config = wasmtime.Config()
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    component = cm.Component.from_file(engine, str(path))
    linker = cm.Linker(engine)
    linker.add_wasip2()  # the host gives the same interfaces, with nothing behind them
    with linker.root() as root:
        root.add_instance("kinerja:policy/types@2.0.0").close()  # types only

    def lower(ty, value, key=None):
        if isinstance(ty, cm.OptionType):
            return None if value is None else lower(ty.payload, value)
        if isinstance(ty, cm.ListType):
            if value is None:
                return []
            if isinstance(value, dict):
                return [(k, float(v)) for k, v in sorted(value.items())]
            return [lower(ty.element, v) for v in value]
        if isinstance(ty, cm.RecordType):
            rec = cm.Record()
            for name, fty in ty.fields:
                snake = name.replace("-", "_")
                v = value.get(RENAMED.get(snake, snake))
                if name == "config":
                    v = json.dumps(v if v is not None else {})
                elif v is None and isinstance(fty, cm.Bool):
                    v = False
                setattr(rec, name, lower(fty, v))
            return rec
        if isinstance(ty, cm.EnumType):
            return value.replace("_", "-")
        if isinstance(ty, cm.F64):
            return float(value)
        return value

    def lift(value):
        if isinstance(value, cm.Record):
            out = {}
            for name, v in vars(value).items():
                snake = name.replace("-", "_")
                out[RENAMED.get(snake, snake)] = lift(v)
            return out
        if isinstance(value, list):
            return [lift(v) for v in value]
        return value

    def run(doc):
        hook = doc["hook"]
        store = wasmtime.Store(engine)
        wasi = wasmtime.WasiConfig()
        wasi.inherit_stderr()  # the plugin's log (tracebacks, panics)
        store.set_wasi(wasi)
        store.set_fuel(10**13)
        instance = linker.instantiate(store, component)
        iface = instance.get_export_index(store, "kinerja:policy/%s@2.0.0" % hook)
        func = instance.get_func(store, instance.get_export_index(store, hook, iface))
        ((_, request_type),) = func.type(store).params
        request = lower(request_type, doc)
        before = store.get_fuel()
        result = func(store, request)
        run.fuel = before - store.get_fuel()
        if isinstance(result, str):  # result<response, string>: the err case
            return None, result
        answer = lift(result)
        for r in answer.get("results", ()):  # enum values come back as WIT names
            for k in ("hasil_kerja", "perilaku_kerja", "predikat"):
                r[k] = r[k].replace("-", "_")
            for x in r["recommendations"]:
                x["kind"] = x["kind"].replace("-", "_")
        for m in answer.get("moves", ()):
            for k in ("kind", "readiness"):
                m[k] = m[k].replace("-", "_")
        for f in answer.get("flags", ()):
            f["kind"] = f["kind"].replace("-", "_")
        return answer, None

    run.fuel = None
    return run


# ---- the subset match of `kinerja plugin test` (host/src/devkit.rs, diff) --------------------


def diff(expected, actual, path="", out=None):
    out = [] if out is None else out
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k, ev in expected.items():
            if k in actual:
                diff(ev, actual[k], "%s/%s" % (path, k), out)
            else:
                out.append("%s/%s: missing (expected %s)" % (path, k, json.dumps(ev)))
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            out.append("%s: expected %d items, got %d" % (path, len(expected), len(actual)))
        for i, (ev, av) in enumerate(zip(expected, actual)):
            diff(ev, av, "%s/%d" % (path, i), out)
    elif _is_number(expected) and _is_number(actual):
        if abs(expected - actual) > 0.01 + 1e-9:
            out.append("%s: expected %s, got %s" % (path, expected, actual))
    elif type(expected) is not type(actual) or expected != actual:
        out.append("%s: expected %s, got %s" % (path, json.dumps(expected), json.dumps(actual)))
    return out


def _is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def check(label, run, names, fixtures):
    passed = failed = 0
    print("== %s" % label)
    for name in names:
        doc = json.loads((fixtures / (name + ".request.json")).read_text())
        expected = json.loads((fixtures / (name + ".expected.json")).read_text())
        try:
            answer, refusal = run(doc)
        except Exception as e:  # a trap in the component, or a bug in the wrapper
            answer, refusal = None, "failed: %s" % str(e).strip().splitlines()[-1]
        if answer is None:
            want = expected.get("error", {}).get("message") if "error" in expected else None
            if want is not None and want in refusal:
                problems = []
            else:
                problems = [refusal if refusal.startswith("failed: ") else "refused: " + refusal]
        else:
            problems = diff(expected, answer)
        fuel = getattr(run, "fuel", None)
        if not problems:
            passed += 1
            print("PASS %s%s" % (name, "" if fuel is None else " (fuel %d)" % fuel))
        else:
            failed += 1
            print("FAIL %s" % name)
            for line in problems[:20]:
                print("     " + line)
            if len(problems) > 20:
                print("     ... and %d more" % (len(problems) - 20))
    print("%d passed, %d failed" % (passed, failed))
    return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("fixtures", nargs="?", default=str(DEFAULT_FIXTURES))
    ap.add_argument("--wasm", help="also run the built component (needs the wasmtime package)")
    args = ap.parse_args()
    fixtures = Path(args.fixtures)
    names = sorted(p.name[: -len(".request.json")] for p in fixtures.glob("*.request.json"))
    if not names:
        sys.exit("%s: no *.request.json fixtures" % fixtures)

    runs = [("policy_rules.py (plain data)", run_rules)]
    via_app = app_runner()
    if via_app is not None:
        runs.append(("app.py (componentize-py record classes)", via_app))
    elif not (BINDINGS / "wit_world").is_dir():
        print("(no %s: run build.sh to check app.py too)" % BINDINGS.relative_to(HERE))
    if args.wasm:
        runs.append((args.wasm + " (wasmtime)", wasm_runner(args.wasm)))

    total_passed = total_failed = 0
    for label, run in runs:
        p, f = check(label, run, names, fixtures)
        total_passed += p
        total_failed += f
    if len(runs) > 1:
        print("all: %d passed, %d failed" % (total_passed, total_failed))
    sys.exit(1 if total_failed or not total_passed else 0)


if __name__ == "__main__":
    main()
