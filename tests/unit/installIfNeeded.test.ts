/** When `npm start` and `npm test` install the dependencies first (bin/install-if-needed.cjs). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const { staleness } = require('../../bin/install-if-needed.cjs') as { staleness: (root: string) => string | undefined };

const MANIFEST = { name: 'x', dependencies: { ssh2: '^1.17.0' }, devDependencies: { esbuild: '^0.28.2' } };
const LOCKED = {
  '': { name: 'x', dependencies: MANIFEST.dependencies, devDependencies: MANIFEST.devDependencies },
  'node_modules/ssh2': { version: '1.17.0' },
  'node_modules/esbuild': { version: '0.28.2', dev: true },
  'node_modules/@esbuild/darwin-arm64': { version: '0.28.2', dev: true, optional: true },
};
const INSTALLED = { 'node_modules/ssh2': { version: '1.17.0' }, 'node_modules/esbuild': { version: '0.28.2', dev: true } };

/** A checkout with this package.json, package-lock.json and record of installed packages (none: no node_modules). */
function checkout(manifest: object, locked: object, installed?: object): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'calms-install-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: locked }));
  if (installed) {
    fs.mkdirSync(path.join(root, 'node_modules'));
    fs.writeFileSync(path.join(root, 'node_modules/.package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: installed }));
  }
  return root;
}

describe('staleness', () => {
  test('nothing to do when what is installed is what the lock says, optional packages of other platforms aside', () => {
    expect(staleness(checkout(MANIFEST, LOCKED, INSTALLED))).toBeUndefined();
  });

  test('a fresh clone: node_modules is missing', () => {
    expect(staleness(checkout(MANIFEST, LOCKED))).toBe('node_modules is missing');
  });

  test('a pull that changed the lock: an installed version differs, a package is missing, one is no longer locked', () => {
    expect(staleness(checkout(MANIFEST, LOCKED, { ...INSTALLED, 'node_modules/ssh2': { version: '1.16.0' } }))).toBe(
      'node_modules/ssh2 is 1.16.0, package-lock.json wants 1.17.0',
    );
    expect(staleness(checkout(MANIFEST, LOCKED, { 'node_modules/ssh2': { version: '1.17.0' } }))).toBe('node_modules/esbuild is not installed');
    expect(staleness(checkout(MANIFEST, LOCKED, { ...INSTALLED, 'node_modules/left-pad': { version: '1.3.0' } }))).toBe(
      'node_modules/left-pad is installed but not in package-lock.json',
    );
  });

  test('package.json changed without the lock', () => {
    const edited = { ...MANIFEST, dependencies: { ...MANIFEST.dependencies, nodemailer: '^8.0.9' } };
    expect(staleness(checkout(edited, LOCKED, INSTALLED))).toBe("package.json's dependencies changed since package-lock.json");
  });
});
