/** @module Interface kridik:plugin/snapshot@0.2.0 **/
/**
 * Where the snapshot came from. Offline, a kind absent from the files is
 * an empty list; only a live scan can prove that something does not exist.
 */
export function source(): SourceKind;
/**
 * All objects of a declared kind (`Kind` or `group/Kind`).
 */
export function objects(kind: string): Array<Object>;
/**
 * Whether this check may read `kind` and how many objects it holds,
 * without copying them: an SDK keeps one copy of a kind for all the
 * checks of its component and still answers each check only with what
 * that check declared.
 */
export function access(kind: string): number;
/**
 * The objects of a declared kind in one namespace (`""`: cluster-scoped).
 */
export function objectsIn(kind: string, namespace: string): Array<Object>;
/**
 * One object of a declared kind by namespace (`""` when cluster-scoped) and name.
 */
export function findObject(kind: string, namespace: string, name: string): Object | undefined;
/**
 * Declared kinds that could not be read, so a check can say UNKNOWN instead of guessing.
 */
export function unavailableKinds(): Array<Unavailable>;
export type ObjectRef = import('./kridik-plugin-types.js').ObjectRef;
export interface Object {
  target: ObjectRef,
  uid: string,
  labels: Array<[string, string]>,
  annotations: Array<[string, string]>,
  /**
   * RFC 3339, when known.
   */
  creationTimestamp?: string,
  /**
   * The whole object as JSON (managedFields and the last-applied annotation removed).
   */
  json: string,
}
/**
 * # Variants
 * 
 * ## `"forbidden"`
 * 
 * The API server refused to list it (RBAC).
 * ## `"not-installed"`
 * 
 * The API group or kind is not served by the cluster.
 * ## `"not-declared"`
 * 
 * The check did not declare this kind in its check-info.
 * ## `"failed"`
 * 
 * Listing failed for another reason (see detail).
 */
export type UnavailableReason = 'forbidden' | 'not-installed' | 'not-declared' | 'failed';
export interface Unavailable {
  kind: string,
  reason: UnavailableReason,
  detail: string,
}
/**
 * # Variants
 * 
 * ## `"live"`
 * 
 * ## `"offline"`
 */
export type SourceKind = 'live' | 'offline';
