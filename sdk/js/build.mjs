#!/usr/bin/env node
// Builds a kridik check component from an ES module:
//   node sdk/js/build.mjs mycheck.js mycheck.wasm
// The module exports `checks` (see kridik.js `exportChecks`). The component
// gets no WASI features: checks read only the snapshot and the mesh model.
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const [source, output] = process.argv.slice(2);
if (!source || !output) {
  console.error('usage: node build.mjs CHECK.js OUT.wasm');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
try {
  const { component } = await componentize({
    sourcePath: source,
    witPath: path.join(here, '../../wit/v0.2.0'),
    worldName: 'check',
    disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
  });
  await writeFile(output, component);
  console.log(`built ${output} (${component.length} bytes)`);
} catch (e) {
  console.error(`kridik-js-build: ${source}: ${e.message ?? e}`);
  process.exit(1);
}
