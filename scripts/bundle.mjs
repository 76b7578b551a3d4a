// Bundles the sentry (ts/) for bin/tsvisor.js: one main file, dist/tsvisor.bundle.js, with what
// every run needs, and a few chunks, dist/tsvisor.NAME.js, with what only some runs need
// (strace, seccomp filters, ...), each loaded on first use with its own V8 code cache. Start-up
// pays to read, deserialize and run the top level of what it loads; a run that never traces
// never pays for the tracer (issue 10).
//
// How a chunk is cut out: its entry module is reached from the rest of the sentry only through
// a lazy `require('./that/module')` (e.g. ts/strace/load.ts); here that require becomes an
// external `tsvisor-chunk:NAME` that the bin resolves by loading the chunk. The chunk is bundled
// on its own, and every module it imports that the main file already holds becomes an external
// `tsvisor-main:PATH`, resolved to the main file's own instance of that module (its namespace,
// exported by the main file under __chunkImports), so that no module exists twice.
// Under tsc alone (no bundle) those requires are plain module loads.
//
// Usage: node scripts/bundle.mjs [--metafile]   (from the package root; writes dist/)

import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dist = path.join(root, 'dist');

/** The chunks: name -> entry module (relative to the root, without .ts). A static import of an entry
 *  from outside its chunk is a build error. */
export const CHUNKS = {
  strace: 'ts/strace/strace',
  rare: 'ts/syscalls/linux/rare',
  cli: 'ts/cli/commander_cli',
  compat32: 'ts/syscalls/linux/compat32',
};

// The wrapper the bin calls each file with. `performance` is a parameter: the bin hands in a
// stand-in whose now() is process.uptime() in ms — the same clock — because node's global
// loads perf_hooks on first use, ~1.5 ms of every start-up for the one method the sentry uses.
const WRAP = {
  banner: { js: '(function (exports, require, module, __filename, __dirname, performance) {' },
  footer: { js: '})' },
};

const common = {
  bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', metafile: true,
  absWorkingDir: root, ...WRAP,
};

const chunkOfFile = new Map(Object.entries(CHUNKS).map(([name, entry]) => [path.join(root, `${entry}.ts`), name]));

/** Resolves a relative import of a .ts file the way esbuild would (file.ts or dir/index.ts). */
function resolveTs(resolveDir, spec) {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(resolveDir, spec);
  for (const f of [`${base}.ts`, path.join(base, 'index.ts'), base]) if (f.endsWith('.ts') && fs.existsSync(f)) return f;
  return null;
}

/** In the main file: a require of a chunk's entry loads the chunk. A static import of it is a
 *  build error: it would put the chunk back into every start-up. */
const cutChunks = {
  name: 'tsvisor-cut-chunks',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      const file = resolveTs(args.resolveDir, args.path);
      const name = file && chunkOfFile.get(file);
      if (!name) return undefined;
      if (args.kind !== 'require-call') {
        return { errors: [{ text: `${path.relative(root, args.importer)} imports the ${name} chunk statically: load it with a lazy require (see scripts/bundle.mjs)` }] };
      }
      return { path: `tsvisor-chunk:${name}`, external: true };
    });
  },
};

/** In a chunk: what the main file holds comes from it. */
function shareMain(mainFiles, used) {
  return {
    name: 'tsvisor-share-main',
    setup(build) {
      build.onResolve({ filter: /^\./ }, (args) => {
        const file = resolveTs(args.resolveDir, args.path);
        if (!file) return undefined;
        const rel = path.relative(root, file);
        if (chunkOfFile.has(file) && args.kind === 'require-call') return { path: `tsvisor-chunk:${chunkOfFile.get(file)}`, external: true };
        if (!mainFiles.has(rel)) return undefined;
        used.add(rel);
        return { path: `tsvisor-main:${rel}`, external: true };
      });
    },
  };
}

function inputsOf(result) {
  return new Set(Object.keys(result.metafile.inputs));
}

/** The main file's entry: the CLI, plus what the chunks import from it — only the names they
 *  use (a whole namespace would keep every export of a module alive, tree-shaking lost), as
 *  getters so that they stay live bindings. */
function mainEntry(shared) {
  const lines = [`export * from './ts/cli/main';`];
  const entries = [];
  [...shared.keys()].sort().forEach((rel, i) => {
    const from = `'./${rel.replace(/\.ts$/, '')}'`;
    const names = shared.get(rel);
    if (names === '*') {
      lines.push(`import * as m${i} from ${from};`);
      entries.push(`  ${JSON.stringify(rel)}: m${i},`);
      return;
    }
    const sorted = [...names].sort();
    lines.push(`import { ${sorted.map((n, j) => `${n} as m${i}_${j}`).join(', ')} } from ${from};`);
    entries.push(`  ${JSON.stringify(rel)}: { ${sorted.map((n, j) => `get ${n}() { return m${i}_${j}; }`).join(', ')} },`);
  });
  lines.push(`export const __chunkImports = {\n${entries.join('\n')}\n};`);
  // The bin checks at start that every chunk is there: a missing one is a clear error then,
  // not a failure deep inside the run that first needs it.
  lines.push(`export const __chunkNames = ${JSON.stringify(Object.keys(CHUNKS))};`);
  return { contents: lines.join('\n') + '\n', resolveDir: root, sourcefile: 'tsvisor-main-entry.ts', loader: 'ts' };
}

