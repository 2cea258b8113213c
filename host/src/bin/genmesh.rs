//! Generates a live-like snapshot of a synthetic mesh, shaped like
//! `kubectl get -A -o yaml|json` output, for benchmarks:
//! `kridik-genmesh --workloads 10000 --namespaces 100 -o mesh.yaml`.
//! With `--naive FILE` it instead parses FILE the naive way (whole file into
//! serde_json::Value through the YAML parser) to give the bench a baseline.

use clap::Parser;
use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser)]
struct Args {
    /// Workloads (Deployments) in the mesh.
    #[arg(long, default_value_t = 1000)]
    workloads: usize,
    /// Namespaces they are spread over.
    #[arg(long, default_value_t = 10)]
    namespaces: usize,
    /// Pods per workload.
    #[arg(long, default_value_t = 3)]
    pods: usize,
    /// yaml or json.
    #[arg(long, default_value = "yaml")]
    format: String,
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Parse this file naively instead of generating.
    #[arg(long)]
    naive: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(file) = args.naive {
        let text = std::fs::read_to_string(&file)?;
        let start = std::time::Instant::now();
        let mut objects = 0usize;
        for doc in serde_norway::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc)?;
            objects += v.get("items").and_then(Value::as_array).map_or(1, Vec::len);
        }
        println!("{objects} {:.3}", start.elapsed().as_secs_f64());
        return Ok(());
    }
    let items = generate(args.workloads, args.namespaces.max(1), args.pods);
    let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
    let text = if args.format == "json" {
        serde_json::to_string_pretty(&list)?
    } else {
        serde_norway::to_string(&list)?
    };
    match args.output {
        Some(path) => std::fs::write(path, text)?,
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

fn generate(workloads: usize, namespaces: usize, pods: usize) -> Vec<Value> {
    let mut items = vec![
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
               "data": {"mesh": "trustDomain: cluster.local\nrootNamespace: istio-system\n"}}),
    ];
    for n in 0..namespaces {
        let ns = format!("team-{n:03}");
        // Every tenth namespace holds confidential data: attack-path targets.
        let mut labels = json!({"istio-injection": "enabled", "kubernetes.io/metadata.name": ns});
        if n % 10 == 0 {
            labels["data-classification"] = json!("confidential");
        }
        items.push(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": uid(n, 0), "labels": labels}}));
        // Every third namespace is still PERMISSIVE; every fourth has a default-deny.
        let mode = if n % 3 == 0 { "PERMISSIVE" } else { "STRICT" };
        items.push(json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": ns, "uid": uid(n, 1)}, "spec": {"mtls": {"mode": mode}}}));
        if n % 4 == 0 {
            items.push(
                json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                "metadata": {"name": "default-deny", "namespace": ns}, "spec": {}}),
            );
        }
    }
    for w in 0..workloads {
        let ns = format!("team-{:03}", w % namespaces);
        let app = format!("svc-{w:05}");
        let hash = format!(
            "{:010x}",
            (w as u64).wrapping_mul(2654435761) & 0xff_ffff_ffff
        );
        let labels = json!({"app": app, "version": "v1"});
        let template = pod_spec(&app, &ns);
        items.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(&app, &ns, w, 2, &labels, None),
            "spec": {"replicas": pods, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": labels}, "spec": template["spec"].clone()}},
            "status": {"replicas": pods, "readyReplicas": pods, "availableReplicas": pods, "observedGeneration": 3}}));
        let rs = format!("{app}-{hash}");
        items.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": meta(&rs, &ns, w, 3, &json!({"app": app, "pod-template-hash": hash}), Some(("Deployment", &app))),
            "spec": {"replicas": pods, "selector": {"matchLabels": {"app": app, "pod-template-hash": hash}}},
            "status": {"replicas": pods, "readyReplicas": pods}}));
        for p in 0..pods {
            let name = format!("{rs}-{p:05x}");
            let mut pod = template.clone();
            pod["metadata"] = meta(
                &name,
                &ns,
                w,
                10 + p,
                &json!({"app": app, "version": "v1", "pod-template-hash": hash, "security.istio.io/tlsMode": "istio"}),
                Some(("ReplicaSet", &rs)),
            );
            pod["status"] = json!({"phase": "Running", "podIP": format!("10.{}.{}.{}", w % 200, p, w % 250), "hostIP": "172.18.0.3",
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-01T10:00:00Z"},
                               {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-11-01T10:00:00Z"}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "ghcr.io/example/app:1.0.0", "started": true},
                                      {"name": "istio-proxy", "ready": true, "restartCount": 0, "image": "docker.io/istio/proxyv2:1.27.3", "started": true}]});
            items.push(pod);
        }
        items.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": meta(&app, &ns, w, 4, &labels, None),
            "spec": {"selector": {"app": app}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}], "type": "ClusterIP"}}));
        if w % 2 == 0 {
            let caller = format!("svc-{:05}", (w + 1) % workloads);
            let rule = if w % 10 == 0 {
                json!([{}])
            } else {
                json!([{"from": [{"source": {"principals": [format!("cluster.local/ns/{ns}/sa/{caller}")]}}],
                        "to": [{"operation": {"methods": ["GET"], "paths": ["/api/*"]}}]}])
            };
            items.push(json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                "metadata": meta(&app, &ns, w, 5, &json!({}), None),
                "spec": {"selector": {"matchLabels": {"app": app}}, "action": "ALLOW", "rules": rule}}));
        }
    }
    items
}

