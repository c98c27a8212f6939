"""The component's entry: the two hooks of the WIT world `policy` (schemas/wit/policy.wit).

componentize-py calls `Appraise().appraise(request)` and `Rotate().rotate(request)` with the
request as the generated record classes (wit_world.imports.types). This file only converts:
records -> plain data (dicts, as in policy_rules.py) -> the policy -> records. A refusal
(policy_rules.Refusal) is answered as the hook's `err` by raising componentize_py_types.Err;
any other exception is a trap, which the server reports as a failure of the plugin.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types

import policy_rules
from policy_rules import BERAKHLAK, Refusal


def _enum(value):
    """A WIT enum member as the contract's string: Rating.DI_ATAS -> "di_atas"."""
    return None if value is None else value.name.lower()


def _config(text):
    """The activation config: a JSON object in a string ("" counts as {})."""
    if not text.strip():
        return {}
    try:
        config = json.loads(text)
    except ValueError as e:
        raise Refusal("config is not a JSON object: %s" % e) from None
    if not isinstance(config, dict):
        raise Refusal("config is not a JSON object: a JSON %s" % type(config).__name__)
    return config


def _ratings(r):
    return None if r is None else {v: getattr(r, v) for v in BERAKHLAK}


def _levels(pairs):
    """A list of (name, value) tuples as a dict (ABI 1's object)."""
    return {name: value for name, value in pairs}


def _case(c):
    e, p, b, a = c.employee, c.period, c.behavior, c.activities
    return {
        "employee": {
            "nip": e.nip,
            "name": e.name,
            "agency": e.agency,
            "position_id": e.position_id,
            "position_since": e.position_since,
        },
        "period": {"id": p.id, "start": p.start, "end": p.end, "working_days": p.working_days},
        "indicators": [
            {
                "id": i.id,
                "name": i.name,
                "kind": _enum(i.kind),
                "direction": _enum(i.direction),
                "unit": i.unit,
                "target": i.target,
                "realization": i.realization,
                "weight": i.weight,
                "evidence": i.evidence,
            }
            for i in c.indicators
        ],
        "behavior": {
            "supervisor": _ratings(b.supervisor),
            "peers": None if b.peers is None else [_ratings(r) for r in b.peers],
            "self": _ratings(b.self_assessment),
        },
        "activities": None
        if a is None
        else {"days_reported": a.days_reported, "minutes_reported": a.minutes_reported},
        "innovations": None
        if c.innovations is None
        else [{"title": i.title, "date": i.date} for i in c.innovations],
        "process": None if c.process is None else _levels(c.process),
        "budget": None
        if c.budget is None
        else {"planned": c.budget.planned, "realized": c.budget.realized},
        "public_feedback": None
        if c.public_feedback is None
        else {"ikm": c.public_feedback.ikm, "respondents": c.public_feedback.respondents},
    }


def _result(r):
    return types.AppraiseResult(
        nip=r["nip"],
        hasil_kerja=types.Rating[r["hasil_kerja"].upper()],
        perilaku_kerja=types.Rating[r["perilaku_kerja"].upper()],
        predikat=types.Predikat[r["predikat"].upper()],
        score=r["score"],
        components=[
            types.Component(name=c["name"], value=c["value"], weight=c.get("weight"))
            for c in r["components"]
        ],
        recommendations=[
            types.Recommendation(
                kind=types.RecommendationKind[x["kind"].upper()], subject=x.get("subject")
            )
            for x in r["recommendations"]
        ],
        explanation=r["explanation"],
        tpp_percent=r.get("tpp_percent"),
    )


class Appraise(exports.Appraise):
    def appraise(self, request: types.AppraiseRequest) -> types.AppraiseResponse:
        try:
            answer = policy_rules.appraise(
                {
                    "region": request.region,
                    "config": _config(request.config),
                    "cases": [_case(c) for c in request.cases],
                }
            )
        except Refusal as e:
            raise Err(str(e))
        return types.AppraiseResponse(results=[_result(r) for r in answer["results"]])


class Rotate(exports.Rotate):
    def rotate(self, request: types.RotateRequest) -> types.RotateResponse:
        try:
            answer = policy_rules.rotate(
                {
                    "region": request.region,
                    "config": _config(request.config),
                    "as_of": request.as_of,
                    "employees": [
                        {
                            "nip": e.nip,
                            "agency": e.agency,
                            "position_id": e.position_id,
                            "position_since": e.position_since,
                            "competencies": _levels(e.competencies),
                            "latest_predikat": _enum(e.latest_predikat),
                            "potential": _enum(e.potential),
                            "declined_rotation": e.declined_rotation,
                        }
                        for e in request.employees
                    ],
                    "positions": [
                        {
                            "id": p.id,
                            "title": p.title,
                            "agency": p.agency,
                            "kind": p.kind,
                            "level": p.level,
                            "required": _levels(p.required),
                            "vacancies": p.vacancies,
                        }
                        for p in request.positions
                    ],
                }
            )
        except Refusal as e:
            raise Err(str(e))
        return types.RotateResponse(
            talent=[types.Talent(nip=t["nip"], nine_box=t["box"]) for t in answer["talent"]],
            moves=[
                types.Move(
                    nip=m["nip"],
                    from_=m["from"],
                    to=m["to"],
                    kind=types.MoveKind[m["kind"].upper()],
                    job_person_match=m["job_person_match"],
                    readiness=types.Readiness[m["readiness"].upper()],
                    training=m["training"],
                )
                for m in answer["moves"]
            ],
            flags=[
                types.Flag(nip=f["nip"], kind=types.FlagKind[f["kind"].upper()], detail=f["detail"])
                for f in answer["flags"]
            ],
        )
