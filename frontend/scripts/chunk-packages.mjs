#!/usr/bin/env node
// Bytes of each browser chunk by source file, from its source map (source-map-explorer), for
// `make bench-frontend` (webperf/firstload.py groups the files into packages).
//   node scripts/chunk-packages.mjs <chunk.js> ...   ->  {"<chunk.js>": {"<source>": bytes, ...}, ...}
// A chunk without a map is reported as {"[no source map]": bytes}.
import { readFileSync } from 'node:fs';
import { explore } from 'source-map-explorer';

const out = {};
for (const file of process.argv.slice(2)) {
  try {
    const result = await explore(file, { output: { format: 'json' }, noBorderChecks: true });
    const bundle = result.bundles[0];
    out[file] = Object.fromEntries(Object.entries(bundle.files).map(([source, { size }]) => [source, size]));
  } catch {
    out[file] = { '[no source map]': readFileSync(file).length };
  }
}
process.stdout.write(JSON.stringify(out));
