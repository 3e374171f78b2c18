// The production build: the server and its own modules bundled into dist/main.mjs, with what is
// loaded only on demand (the PostgreSQL engine) split into chunks of its own, and the embedded
// store's writer thread as an entry of its own. Packages stay in
// node_modules (native ones must), except TypeBox: its hundreds of small modules cost more to
// load one by one than to carry inside the bundle.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const BUNDLED = new Set(['@sinclair/typebox']);
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));

await build({
  // The store's writer thread is loaded by path, beside main.mjs, as it is beside sqlite.ts.
  entryPoints: { main: 'src/main.ts', 'sqlite-writer': 'src/store/sqlite-writer.mjs' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: [...external, ...external.map((name) => `${name}/*`)],
  sourcemap: 'external',
  logLevel: 'warning',
});
