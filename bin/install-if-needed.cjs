#!/usr/bin/env node
'use strict';
/*
 * Run before `npm start` and `npm test` (their pre-scripts), so that a fresh clone needs no `npm install`:
 * installs the dependencies when node_modules is missing (`npm ci`, exactly the lock) or no longer matches
 * package-lock.json (`npm install`, which also takes in a changed package.json). Otherwise it does nothing.
 *
 * Plain CommonJS with nothing but Node's own modules: on a fresh machine it runs on whatever `node` is there
 * (Node 20 will do), before the project's own Node 22 (the node@22 devDependency) exists.
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

function readJson(root, file) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why the installed dependencies are not those of package.json and package-lock.json, or undefined. */
function staleness(root) {
  const manifest = readJson(root, 'package.json');
  const lock = readJson(root, 'package-lock.json');
  // npm writes this record of what it installed after every install.
  const installed = readJson(root, 'node_modules/.package-lock.json');
  if (!installed) return 'node_modules is missing';
  if (!lock) return 'package-lock.json is missing';
  const locked = lock.packages || {};
  const wanted = locked[''] || {};
  for (const field of ['dependencies', 'devDependencies']) {
    if (JSON.stringify(manifest?.[field] || {}) !== JSON.stringify(wanted[field] || {}))
      return `package.json's ${field} changed since package-lock.json`;
  }
  const present = installed.packages || {};
  for (const [name, entry] of Object.entries(locked)) {
    if (name === '') continue;
    // Optional packages for other platforms (esbuild's, for one) are locked but never installed.
    if (!present[name]) {
      if (!entry.optional) return `${name} is not installed`;
    } else if (present[name].version !== entry.version) {
      return `${name} is ${present[name].version}, package-lock.json wants ${entry.version}`;
    }
  }
  for (const name of Object.keys(present)) if (!locked[name]) return `${name} is installed but not in package-lock.json`;
  return undefined;
}

function main(root) {
  const reason = staleness(root);
  if (reason === undefined) return 0;
  const fresh = !fs.existsSync(path.join(root, 'node_modules'));
  const args = fresh ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  process.stdout.write(`${reason}: npm ${args[0]} (once; node ${process.version})\n`);
  const npm = process.env.npm_execpath;
  // Under npm, the npm that runs this script; run by hand, the npm on PATH.
  const result = npm?.endsWith('.js')
    ? spawnSync(process.execPath, [npm, ...args], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`could not run npm: ${result.error.message}\n`);
    return 1;
  }
  return result.status === null ? 1 : result.status;
}

if (require.main === module) process.exit(main(path.resolve(__dirname, '..')));

module.exports = { staleness };
