#!/usr/bin/env node
'use strict';
// Entry point. The sentry (ts/, compiled by `npm install`) is loaded from its bundle (the main
// file, plus chunks loaded on first use: scripts/bundle.mjs), each file with a V8 code cache
// beside it, written after the first run: start-up is a benchmark, and compiling a hundred
// modules anew each time costs more than the sandbox's own set-up.
// Without the bundle (a tsc-only build), the modules are loaded one by one.
const binStartMs = process.uptime() * 1000;
// libuv's thread pool, sized before its first use: reads of donated fds on file systems that
// may block take at most half of it (ts/fsimpl/gofer/slow_host_calls.ts, POOL_THREADS).
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = '8';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');

const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'tsvisor.bundle.js');

// V8 accepts cached data whose source has the same length, whatever the text: an edit that
// keeps the bundle's length would run the old code. The cache therefore starts with a stamp
// of the bundle it was made from (its mtime and size), and one that does not match is unused.
// The stamp also says whether the run that wrote it ran a sandbox: the cache holds the
// functions that run compiled, and one written by `tsvisor --help` would leave a sandbox's
// code to be compiled at every start. Such a cache is written again by the next `run`.
const KIND = process.argv[2] === 'run' ? 'run' : 'cli';

function idOf(file) {
  const st = fs.statSync(file);
  return `${st.mtimeMs}:${st.size}`;
}

function stampOf(file, kind, generation) {
  return Buffer.from(`${idOf(file)} ${kind} ${generation}\n`.padEnd(64, ' '));
}

// A cache holds what the run that wrote it compiled: one written by /bin/true lacks what a
// shell's fork, exec and wait run, which every such run then compiles anew (~10 ms of CPU for
// 200 forks of sh). So a run long enough that serializing is cheap beside it (GROW_CPU_MS of
// the sentry's CPU) writes the cache again if it has grown by GROW_RATIO, up to
// MAX_GENERATIONS times per bundle: the cache comes to hold what the programs run here use.
const GROW_CPU_MS = 150;
const GROW_RATIO = 1.02;
const MAX_GENERATIONS = 8;

// Scripts run from a file whose code cache is to be written at exit (always), or may be
// (grow: written if the run was long and compiled more).
const toCache = [];

/** Runs one file of the bundle (the main file or a chunk) with its code cache; returns its
 *  module.exports. */
function runScript(file, require, kind) {
  // latin1, not utf8: esbuild writes string literals ASCII-only, so a non-ASCII byte can only
  // sit in a comment, and one such byte read as UTF-8 would make V8 hold the whole 1.7 MB
  // source (twice: the text and the wrapped text) as a two-byte string, 7 MB of heap.
  const source = fs.readFileSync(file, 'latin1');
  const cache = readCache(file);
  const script = compile(file, source, cache?.data);
  // A cache from a run without a sandbox is replaced by one from a run with one.
  if (cache?.kind === 'cli' && kind === 'run') script.usedCache = false;
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, file, dist, performanceStandIn);
  // The script is kept only if a cache may be written from it (the cached data it was given
  // is not kept with it: V8 copies what it needs while compiling).
  if (!script.usedCache) toCache.push({ script, file, kind, generation: 0 });
  else if (kind === 'run' && cache.generation < MAX_GENERATIONS) {
    toCache.push({ script, file, kind, generation: cache.generation + 1, grow: cache.data.length });
  }
  return mod.exports;
}

function loadBundle() {
  const exports = runScript(bundle, bundleRequire, KIND);
  mainExports = exports;
  // Every chunk must be there now: missing, it would fail the run deep inside, at first use.
  for (const name of exports.__chunkNames ?? []) {
    if (!fs.existsSync(chunkFile(name))) {
      process.stderr.write(`tsvisor: ${chunkFile(name)} (the sentry's ${name} part) is missing: the build is incomplete, run npm run build:ts\n`);
      process.exit(125);
    }
  }
  return { main: exports.main, startupMark: exports.startupMark, saveCache: saveCaches };
}

function saveCaches() {
  const cpu = process.cpuUsage();
  const long = (cpu.user + cpu.system) / 1000 >= GROW_CPU_MS;
  for (const { script, file, kind, generation, grow } of toCache.splice(0)) {
    if (grow === undefined) writeCache(script, file, kind, generation);
    else if (long) writeCache(script, file, kind, generation, Math.ceil(grow * GROW_RATIO));
  }
}

// The chunks (scripts/bundle.mjs): what only some runs need, loaded at first use. A chunk
// requires `tsvisor-main:PATH` for a module the main file holds (its one instance of it) and
// `tsvisor-chunk:NAME` for another chunk.
let mainExports = null;
const chunks = new Map();