/** The names a chunk imports from each main module, read from an ES-module build of it, whose
 *  imports of externals esbuild writes as `import { a, b as c } from "tsvisor-main:PATH"`. A
 *  namespace import (`import * as ns`) counts as the names read as `ns.name`; one used any
 *  other way (passed on, indexed) needs the whole namespace ('*'). */
function importedNames(esmText, into) {
  const re = /^import\s+(?:\*\s+as\s+(\w+)|\{([^}]*)\}|(\w+))\s+from\s+"tsvisor-main:([^"]+)";$/gm;
  const body = esmText.replace(re, '');
  for (const m of esmText.matchAll(re)) {
    const rel = m[4];
    let names;
    if (m[1]) {
      const ns = m[1];
      const uses = [...body.matchAll(new RegExp(`\\b${ns}\\b(\\.[A-Za-z_$][\\w$]*)?`, 'g'))];
      names = uses.every((u) => u[1]) ? uses.map((u) => u[1].slice(1)) : '*';
    } else if (m[3]) {
      names = '*';
    } else {
      names = m[2].split(',').map((x) => x.trim()).filter(Boolean).map((spec) => spec.split(/\s+as\s+/)[0]);
    }
    const had = into.get(rel);
    if (names === '*' || had === '*') { into.set(rel, '*'); continue; }
    const set = had ?? new Set();
    for (const n of names) set.add(n);
    into.set(rel, set);
  }
}

async function buildMain(shared, write) {
  return esbuild.build({ ...common, stdin: mainEntry(shared), outfile: path.join(dist, 'tsvisor.bundle.js'), write, plugins: [cutChunks] });
}

// esbuild turns every `import * as fs from 'node:fs'` into a fresh __toESM(require('node:fs')),
// a copy of the module's ~100 properties as getters: two dozen of them were ~1 ms of each
// start-up. They are read-only views of the same module, so one per module (and mode) serves
// all; this wraps the helper so (from the line after the helpers esbuild writes first).
const TO_ESM_ONCE = `__toESM = ((toESM, made = new WeakMap()) => (mod, isNodeMode) => {
  if (mod === null || (typeof mod !== 'object' && typeof mod !== 'function')) return toESM(mod, isNodeMode);
  let views = made.get(mod);
  if (!views) made.set(mod, (views = []));
  return (views[isNodeMode ? 1 : 0] ??= toESM(mod, isNodeMode));
})(__toESM);
`;

function shareToESM(file) {
  const text = fs.readFileSync(file, 'latin1');
  const at = text.indexOf('\nvar __toESM = ');
  if (at < 0) return;
  const end = text.indexOf('\n\n', at);
  if (end < 0) throw new Error(`${file}: esbuild's helpers are not where scripts/bundle.mjs expects them`);
  fs.writeFileSync(file, `${text.slice(0, end + 1)}${TO_ESM_ONCE}${text.slice(end + 1)}`, 'latin1');
}

export async function bundle({ metafile = false } = {}) {
  // 1. What the main file holds with no chunk attached.
  const first = await buildMain(new Set(), false);
  const mainFiles = inputsOf(first);
  for (const name of Object.keys(CHUNKS)) {
    if (mainFiles.has(`${CHUNKS[name]}.ts`)) throw new Error(`chunk ${name}: ${CHUNKS[name]}.ts is still reached from the main file by a static import`);
  }
  // 2. Each chunk, importing what the main file has from it; a module two chunks share and the
  // main file lacks would exist twice, so that is an error to resolve by moving a chunk's edge.
  const shared = new Map();
  const owner = new Map();
  const chunkResults = {};
  for (const [name, entry] of Object.entries(CHUNKS)) {
    const used = new Set();
    const esm = await esbuild.build({
      ...common, ...{ banner: undefined, footer: undefined }, format: 'esm', entryPoints: [`${entry}.ts`], write: false,
      outfile: path.join(dist, `tsvisor.${name}.mjs`), plugins: [shareMain(mainFiles, used)],
    });
    importedNames(esm.outputFiles[0].text, shared);
    const r = await esbuild.build({
      ...common, entryPoints: [`${entry}.ts`], outfile: path.join(dist, `tsvisor.${name}.js`),
      plugins: [shareMain(mainFiles, used)],
    });
    for (const f of inputsOf(r)) {
      if (owner.has(f)) throw new Error(`${f} is in both the ${owner.get(f)} and ${name} chunks`);
      owner.set(f, name);
    }
    chunkResults[name] = r;
  }
  // 3. The main file again, now exporting the modules the chunks take from it.
  const main = await buildMain(shared, true);
  for (const f of [path.join(dist, 'tsvisor.bundle.js'), ...Object.keys(CHUNKS).map((n) => path.join(dist, `tsvisor.${n}.js`))]) shareToESM(f);
  if (metafile) {
    fs.writeFileSync(path.join(dist, 'tsvisor.bundle.meta.json'), JSON.stringify(main.metafile));
    for (const [name, r] of Object.entries(chunkResults)) fs.writeFileSync(path.join(dist, `tsvisor.${name}.meta.json`), JSON.stringify(r.metafile));
  }
  return { main: main.metafile, chunks: Object.fromEntries(Object.entries(chunkResults).map(([n, r]) => [n, r.metafile])) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  bundle({ metafile: process.argv.includes('--metafile') }).catch((e) => {
    console.error(e.message ?? e);
    process.exit(1);
  });
}
