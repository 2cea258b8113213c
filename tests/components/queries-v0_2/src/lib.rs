//! Exercises every query of `kridik:plugin@0.2.1` against the whole lists it
//! must agree with, and reports each disagreement as a finding (QUERIES-002),
//! plus one finding with what it compared (QUERIES-001) so a test can tell a
//! run on real data from a run on nothing.

wit_bindgen::generate!({
    world: "check",
    path: "../../../wit/v0.2.1",
    additional_derives: [serde::Deserialize],
});

use exports::kridik::plugin::checks::Guest;
use kridik::plugin::snapshot::UnavailableReason;
use kridik::plugin::types::{CheckInfo, Confidence, Finding, ObjectRef, Severity};
use kridik::plugin::{mesh, snapshot};

const KIND: &str = "security.istio.io/AuthorizationPolicy";

struct Queries;

fn finding(id: &str, message: String) -> Finding {
    Finding {
        check_id: id.into(),
        severity: Severity::Info,
        confidence: Confidence::Verified,
        title: id.into(),
        message,
        object: ObjectRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: String::new(),
            name: "queries".into(),
            file: None,
            line: None,
        },
        evidence: vec![],
        remediation: None,
        references: vec![],
    }
}

fn same(a: &ObjectRef, b: &ObjectRef) -> bool {
    (&a.kind, &a.namespace, &a.name) == (&b.kind, &b.namespace, &b.name)
}

impl Guest for Queries {
    fn describe() -> Vec<CheckInfo> {
        vec![CheckInfo {
            id: "QUERIES-001".into(),
            title: "0.2 queries agree with the lists".into(),
            description: String::new(),
            default_severity: Severity::Info,
            category: "test".into(),
            kinds: vec![KIND.into()],
        }]
    }

    fn run(_: String) -> Result<Vec<Finding>, String> {
        let mut wrong = Vec::new();
        let workloads = mesh::workloads();
        let policies = mesh::policies();
        for w in &workloads {
            match mesh::find_workload(&w.id) {
                Some(q) if q.id == w.id && q.identity == w.identity => {}
                other => wrong.push(format!("workload({}) = {:?}", w.id, other.map(|q| q.id))),
            }
            if !mesh::workloads_in(&w.namespace)
                .iter()
                .any(|q| q.id == w.id)
            {
                wrong.push(format!("workloads-in({}) misses {}", w.namespace, w.id));
            }
            let expected: Vec<String> = policies
                .iter()
                .filter(|p| p.workloads.contains(&w.id))
                .map(|p| format!("{}/{}/{}", p.target.kind, p.target.namespace, p.target.name))
                .collect();
            let got: Vec<String> = mesh::policies_for(&w.id)
                .iter()
                .map(|p| format!("{}/{}/{}", p.target.kind, p.target.namespace, p.target.name))
                .collect();
            if got != expected {
                wrong.push(format!(
                    "policies-for({}) = {got:?}, expected {expected:?}",
                    w.id
                ));
            }
        }
        if mesh::find_workload("no/Such/workload").is_some() {
            wrong.push("workload(no/Such/workload) is some".into());
        }
        for p in &policies {
            match mesh::find_policy(&p.target) {
                Some(q) if same(&q.target, &p.target) && q.workloads == p.workloads => {}
                _ => wrong.push(format!(
                    "policy({}/{}) differs",
                    p.target.namespace, p.target.name
                )),
            }
        }
        // The bulk form decodes (postcard, as mesh.wit specifies) to the same lists.
        match postcard::from_bytes::<Vec<mesh::Workload>>(&mesh::workloads_packed()) {
            Ok(p) if format!("{p:?}") == format!("{workloads:?}") => {}
            Ok(p) => wrong.push(format!(
                "workloads-packed has {} records unlike workloads()",
                p.len()
            )),
            Err(e) => wrong.push(format!("workloads-packed does not decode: {e}")),
        }
        match postcard::from_bytes::<Vec<mesh::Policy>>(&mesh::policies_packed()) {
            Ok(p) if format!("{p:?}") == format!("{policies:?}") => {}
            Ok(p) => wrong.push(format!(
                "policies-packed has {} records unlike policies()",
                p.len()
            )),
            Err(e) => wrong.push(format!("policies-packed does not decode: {e}")),
        }
        let components = mesh::istio_components();
        for c in &components {
            if !workloads.iter().any(|w| w.id == c.id) {
                wrong.push(format!(
                    "istio-components has {} which workloads() lacks",
                    c.id
                ));
            }
        }
        let objects = snapshot::objects(KIND).map_err(|u| u.detail)?;
        match snapshot::access(KIND) {
            Ok(n) if n as usize == objects.len() => {}
            other => wrong.push(format!(
                "access({KIND}) = {other:?}, {} objects",
                objects.len()
            )),
        }
        // 0.2.1: the kind in one buffer decodes to the same objects.
        match snapshot::objects_packed(KIND)
            .map(|b| postcard::from_bytes::<Vec<snapshot::Object>>(&b))
        {
            Ok(Ok(p)) if format!("{p:?}") == format!("{objects:?}") => {}
            Ok(Ok(p)) => wrong.push(format!(
                "objects-packed has {} objects unlike objects()",
                p.len()
            )),
            Ok(Err(e)) => wrong.push(format!("objects-packed does not decode: {e}")),
            Err(u) => wrong.push(format!("objects-packed refused: {}", u.detail)),
        }
        if !matches!(
            snapshot::objects_packed("ConfigMap"),
            Err(u) if u.reason == UnavailableReason::NotDeclared
        ) {
            wrong.push("objects-packed read an undeclared kind".into());
        }
        match snapshot::access("ConfigMap") {
            Err(u) if u.reason == UnavailableReason::NotDeclared => {}
            other => wrong.push(format!(
                "access(ConfigMap) undeclared = {:?}",
                other.map_err(|u| u.reason)
            )),
        }
        if snapshot::objects_in("ConfigMap", "default").is_ok()
            || snapshot::find_object("ConfigMap", "default", "x").is_ok()
        {
            wrong.push("an undeclared kind was readable by namespace or name".into());
        }
        for o in &objects {
            let t = &o.target;
            let in_ns = snapshot::objects_in(KIND, &t.namespace).map_err(|u| u.detail)?;
            let expected = objects
                .iter()
                .filter(|x| x.target.namespace == t.namespace)
                .count();
            if in_ns.len() != expected || !in_ns.iter().any(|x| same(&x.target, t)) {
                wrong.push(format!(
                    "objects-in({}) has {} of {expected}",
                    t.namespace,
                    in_ns.len()
                ));
            }
            match snapshot::find_object(KIND, &t.namespace, &t.name) {
                Ok(Some(x)) if same(&x.target, t) && x.json == o.json => {}
                other => wrong.push(format!(
                    "object({}/{}) = {:?}",
                    t.namespace,
                    t.name,
                    other
                        .map(|x| x.map(|x| x.target.name))
                        .map_err(|u| u.detail)
                )),
            }
        }
        if !matches!(
            snapshot::find_object(KIND, "default", "no-such-policy"),
            Ok(None)
        ) {
            wrong.push("object(no-such-policy) is not none".into());
        }
        let mut out = vec![finding(
            "QUERIES-001",
            format!(
                "compared workloads={} policies={} istio-components={} objects={}",
                workloads.len(),
                policies.len(),
                components.len(),
                objects.len()
            ),
        )];
        out.extend(
            wrong
                .into_iter()
                .take(50)
                .map(|w| finding("QUERIES-001", format!("disagreement: {w}"))),
        );
        Ok(out)
    }
}

export!(Queries);