function chunkFile(name) {
  return path.join(dist, `tsvisor.${name}.js`);
}

function loadChunk(name) {
  let exports = chunks.get(name);
  if (exports === undefined) {
    const file = chunkFile(name);
    if (!fs.existsSync(file)) throw new Error(`tsvisor: ${file} (the sentry's ${name} part) is missing: the build is incomplete, run npm run build:ts`);
    exports = runScript(file, bundleRequire, 'run');
    chunks.set(name, exports);
  }
  return exports;
}

function mainModule(rel) {
  const m = mainExports?.__chunkImports?.[rel];
  if (m === undefined) throw new Error(`tsvisor: the main bundle does not export ${rel} (rebuild with npm run build:ts)`);
  return m;
}

// Built-in modules that code in the bundle requires at load but that a run needs only on paths
// it rarely takes: commander requires child_process (for executable subcommands, which tsvisor
// has none of), and loading it costs more than the sandbox's own set-up. Such a module comes
// as a stand-in that loads the real one on first use of any of its properties.
const LAZY_BUILTINS = new Set(['node:child_process']);

function bundleRequire(id) {
  if (id.startsWith('tsvisor-')) {
    if (id.startsWith('tsvisor-chunk:')) return loadChunk(id.slice(14));
    if (id.startsWith('tsvisor-main:')) return mainModule(id.slice(13));
  }
  return LAZY_BUILTINS.has(id) ? lazyModule(id) : require(id);
}

function lazyModule(id) {
  let real;
  const load = () => (real ??= require(id));
  return new Proxy({}, {
    get: (_, key) => load()[key],
    has: (_, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
}

function readCache(file) {
  try {
    const raw = fs.readFileSync(`${file}.cache`);
    const [id, kind, generation] = raw.subarray(0, 64).toString('latin1').trim().split(' ');
    if (id === idOf(file) && (kind === 'run' || kind === 'cli')) return { data: raw.subarray(64), kind, generation: Number(generation) || 0 };
  } catch { /* first run */ }
  return undefined;
}

const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, performance) {';

// What the sentry uses of node's global `performance`: now(), monotonic milliseconds (here from
// about when the process started), without the perf_hooks modules that global loads on first
// use (scripts/bundle.mjs). hrtime() is as cheap per call as performance.now().
const hrtime = process.hrtime;
const hrBase = hrtime()[0] - Math.floor(process.uptime());
const performanceStandIn = Object.freeze({
  now() {
    const t = hrtime();
    return (t[0] - hrBase) * 1e3 + t[1] / 1e6;
  },
});

function compile(file, source, cachedData) {
  // The build wraps the bundle in this function itself (esbuild --banner/--footer), so that
  // no second copy of the 1.2 MB source is made here; an older bundle is wrapped now.
  const wrapped = source.startsWith(WRAPPER_HEAD) ? source : `${WRAPPER_HEAD}${source}\n})`;
  const script = new vm.Script(wrapped, { filename: file, cachedData });
  script.usedCache = cachedData !== undefined && !script.cachedDataRejected;
  return script;
}

/** Writes script's code cache; with atLeast, only if the cache has that many bytes. */
function writeCache(script, file, kind, generation, atLeast = 0) {
  try {
    const data = script.createCachedData();
    if (data.length < atLeast) return;
    const cacheFile = `${file}.cache`;
    const tmp = `${cacheFile}.${process.pid}`;
    fs.writeFileSync(tmp, Buffer.concat([stampOf(file, kind, generation), data]));
    fs.renameSync(tmp, cacheFile);
  } catch { /* a read-only install just starts slower */ }
}

// A bundle older than the modules is stale (tsc ran without esbuild): use the modules then.
function bundleFresh() {
  try {
    return fs.statSync(bundle).mtimeMs >= fs.statSync(path.join(dist, 'cli', 'main.js')).mtimeMs;
  } catch {
    return false;
  }
}

const { main, startupMark, saveCache } = bundleFresh()
  ? loadBundle()
  : { ...require('../dist/cli/main.js'), saveCache: () => {} };
// TSVISOR_TRACE_STARTUP=1 (ts/sandbox/startup_trace.ts) starts with node's own start-up.
startupMark('node started', binStartMs);
startupMark('sentry loaded');

main(process.argv).then(
  (status) => {
    saveCache();
    // Let stdout/stderr drain before leaving with the program's status.
    process.exitCode = status;
    setImmediate(() => process.exit(status));
  },
  (e) => {
    process.stderr.write(`tsvisor: ${e && e.stack ? e.stack : e}\n`);
    process.exit(125);
  },
);
