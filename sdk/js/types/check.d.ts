// world kridik:plugin/check@0.2.0
export type * as KridikPluginMesh020 from './interfaces/kridik-plugin-mesh.js'; // import kridik:plugin/mesh@0.2.0
export type * as KridikPluginSnapshot020 from './interfaces/kridik-plugin-snapshot.js'; // import kridik:plugin/snapshot@0.2.0
export type * as KridikPluginTypes020 from './interfaces/kridik-plugin-types.js'; // import kridik:plugin/types@0.2.0
export * as checks from './interfaces/kridik-plugin-checks.js'; // export kridik:plugin/checks@0.2.0
