/** @module Interface kridik:plugin/mesh@0.2.0 **/
export function config(): MeshConfig;
export function namespaces(): Array<NamespaceInfo>;
export function workloads(): Array<Workload>;
export function policies(): Array<Policy>;
/**
 * Queries (0.2): what a check needs without copying the whole model.
 * The workload with this id (`namespace/Kind/name`).
 */
export function findWorkload(id: string): Workload | undefined;
/**
 * The workloads of one namespace.
 */
export function workloadsIn(namespace: string): Array<Workload>;
/**
 * Istio's own workloads: istiod, ingress/egress/east-west gateways,
 * waypoints, ztunnel and the CNI node agent (by their labels and images).
 */
export function istioComponents(): Array<Workload>;
/**
 * The policy record of an AuthorizationPolicy, RequestAuthentication,
 * PeerAuthentication or Sidecar (matched by kind, namespace and name).
 */
export function findPolicy(target: ObjectRef): Policy | undefined;
/**
 * The policy records that apply to a workload, in the model's order.
 */
export function policiesFor(workloadId: string): Array<Policy>;
/**
 * Bulk transfer (0.2): a list of records crosses the boundary with one
 * guest allocation per string (tens of thousands per mesh); these return
 * the same lists in one buffer for SDKs that decode it in the guest.
 * Encoding: postcard's wire format 1.0 (https://postcard.jamesmunns.com/wire-format):
 * a record is its fields in order, an enum or variant its case index
 * (varint) then the payload, an option 0 or 1 then the value, a list or
 * string its length (varint) then the items or UTF-8 bytes, u32 a varint,
 * s64 a zigzag varint, bool one byte.
 * `workloads()`, encoded as above.
 */
export function workloadsPacked(): Uint8Array;
/**
 * `policies()`, encoded as above.
 */
export function policiesPacked(): Uint8Array;
export type ObjectRef = import('./kridik-plugin-types.js').ObjectRef;
export type Confidence = import('./kridik-plugin-types.js').Confidence;
/**
 * # Variants
 * 
 * ## `"unset"`
 * 
 * ## `"disable"`
 * 
 * ## `"permissive"`
 * 
 * ## `"strict"`
 */
export type MtlsMode = 'unset' | 'disable' | 'permissive' | 'strict';
/**
 * # Variants
 * 
 * ## `"none"`
 * 
 * ## `"sidecar"`
 * 
 * ## `"ambient"`
 */
export type Dataplane = 'none' | 'sidecar' | 'ambient';
export interface Enrollment {
  dataplane: Dataplane,
  /**
   * verified: a running pod carries the proxy (or is in an ambient namespace
   * with a live ztunnel); inferred: only labels say so.
   */
  confidence: Confidence,
  reason: string,
}
export interface PortMtls {
  port: number,
  mode: MtlsMode,
  decidedBy?: ObjectRef,
}
/**
 * Effective PeerAuthentication result for a workload (never `unset`:
 * with nothing set anywhere Istio uses PERMISSIVE).
 */
