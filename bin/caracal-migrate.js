#!/usr/bin/env node
// caracal-migrate: runs the built bundle (dist/caracal-migrate.cjs, what the migration Job runs) when it exists
// and is newer than the sources, otherwise the TypeScript sources through tsx (no build needed to develop).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const bundle = path.join(root, 'dist', 'caracal-migrate.cjs');
// Everything the bundle may hold (the CLI loads verify/validate/provision from src/ too, and src/ imports common/).
const sourceDirs = [path.join(root, 'src'), path.join(root, 'common')];

function newestSourceMtime() {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  sourceDirs.forEach(walk);
  return newest;
}

function useBundle() {
  if (process.env.CARACAL_MIGRATE_FROM_SOURCE === '1') return false;
  let built;
  try {
    built = fs.statSync(bundle).mtimeMs;
  } catch {
    return false;
  }
  return built >= newestSourceMtime(); // sources absent (the Job image) count as older
}

if (useBundle()) {
  require(bundle).main(process.argv.slice(2));
} else {
  require('tsx/cjs');
  require(path.join(root, 'src', 'cli', 'entry.ts')).main(process.argv.slice(2));
}
