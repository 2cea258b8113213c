// world kridik:plugin/check@0.1.0
export type * as KridikPluginMesh010 from './interfaces/kridik-plugin-mesh.js'; // import kridik:plugin/mesh@0.1.0
export type * as KridikPluginSnapshot010 from './interfaces/kridik-plugin-snapshot.js'; // import kridik:plugin/snapshot@0.1.0
export type * as KridikPluginTypes010 from './interfaces/kridik-plugin-types.js'; // import kridik:plugin/types@0.1.0
export * as checks from './interfaces/kridik-plugin-checks.js'; // export kridik:plugin/checks@0.1.0
