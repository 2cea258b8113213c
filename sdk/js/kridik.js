// Write kridik checks in JavaScript. Mirrors the Rust SDK (sdk/rust): a check
// is a function from a Ctx to findings; exportChecks turns a list of them into
// the `checks` export of the kridik:plugin/check world.
//
//   import { info, exportChecks } from './kridik.js';
//   export const checks = exportChecks([{ info: () => info('ACME-001', ...), run: (ctx) => [] }]);
import { objects, source } from 'kridik:plugin/snapshot@0.2.0';
import * as mesh from 'kridik:plugin/mesh@0.2.0';

/** A CheckInfo; `kinds` are `Kind` (core group) or `group/Kind`. */
export function info(id, title, defaultSeverity, category, kinds, description = '') {
  return { id, title, description, defaultSeverity, category, kinds };
}

/** `Kind namespace/name`, for messages. */
export function display(ref) {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind} ${ref.name}`;
}

/** A finding under construction; `build()` gives the WIT record. */
export class Finding {
  constructor(checkId, severity, object, title) {
    this.record = {
      checkId, severity, confidence: 'inferred', title, message: '', object,
      evidence: [], remediation: undefined, references: [],
    };
  }
  message(m) { this.record.message = m; return this; }
  confidence(c) { this.record.confidence = c; return this; }
  severity(s) { this.record.severity = s; return this; }
  evidence(label, source, detail) {
    this.record.evidence.push({ label, source: source ?? undefined, detail });
    return this;
  }
  remediation(summary, yaml) {
    this.record.remediation = { summary, yaml: yaml ?? undefined };
    return this;
  }
  reference(url) { this.record.references.push(url); return this; }
  build() { return this.record; }
}

/** What a running check can see. */
export class Ctx {
  constructor(checkId) { this.checkId = checkId; }

  /** Objects of a declared kind; throws the WIT `unavailable` record when unreadable. */
  objects(kind) {
    try {
      return objects(kind);
    } catch (e) {
      throw { unavailable: e.payload ?? e };
    }
  }

  /** Live scans prove what exists; offline scans only infer from the files given. */
  observed() { return source() === 'live' ? 'verified' : 'inferred'; }

  meshConfig() { return mesh.config(); }
  workloads() { return (this._workloads ??= mesh.workloads()); }
  namespaces() { return (this._namespaces ??= mesh.namespaces()); }
  policies() { return (this._policies ??= mesh.policies()); }

  finding(severity, object, title) { return new Finding(this.checkId, severity, object, title); }

  /**
   * Objects of a declared kind with their parsed JSON, as `[{ object, body }]`;
   * when the kind is unreadable, `{ unknown }` holds the UNKNOWN finding to
   * return instead of passing or failing.
   */
  parsed(kind, what) {
    let list;
    try {
      list = this.objects(kind);
    } catch (e) {
      return { unknown: this.unknown(e.unavailable, `${what} could not be assessed`) };
    }
    return { items: list.map((object) => ({ object, body: JSON.parse(object.json) })) };
  }

  unknown(missing, title) {
    const object = { apiVersion: '', kind: missing.kind, namespace: '', name: '', file: undefined, line: undefined };
    return this.finding('info', object, title)
      .confidence('unknown')
      .message(`could not be assessed: ${missing.kind} is unavailable (${missing.reason}): ${missing.detail}`)
      .evidence('unknown', undefined, missing.detail);
  }
}

/** The `checks` export for a list of `{ info, run }`; `run(ctx)` returns Findings or records. */
export function exportChecks(list) {
  return {
    describe() { return list.map((c) => c.info()); },
    run(checkId) {
      const check = list.find((c) => c.info().id === checkId);
      if (!check) throw `no check ${checkId} in this component`;
      const found = check.run(new Ctx(checkId));
      return found.map((f) => (f instanceof Finding ? f.build() : f));
    },
  };
}
