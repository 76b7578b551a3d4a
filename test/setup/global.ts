// vitest global setup: runs once before any test file.
//  1. Compiles every test/fixtures/*.c into test/fixtures/bin/NAME with `gcc -static -O1`,
//     only when the binary is missing or older than its source.
//  2. Rebuilds the TypeScript sentry (tsc) when a file under ts/ is newer than dist/, so that
//     `npm test` after an edit never runs stale JavaScript. The native addon is built by
//     `npm install` (npm run build:native); a missing addon is reported, not built here.
//  3. Finds the platforms that work here (helpers/platforms.ts), once for every test file.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { detectPlatforms, warnLeftOut } from '../helpers/platforms';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = path.join(root, 'test', 'fixtures');
const binDir = path.join(fixtures, 'bin');

function mtime(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

function newestUnder(dir: string, ext: string): number {
  let newest = -1;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(p, ext));
    else if (entry.name.endsWith(ext)) newest = Math.max(newest, mtime(p));
  }
  return newest;
}

async function compileFixtures(): Promise<void> {
  mkdirSync(binDir, { recursive: true });
  const sources = readdirSync(fixtures).filter((f) => f.endsWith('.c'));
  const failures: string[] = [];
  // Two at a time: the machines have two cores.
  const queue = [...sources];
  const worker = async (): Promise<void> => {
    for (let src = queue.shift(); src !== undefined; src = queue.shift()) {
      const name = src.slice(0, -2);
      const out = path.join(binDir, name);
      if (mtime(out) >= mtime(path.join(fixtures, src))) continue;
      try {
        await run('gcc', ['-static', '-O1', '-o', out, src], { cwd: fixtures });
      } catch (e) {
        const err = e as { stderr?: string; message: string };
        failures.push(`${src}: ${err.stderr || err.message}`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  if (failures.length > 0) {
    throw new Error(
      `compiling test fixtures failed (gcc and libc6-dev are needed: apt-get install gcc libc6-dev)\n` +
        failures.join('\n'),
    );
  }
}

async function buildSentryIfStale(): Promise<void> {
  const newestTs = newestUnder(path.join(root, 'ts'), '.ts');
  const main = path.join(root, 'dist', 'cli', 'main.js');
  const built = newestUnder(path.join(root, 'dist'), '.js');
  if (newestTs < 0) return;
  if (existsSync(main) && built >= newestTs) return;
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    console.warn('[tsvisor tests] dist/ is stale or missing and typescript is not installed: run npm install');
    return;
  }
  console.warn('[tsvisor tests] ts/ is newer than dist/: rebuilding the sentry with tsc');
  try {
    await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root });
  } catch (e) {
    // tsc still emits JavaScript on type errors; the tests then show what is broken.
    const err = e as { stdout?: string; message: string };
    console.warn(`[tsvisor tests] tsc reported errors:\n${err.stdout || err.message}`);
  }
  // The CLI prefers the one-file bundle when it is not older than dist/: rebuild it too.
  if (existsSync(path.join(root, 'node_modules', 'esbuild'))) {
    // As package.json's build:ts does: the main file and its chunks (scripts/bundle.mjs).
    await run(process.execPath, [path.join(root, 'scripts', 'bundle.mjs')], { cwd: root });
  }
}

export default async function setup(): Promise<void> {
  await Promise.all([compileFixtures(), buildSentryIfStale()]);
  if (!existsSync(path.join(root, 'build', 'tsvisor.node'))) {
    console.warn('[tsvisor tests] build/tsvisor.node is missing: run `npm install` (or npm run build:native)');
  }
  // Once for the whole run (the test files' workers inherit the answer through the environment).
  if (process.env.TSVISOR_PLATFORMS === undefined) {
    const { usable, leftOut } = detectPlatforms();
    warnLeftOut(leftOut);
    process.env.TSVISOR_DEFAULT_PLATFORMS = usable.join(',');
  }
}
