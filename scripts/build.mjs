// The production build: the server bundled into dist/main.mjs with the packages it loads at
// start (Fastify, pino, undici, prom-client, TypeBox, yaml, ...), so starting is reading one file
// rather than resolving, reading and compiling hundreds of small modules one by one. What stays
// in node_modules: native packages (better-sqlite3), and what is loaded only on demand (the
// PostgreSQL driver, nodemailer, the Elasticsearch client, the rate limiter, Swagger UI, which
// serves files from its own folder). The PostgreSQL engine is a chunk of its own, and the
// embedded store's writer thread an entry of its own.
//
// `node scripts/build.mjs [outdir]`: dist by default. An outdir must sit inside the project, so
// that the packages left in node_modules resolve from it.
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const EXTERNAL = new Set([
  'better-sqlite3',
  'pg',
  'nodemailer',
  '@elastic/elasticsearch',
  '@fastify/rate-limit',
  '@fastify/swagger',
  '@fastify/swagger-ui',
]);
const unknown = [...EXTERNAL].filter((name) => !(name in pkg.dependencies));
if (unknown.length > 0) throw new Error(`not a dependency: ${unknown.join(', ')}`);
const external = [...EXTERNAL, ...[...EXTERNAL].map((name) => `${name}/*`)];

const outdir = process.argv[2] ?? 'dist';
// Chunks are named by content: what an earlier build left would only pile up.
rmSync(outdir, { recursive: true, force: true });

await build({
  // The store's writer thread is loaded by path, beside main.mjs, as it is beside sqlite.ts.
  entryPoints: { main: 'src/main.ts', 'sqlite-writer': 'src/store/sqlite-writer.mjs' },
  outdir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Bundled CommonJS packages call require(); in an ES module it has to be made.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  external,
  sourcemap: 'external',
  logLevel: 'warning',
});
