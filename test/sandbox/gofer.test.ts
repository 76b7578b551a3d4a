// The gofer-backed file systems from the outside: --volume (writable, :ro, host changes seen,
// a make run leaving its results on the host), --rootfs with a busybox tree the test builds,
// --overlay=none, the CLI's errors, and that the sentry opens no host file once the program
// runs (TSVISOR_AUDIT_HOST_FS=1 reports any path-taking node:fs call; and the sentry's fds,
// listed while the program sleeps, hold no file the program has closed).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  busybox, cli, describeResult, fixture, haveBusybox, platforms, repoRoot, runNative, runSandbox, skipBecause,
} from '../helpers/run';

const noBusybox = skipBecause(!haveBusybox, `${busybox} not found`);
const noMake = skipBecause(!fs.existsSync('/usr/bin/make'), '/usr/bin/make not found');
let base = '';
let n = 0;
beforeAll(() => { base = fs.mkdtempSync(path.join(tmpdir(), 'tsvisor-gofer-')); });
afterAll(() => { if (base) fs.rmSync(base, { recursive: true, force: true }); });

function spawnCollect(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), 50_000);
    c.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** The program in the sandbox with cwd dir (through the root), onReady called when it prints
 *  "ready"; resolves as runSandbox does. */
function runSandboxStreaming(argv: string[], platform: string, dir: string, onReady: () => void) {
  return new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    const c = spawn(process.execPath, [cli, 'run', `--platform=${platform}`, '--cwd', dir, '--', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d: Buffer) => { stdout += d.toString(); if (stdout.includes('ready')) onReady(); });
    c.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), 50_000);
    c.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

/** tsvisor run ARGS with more variables in the sentry's own environment. */
function sentryRun(args: string[], env: Record<string, string>) {
  return spawnCollect(process.execPath, [cli, 'run', ...args], { ...process.env, ...env });
}

