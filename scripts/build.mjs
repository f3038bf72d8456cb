// `npm run build`: bundles the caracal-migrate CLI into one CommonJS file for Node 20 (dist/caracal-migrate.cjs),
// the file the migration Job's hook chart carries. Heavy parsers stay out: the Job only applies migrations.
// Usage: node scripts/build.mjs [--outfile PATH]
import { build } from 'esbuild';
import { readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--outfile');
const outfile = path.resolve(at >= 0 ? args[at + 1] : path.join(root, 'dist', 'caracal-migrate.cjs'));

/** Modules that must never be in the Job bundle (loaded only by commands the Job does not run). */
const FORBIDDEN = ['libpg-query', '@libpg-query', '@pgsql/'];

/**
 * pg asks "is this Cloudflare Workers?" by constructing a `Response`, which on Node 20 loads undici, http and
 * http2 (~30 ms of a no-op run). The bundle only ever runs on Node: answer no at build time.
 */
const nodeOnlyPg = {
  name: 'pg-node-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = readFileSync(args.path, 'utf8');
      const patched = source.replace(/function isCloudflareRuntime\(\) \{/, 'function isCloudflareRuntime() {\n  return false;');
      if (patched === source) throw new Error('pg/lib/stream.js changed: isCloudflareRuntime() not found; revisit the pg-node-only patch');
      return { contents: patched, loader: 'js' };
    });
  },
};

const tmp = `${outfile}.${process.pid}.tmp`;
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/entry.ts'],
  outfile: tmp,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: !args.includes('--no-minify'),
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: '#!/usr/bin/env node' },
  // pg's optional native binding is never used; heavy parsers are left out on purpose.
  external: ['pg-native', ...FORBIDDEN.map((m) => (m.endsWith('/') ? `${m}*` : m))],
  plugins: [nodeOnlyPg],
});
const text = readFileSync(tmp, 'utf8');
// A lazy require("libpg-query") of `validate` may stay (it fails only if validate runs in the Job); the parser's
// code itself must not be inside.
const PARSER_CODE = ['wasm_parse_query', 'libpg-query.wasm', 'pg_query_parse'];
const found = PARSER_CODE.filter((m) => text.includes(m));
if (found.length > 0) {
  console.error(
    `build: the Job bundle must not contain the SQL parser (found ${found.join(', ')}); keep it behind a lazily required subcommand whose parser import is external`,
  );
  process.exit(1);
}
renameSync(tmp, outfile);
if (!args.includes('--quiet')) {
  console.log(`built ${path.relative(process.cwd(), outfile)} (${Math.round(statSync(outfile).size / 1024)} KiB)`);
}
