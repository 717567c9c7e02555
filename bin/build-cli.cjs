#!/usr/bin/env node
'use strict';
/*
 * Bundles the `calms` CLI (lib/cli/bin.ts and everything it imports) into the one file dist/calms.cjs, which
 * runs on Node 20 or later with no node_modules at all: ARC staff get it on their PATH with `npm link`, and it
 * starts in a tenth of a second instead of loading TypeScript through tsx. Run by `npm install` (prepare), by
 * `npm test` before the tests, and by the integration tests' setup, so that what they run is the current source.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUTFILE = path.join(ROOT, 'dist', 'calms.cjs');

function buildCli() {
  require('esbuild').buildSync({
    entryPoints: [path.join(ROOT, 'lib/cli/bin.ts')],
    outfile: OUTFILE,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    banner: { js: '#!/usr/bin/env node' },
    logLevel: 'warning',
  });
  fs.chmodSync(OUTFILE, 0o755);
  return OUTFILE;
}

if (require.main === module) buildCli();

module.exports = { buildCli, CLI_BUNDLE: OUTFILE };