fn uid(a: usize, b: usize) -> String {
    format!("{:08x}-{:04x}-4000-8000-{:012x}", a, b, a * 31 + b)
}

fn meta(
    name: &str,
    ns: &str,
    w: usize,
    k: usize,
    labels: &Value,
    owner: Option<(&str, &str)>,
) -> Value {
    let mut m = json!({"name": name, "namespace": ns, "uid": uid(w, k), "resourceVersion": format!("{}", 100000 + w * 16 + k),
        "creationTimestamp": "2026-11-01T10:00:00Z", "generation": 3, "labels": labels,
        "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-01T10:00:00Z",
                           "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]});
    if let Some((kind, owner)) = owner {
        m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind, "name": owner, "uid": uid(w, 99), "controller": true, "blockOwnerDeletion": true}]);
    }
    m
}

fn pod_spec(app: &str, ns: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "spec": {
        "serviceAccountName": app, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "terminationGracePeriodSeconds": 30,
        "initContainers": [{"name": "istio-init", "image": "docker.io/istio/proxyv2:1.27.3",
            "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"],
            "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]}, "runAsUser": 0, "runAsNonRoot": false}}],
        "containers": [
            {"name": "app", "image": "ghcr.io/example/app:1.0.0", "ports": [{"containerPort": 8080, "protocol": "TCP"}],
             "env": [{"name": "SERVICE_NAME", "value": app}, {"name": "NAMESPACE", "value": ns}, {"name": "LOG_LEVEL", "value": "info"}],
             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
             "readinessProbe": {"httpGet": {"path": "/app-health/app/readyz", "port": 15020}, "periodSeconds": 10},
             "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]},
            {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.27.3",
             "args": ["proxy", "sidecar", "--domain", format!("{ns}.svc.cluster.local"), "--proxyLogLevel=warning", "--log_output_level=default:info"],
             "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
             "env": [{"name": "PILOT_CERT_PROVIDER", "value": "istiod"}, {"name": "CA_ADDR", "value": "istiod.istio-system.svc:15012"},
                     {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                     {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                     {"name": "ISTIO_META_WORKLOAD_NAME", "value": app}, {"name": "ISTIO_META_MESH_ID", "value": "cluster.local"}],
             "securityContext": {"runAsUser": 1337, "runAsGroup": 1337, "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false},
             "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}}],
        "volumes": [{"name": "workload-socket", "emptyDir": {}}, {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
                    {"name": "istio-token", "projected": {"sources": [{"serviceAccountToken": {"audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
                    {"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]}}]
    }})
}
