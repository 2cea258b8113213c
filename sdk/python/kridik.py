"""Write kridik checks in Python: mirrors the Rust SDK (info, Ctx.parsed, the
finding builder, export_checks). Build a check with componentize-py against
the repository's WIT (bindings are generated at build time):

    componentize-py -d wit/v0.2.0 -w check componentize --stub-wasi \
        -p sdk/python -p mycheck app -o mycheck.wasm

where `mycheck/app.py` defines `Checks = export_checks((info_fn, run_fn), ...)`.
`--stub-wasi` leaves the component without WASI imports: checks need none."""
import json
from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types, snapshot
from wit_world.imports import mesh as _mesh

Severity = types.Severity
Confidence = types.Confidence


def info(id, title, severity, category, kinds, description=""):
    return types.CheckInfo(id=id, title=title, description=description,
                           default_severity=severity, category=category, kinds=list(kinds))


def display(ref):
    return f"{ref.kind} {ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind} {ref.name}"


class Finding:
    def __init__(self, check_id, severity, obj, title):
        self.f = types.Finding(check_id=check_id, severity=severity, confidence=Confidence.INFERRED,
                               title=title, message="", object=obj, evidence=[], remediation=None,
                               references=[])

    def message(self, m):
        self.f.message = m
        return self

    def confidence(self, c):
        self.f.confidence = c
        return self

    def evidence(self, label, source, detail):
        self.f.evidence.append(types.Evidence(label=label, source=source, detail=detail))
        return self

    def remediation(self, summary, yaml=None):
        self.f.remediation = types.Remediation(summary=summary, yaml=yaml)
        return self

    def reference(self, url):
        self.f.references.append(url)
        return self


class Ctx:
    def __init__(self, check_id):
        self.check_id = check_id

    def observed(self):
        return Confidence.VERIFIED if snapshot.source() == snapshot.SourceKind.LIVE else Confidence.INFERRED

    def workloads(self):
        return _mesh.workloads()

    def finding(self, severity, obj, title):
        return Finding(self.check_id, severity, obj, title)

    def parsed(self, kind, what):
        """[(object, parsed JSON)], or raises Unknown holding the UNKNOWN finding."""
        try:
            objs = snapshot.objects(kind)
        except Err as e:
            missing = e.value
            ref = types.ObjectRef(api_version="", kind=missing.kind, namespace="", name="", file=None, line=None)
            raise Unknown(self.finding(Severity.INFO, ref, f"{what} could not be assessed")
                          .confidence(Confidence.UNKNOWN)
                          .message(f"could not be assessed: {missing.kind} is unavailable ({missing.reason.name.lower()}): {missing.detail}")
                          .evidence(Confidence.UNKNOWN, None, missing.detail))
        return [(o, json.loads(o.json)) for o in objs]


class Unknown(Exception):
    def __init__(self, finding):
        self.finding = finding


def export_checks(*checks):
    """The `Checks` export class for (info, run) pairs."""
    class Checks(exports.Checks):
        def describe(self):
            return [i() for i, _ in checks]

        def run(self, check_id):
            for i, run in checks:
                if i().id == check_id:
                    try:
                        found = run(Ctx(check_id))
                    except Unknown as u:
                        found = [u.finding]
                    return [f.f if isinstance(f, Finding) else f for f in found]
            raise Err(f"no check {check_id} in this component")
    return Checks