export interface Mtls {
  mode: MtlsMode,
  confidence: Confidence,
  /**
   * The policy that decided the mode; none when Istio's default applies.
   */
  decidedBy?: ObjectRef,
  reason: string,
  /**
   * Port-level overrides (portLevelMtls of the workload policy).
   */
  ports: Array<PortMtls>,
}
export interface Container {
  name: string,
  image: string,
  /**
   * An init container (native sidecars included).
   */
  init: boolean,
  /**
   * The container's `runAsUser`, else the pod's.
   */
  runAsUser?: bigint,
  /**
   * `securityContext.capabilities.add`.
   */
  capabilitiesAdded: Array<string>,
  /**
   * Arguments and literal `env` values, only for the containers of
   * Istio's own workloads (see `istio-components`); empty for the rest,
   * injected proxies included (their settings come from the injector;
   * the workload's own intent is in its annotations).
   */
  args: Array<string>,
  env: Array<[string, string]>,
}
export interface Workload {
  /**
   * `namespace/Kind/name`, unique in the snapshot.
   */
  id: string,
  /**
   * The controller (Deployment, StatefulSet, ...) or the bare Pod.
   */
  target: ObjectRef,
  namespace: string,
  name: string,
  serviceAccount: string,
  /**
   * SPIFFE id: `spiffe://<trust-domain>/ns/<ns>/sa/<sa>`.
   */
  identity: string,
  labels: Array<[string, string]>,
  containerPorts: Uint32Array,
  /**
   * Pod template annotations (the pod's own for a bare pod).
   */
  annotations: Array<[string, string]>,
  /**
   * Template containers, then those only the observed pods have
   * (e.g. an injected `istio-proxy` or `istio-init`).
   */
  containers: Array<Container>,
  /**
   * Pods observed for this workload (0 for manifests without pods).
   */
  pods: number,
  enrollment: Enrollment,
  mtls: Mtls,
  services: Array<ObjectRef>,
  authorizationPolicies: Array<ObjectRef>,
  requestAuthentications: Array<ObjectRef>,
  peerAuthentications: Array<ObjectRef>,
  /**
   * The waypoint enforcing L7 policy in ambient mode, from
   * `istio.io/use-waypoint` on the workload, a Service of it, or its
   * namespace; none when nothing names one.
   */
  waypoint?: string,
  /**
   * Routes that bring traffic from outside the mesh to a Service of
   * this workload: VirtualServices bound to a Gateway, and Gateway API
   * HTTPRoutes/GRPCRoutes attached to a Gateway that is not a waypoint.
   */
  ingress: Array<ObjectRef>,
}
export interface NamespaceInfo {
  name: string,
  labels: Array<[string, string]>,
  /**
   * What the namespace asks new pods to get.
   */
  enrollment: Enrollment,
  /**
   * None when the namespace is only known from the objects in it.
   */
  target?: ObjectRef,
}
/**
 * # Variants
 * 
 * ## `"none"`
 * 
 * ## `"base"`
 * 
 * ## `"merge-slashes"`
 * 
 * ## `"decode-and-merge-slashes"`
 */
export type PathNormalization = 'none' | 'base' | 'merge-slashes' | 'decode-and-merge-slashes';
export interface ExtensionProvider {
  name: string,
  /**
   * The provider type key, e.g. `envoyExtAuthzHttp`.
   */
  kind: string,
}
export interface MeshConfig {
  rootNamespace: string,
  trustDomain: string,
  pathNormalization: PathNormalization,
  /**
   * `ALLOW_ANY` (Istio's default) or `REGISTRY_ONLY`.
   */
  outboundTrafficPolicy: string,
  enableAutoMtls: boolean,
  extensionProviders: Array<ExtensionProvider>,
  /**
   * The ConfigMap or IstioOperator it was read from; none = Istio defaults.
   */
  source?: ObjectRef,
  /**
   * The mesh config as JSON, for fields the typed record does not carry.
   */
  json: string,
  /**
   * Installation settings as JSON `{"values": ..., "components": ...}`:
   * the injector's values (ConfigMap `istio-sidecar-injector`, key
   * `values`) or an IstioOperator's spec; `{}` when neither is present.
   */
  installJson: string,
  installSource?: ObjectRef,
}
/**
 * # Variants
 * 
 * ## `"mesh"`
 * 
 * ## `"namespace"`
 * 
 * ## `"workload"`
 * 
 * ## `"target-refs"`
 */
export type PolicyScope = 'mesh' | 'namespace' | 'workload' | 'target-refs';
/**
 * Where an AuthorizationPolicy, RequestAuthentication, PeerAuthentication
 * or Sidecar applies.
 */
export interface Policy {
  target: ObjectRef,
  scope: PolicyScope,
  /**
   * Ids of the workloads it applies to.
   */
  workloads: Array<string>,
  /**
   * True when a selector or targetRefs matches nothing in the snapshot.
   */
  matchesNothing: boolean,
  reason: string,
}