function freshDir(name: string): string {
  const d = path.join(base, `${name}-${n++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** A root file system with busybox and its applets as symlinks, and an /etc; with empty
 *  /proc, /sys and /dev unless mountPoints is false. */
function busyboxTree(mountPoints = true): string {
  const root = freshDir('rootfs');
  for (const d of ['bin', 'etc', 'tmp', ...(mountPoints ? ['proc', 'sys', 'dev'] : [])]) fs.mkdirSync(path.join(root, d));
  fs.copyFileSync(busybox, path.join(root, 'bin', 'busybox'));
  fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'ls', 'cat', 'echo', 'mkdir', 'rm', 'wc', 'touch']) fs.symlinkSync('busybox', path.join(root, 'bin', a));
  fs.writeFileSync(path.join(root, 'etc', 'os-release'), 'NAME="tsvisor test tree"\n');
  return root;
}

describe.each(platforms)('%s', (platform) => {
  it('file operations on a --volume are what they are natively (fixture p9)', async () => {
    const nativeDir = freshDir('native');
    const volDir = freshDir('vol');
    const native = await runNative([fixture('p9'), nativeDir], { timeoutMs: 30_000 });
    expect(native.code).toBe(0);
    // The volume is mounted at the native directory's path: the outputs can be compared.
    const r = await runSandbox([fixture('p9'), nativeDir], { platform, timeoutMs: 50_000, extraArgs: ['--volume', `${volDir}:${nativeDir}`] });
    expect(r.stdout, describeResult(r)).toBe(native.stdout);
    expect(r.code).toBe(0);
    // What the shared writable mapping wrote reached the host file.
    const mapped = fs.readFileSync(path.join(volDir, 'mapped'));
    expect(mapped.subarray(100, 106).toString()).toBe('SHARED');
    expect(mapped.equals(fs.readFileSync(path.join(nativeDir, 'mapped')))).toBe(true);
  }, 60_000);

  it.skipIf(noMake)('make in a --volume leaves its results on the host', async () => {
    const src = freshDir('src');
    fs.writeFileSync(path.join(src, 'in.txt'), 'input\n');
    fs.writeFileSync(path.join(src, 'Makefile'), 'out.txt: in.txt\n\tcat in.txt in.txt > out.txt\n\tmkdir -p build && echo built > build/stamp\n');
    const r = await runSandbox(['/bin/sh', '-c', 'make && ls -l'], { platform, timeoutMs: 50_000, extraArgs: ['--volume', `${src}:/src`, '--cwd', '/src'] });
    expect(r.code, describeResult(r)).toBe(0);
    expect(r.stdout).toMatch(/out\.txt/);
    expect(fs.readFileSync(path.join(src, 'out.txt'), 'utf8')).toBe('input\ninput\n');
    expect(fs.readFileSync(path.join(src, 'build', 'stamp'), 'utf8')).toBe('built\n');
    // Writes elsewhere still stay in the memory overlay.
    expect(fs.existsSync(path.join(src, '..', 'never'))).toBe(false);
  }, 60_000);

  it.skipIf(noBusybox)(':ro refuses writes with EROFS and reads still work', async () => {
    const d = freshDir('ro');
    fs.writeFileSync(path.join(d, 'keep'), 'kept\n');
    const script = 'cat /ro/keep; echo x > /ro/new; echo rc=$?; rm /ro/keep; echo rc=$?; mkdir /ro/d; echo rc=$?; touch /ro/keep; echo rc=$?';
    const r = await runSandbox([busybox, 'sh', '-c', script], { platform, timeoutMs: 30_000, extraArgs: ['--volume', `${d}:/ro:ro`] });
    expect(r.stdout, describeResult(r)).toBe('kept\nrc=1\nrc=1\nrc=1\nrc=1\n');
    expect(r.stderr).toMatch(/Read-only file system/);
    expect(fs.readdirSync(d)).toEqual(['keep']);
  }, 60_000);

  it.skipIf(noBusybox).each(['volume', 'root'])('a change made on the host is seen inside through the %s (file rewritten, replaced, created)', async (via) => {
    const d = freshDir('live');
    fs.writeFileSync(path.join(d, 'f'), 'old\n');
    fs.writeFileSync(path.join(d, 'g'), 'g-old\n');
    const script = 'cat f g; touch ready; i=0; while [ "$(cat f)" != new ] || [ "$(cat g)" != g-new ] || [ ! -e h ]; do i=$((i+1)); [ $i -gt 400 ] && exit 3; sleep 0.05; done; cat f g h';
    // Through the root, the directory is read-only (writes go to memory): the marker is a
    // line on stdout instead of a file.
    const rootScript = script.replace('touch ready', 'echo ready');
    let readyOnStdout = false;
    const p = via === 'volume'
      ? runSandbox([busybox, 'sh', '-c', script], { platform, timeoutMs: 50_000, extraArgs: ['--volume', `${d}:/v`, '--cwd', '/v'] })
      : runSandboxStreaming([busybox, 'sh', '-c', rootScript], platform, d, () => { readyOnStdout = true; });
    const deadline = Date.now() + 40_000;
    const isReady = (): boolean => (via === 'volume' ? fs.existsSync(path.join(d, 'ready')) : readyOnStdout);
    while (!isReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(path.join(d, 'f'), 'new\n'); // in place
    fs.writeFileSync(path.join(d, 'g.tmp'), 'g-new\n');
    fs.renameSync(path.join(d, 'g.tmp'), path.join(d, 'g')); // replaced: another inode
    fs.writeFileSync(path.join(d, 'h'), 'h\n');
    const r = await p;
    expect(r.stdout.replace('ready\n', ''), describeResult(r)).toBe('old\ng-old\nnew\ng-new\nh\n');
    expect(r.code).toBe(0);
  }, 60_000);

  it.skipIf(noBusybox)('--rootfs runs a busybox tree the test built; writes stay in memory', async () => {
    const root = busyboxTree();
    const r = await runSandbox(['/bin/sh', '-c', 'cat /etc/os-release; ls /bin | wc -l; echo x > /made; cat /made; ls /proc/self/exe'], {
      platform, timeoutMs: 30_000, extraArgs: ['--rootfs', root],
    });
    expect(r.stdout, describeResult(r)).toBe('NAME="tsvisor test tree"\n9\nx\n/proc/self/exe\n');
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(root, 'made'))).toBe(false);
    // PATH is searched in the tree, not on the host.
    const w = await runSandbox(['wc', '-c', '/etc/os-release'], { platform, timeoutMs: 30_000, extraArgs: ['--rootfs', root, '--env', 'PATH=/bin'] });
    expect(w.stdout, describeResult(w)).toBe('25 /etc/os-release\n');
  }, 60_000);

  it.skipIf(noBusybox)('--overlay=none: writes to the root reach the tree', async () => {
    const root = busyboxTree();
    const r = await runSandbox(['/bin/sh', '-c', 'echo x > /made && mkdir /tmp/dir && rm /etc/os-release && ls /proc/self/exe && ls -d /sys/class /dev/null && echo done'], {
      platform, timeoutMs: 30_000, extraArgs: ['--rootfs', root, '--overlay=none'],
    });
    // The tree's own empty /proc, /sys and /dev are the mount points.
    expect(r.stdout, describeResult(r)).toBe('/proc/self/exe\n/dev/null\n/sys/class\ndone\n');
    expect(fs.readFileSync(path.join(root, 'made'), 'utf8')).toBe('x\n');
    expect(fs.statSync(path.join(root, 'tmp', 'dir')).isDirectory()).toBe(true);
    expect(fs.existsSync(path.join(root, 'etc', 'os-release'))).toBe(false);
    for (const d of ['proc', 'sys', 'dev']) expect(fs.readdirSync(path.join(root, d))).toEqual([]);
  }, 60_000);

  // The sentry's /proc, /sys, /dev (and a --volume's mount point) over a tree that lacks them
  // are synthetic directories: the program has them, the tree is left as it was.
  it.skipIf(noBusybox)('--overlay=none over a tree without /proc, /sys, /dev: mounted on synthetic directories, none made on the host', async () => {
    const root = busyboxTree(false);
    const vol = freshDir('deepvol');
    fs.writeFileSync(path.join(vol, 'f'), 'in the volume\n');
    const script = 'ls /; ls /proc/self/exe; ls -d /sys/class /dev/null; cat /a/b/f; ls /a; rmdir /proc; mkdir /a/x; echo rc=$?';
    const r = await runSandbox(['/bin/sh', '-c', script], {
      platform, timeoutMs: 30_000, extraArgs: ['--rootfs', root, '--overlay=none', '--volume', `${vol}:/a/b`],
    });
    expect(r.stdout, describeResult(r)).toBe('a\nbin\ndev\netc\nproc\nsys\ntmp\n/proc/self/exe\n/dev/null\n/sys/class\nin the volume\nb\nrc=1\n');
    expect(r.stderr).toMatch(/rmdir: '\/proc': Device or resource busy/);
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/a\/x': Operation not permitted/);
    expect(fs.readdirSync(root).sort()).toEqual(['bin', 'etc', 'tmp']);
    expect(fs.readdirSync(vol)).toEqual(['f']);
  }, 60_000);

  it('--rootfs / --overlay=none: the host\'s /proc and /sys (hidden by the gofer) are covered by the sandbox\'s', async () => {
    const r = await runSandbox(['/bin/sh', '-c', 'ls / | grep -cx -e proc -e sys -e dev; cut -d" " -f2 /proc/self/stat; ls /sys/kernel >/dev/null && echo sys; cat /proc/self/comm'], {
      platform, timeoutMs: 30_000, extraArgs: ['--rootfs', '/', '--overlay=none'],
    });
    expect(r.stdout, describeResult(r)).toBe('3\n(cut)\nsys\ncat\n');
    expect(r.code).toBe(0);
  }, 60_000);

  it('the sentry makes no path-taking host fs call while the program runs', async () => {
    const v = freshDir('audit');
    fs.writeFileSync(path.join(v, 'f'), 'data\n');
    const script = 'cat /etc/passwd /proc/cpuinfo /proc/meminfo /v/f > /dev/null; ls -R /usr/include > /dev/null; echo y > /v/g; ls /v; uname -a > /dev/null';
    const r = await sentryRun(['--platform', platform, '--volume', `${v}:/v`, '--', '/bin/sh', '-c', script], { TSVISOR_AUDIT_HOST_FS: '1' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('f\ng\n');
    expect(r.stderr).not.toMatch(/tsvisor-audit/);
  }, 60_000);

  it('the audit reports a host access when there is one (the check above can fail)', async () => {
    const mod = path.join(repoRoot, 'dist', 'sandbox', 'host_fs_audit.js');
    const code = `process.env.TSVISOR_AUDIT_HOST_FS='1'; const stop=require(${JSON.stringify(mod)}).auditHostFsFromNowOn(); require('fs').existsSync('/etc/hostname'); stop(); require('fs').existsSync('/etc/hosts');`;
    const r = await spawnCollect(process.execPath, ['-e', code], process.env);
    expect(r.stderr).toBe('tsvisor-audit: host-fs existsSync /etc/hostname\n');
  });

  it.skipIf(noBusybox)('the sentry keeps a bounded number of donated fds, and no host directory', async () => {
    const v = freshDir('fds');
    for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(v, `file${i}`), 'm\n');
    const child = spawn(process.execPath, [cli, 'run', `--platform=${platform}`, '--volume', `${v}:/v`, '--', busybox, 'sh', '-c', 'cat /v/file* > /dev/null; echo go; sleep 5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('go')) resolve(); }));
    const fdDir = `/proc/${child.pid}/fd`;
    const fds = fs.readdirSync(fdDir);
    // Donated fds name their file as the gofer sees it (its own root: /<tree>/...); follow the
    // magic link itself to tell directories.
    const links = fds.map((f) => { try { return fs.readlinkSync(`${fdDir}/${f}`); } catch { return ''; } });
    const dirs = fds.filter((f) => { try { return fs.statSync(`${fdDir}/${f}`).isDirectory(); } catch { return false; } });
    child.kill('SIGKILL');
    const volumeFds = links.filter((l) => /\/file\d+$/.test(l));
    // Read-only opens keep a dup of the donated fd for the next open (MAX_KEPT_FDS = 128).
    expect(volumeFds.length).toBeGreaterThan(0);
    expect(volumeFds.length).toBeLessThanOrEqual(128);
    // No directory of the host is held open (the gofer holds those, not the sentry).
    expect(dirs).toEqual([]);
  }, 60_000);

  it('the gofer is gone when the sandbox is, whether the program exits or the sentry is killed', async () => {
    for (const killSentry of [false, true]) {
      const log = path.join(freshDir('log'), 'debug.log');
      const child = spawn(process.execPath, [cli, 'run', `--platform=${platform}`, '--debug-log', log, '--', '/bin/sh', '-c', killSentry ? 'echo up; sleep 30' : 'echo up'], { stdio: ['ignore', 'pipe', 'ignore'] });
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('up')) resolve(); }));
      const pid = Number(/gofer: pid (\d+)/.exec(fs.readFileSync(log, 'utf8'))?.[1]);
      expect(pid).toBeGreaterThan(0);
      if (killSentry) child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      // The gofer exits on its socket's EOF; give a loaded machine a few seconds.
      let alive = true;
      for (let i = 0; i < 100 && alive; i++) {
        try { alive = !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { alive = false; }
        if (alive) await new Promise((r) => setTimeout(r, 50));
      }
      expect(alive, `gofer ${pid} still running (sentry ${killSentry ? 'killed' : 'exited'})`).toBe(false);
    }
  }, 60_000);

  it('bad --volume, --rootfs and --overlay values exit 125', async () => {
    for (const args of [['--volume', '/nonexistent-dir-xyz:/x'], ['--volume', `${base}:relative`], ['--volume', 'justone'],
      ['--rootfs', '/nonexistent-dir-xyz'], ['--overlay=weird'], ['--overlay=none'], ['--volume', `${base}:/`]]) {
      const r = await runSandbox(['/bin/true'], { platform, extraArgs: args, timeoutMs: 20_000 });
      expect(r.code, `${args.join(' ')}: ${describeResult(r)}`).toBe(125);
      expect(r.stderr).toMatch(/^tsvisor: /);
    }
  }, 60_000);
});
