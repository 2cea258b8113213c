/** @module Interface kridik:plugin/checks@0.2.0 **/
/**
 * The checks this component contains.
 */
export function describe(): Array<CheckInfo>;
/**
 * Run one check. An error string is reported as status `error` for that check.
 */
export function run(checkId: string): Array<Finding>;
export type CheckInfo = import('./kridik-plugin-types.js').CheckInfo;
export type Finding = import('./kridik-plugin-types.js').Finding;
