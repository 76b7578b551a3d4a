// The check behind "after start-up the sentry opens no host file": with TSVISOR_AUDIT_HOST_FS=1
// every node:fs call that names a host path (open, stat, readdir...) made once the first task
// starts is reported on stderr as "tsvisor-audit: host-fs CALL PATH". Everything the sandbox
// reads after that must come through the gofer (fd-based calls on donated fds are fine). The
// tests run programs with it and assert that no such line appears.

const PATH_CALLS = [
  'openSync', 'open', 'readFileSync', 'readFile', 'readdirSync', 'readdir', 'opendirSync', 'statSync', 'stat',
  'lstatSync', 'lstat', 'existsSync', 'accessSync', 'access', 'realpathSync', 'readlinkSync', 'statfsSync',
  'writeFileSync', 'appendFileSync', 'mkdirSync', 'unlinkSync', 'rmdirSync', 'renameSync', 'symlinkSync',
  'linkSync', 'chmodSync', 'chownSync', 'utimesSync', 'truncateSync', 'createReadStream', 'createWriteStream',
];

export const AUDIT_ENV = 'TSVISOR_AUDIT_HOST_FS';

/** From now on until the returned stop(), report every path-taking node:fs call (when
 *  TSVISOR_AUDIT_HOST_FS=1; the CLI's own code cache, written after the sandbox ends, is not
 *  the sandbox's). */
export function auditHostFsFromNowOn(): () => void {
  if (process.env[AUDIT_ENV] !== '1') return () => {};
  // The module object itself: every importer reads its functions through it.
  // (require, not an import: esbuild's import would be a copy of its properties.)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeFs = require('node:fs') as Record<string, unknown>;
  const saved = new Map<string, unknown>();
  for (const name of PATH_CALLS) {
    const orig = nodeFs[name];
    if (typeof orig !== 'function') continue;
    saved.set(name, orig);
    nodeFs[name] = function audited(this: unknown, ...args: unknown[]): unknown {
      process.stderr.write(`tsvisor-audit: host-fs ${name} ${String(args[0])}\n`);
      return (orig as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
  return () => { for (const [name, orig] of saved) nodeFs[name] = orig; };
}
