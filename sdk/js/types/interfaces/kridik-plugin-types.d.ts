/** @module Interface kridik:plugin/types@0.2.0 **/
/**
 * # Variants
 * 
 * ## `"info"`
 * 
 * ## `"low"`
 * 
 * ## `"medium"`
 * 
 * ## `"high"`
 * 
 * ## `"critical"`
 */
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
/**
 * How well a statement is supported by the snapshot.
 * verified: the snapshot proves it (a running pod, a live object);
 * inferred: it follows from configuration intent (e.g. a namespace label);
 * unknown: something needed could not be read.
 * # Variants
 * 
 * ## `"verified"`
 * 
 * ## `"inferred"`
 * 
 * ## `"unknown"`
 */
export type Confidence = 'verified' | 'inferred' | 'unknown';
/**
 * A Kubernetes object, and where it came from when it was read from a file.
 */
export interface ObjectRef {
  apiVersion: string,
  kind: string,
  /**
   * Empty for cluster-scoped objects.
   */
  namespace: string,
  name: string,
  file?: string,
  line?: number,
}
export interface Evidence {
  label: Confidence,
  /**
   * The object the evidence comes from, when there is one.
   */
  source?: ObjectRef,
  detail: string,
}
export interface Remediation {
  summary: string,
  /**
   * Hardened YAML that fixes the named object, ready to `kubectl apply`.
   */
  yaml?: string,
}
export interface Finding {
  checkId: string,
  severity: Severity,
  confidence: Confidence,
  title: string,
  message: string,
  /**
   * The object the finding is about (the root cause, not a symptom).
   */
  object: ObjectRef,
  evidence: Array<Evidence>,
  remediation?: Remediation,
  references: Array<string>,
}
export interface CheckInfo {
  /**
   * Stable id, e.g. `IST-MTLS-001`.
   */
  id: string,
  title: string,
  description: string,
  defaultSeverity: Severity,
  category: string,
  /**
   * Snapshot kinds the check reads: `Kind` for the core group, `group/Kind`
   * otherwise (`security.istio.io/AuthorizationPolicy`). The host hands a
   * check nothing else.
   */
  kinds: Array<string>,
}
