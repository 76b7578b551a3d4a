// The sandbox's mounts from the CLI (--rootfs, --overlay, --volume): checked here (errors are
// the user's, exit status 125), served by one gofer process, composed by fsimpl/root.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kernel } from '../kernel/kernel';
import { GoferProcess, goferBinary, type GoferTree } from '../fsimpl/gofer/gofer_process';
import { newRootFileSystem } from '../fsimpl/root';
import type { MountNamespace } from '../vfs/mount';
import { UserError } from './errors';

export interface VolumeSpec {
  /** Absolute host directory. */
  hostDir: string;
  /** Absolute path inside the sandbox. */
  path: string;
  readOnly: boolean;
}

export interface SandboxMounts {
  /** Host directory that is the sandbox's root. */
  rootfs: string;
  /** memory: root writes stay in a memory upper layer; none: they reach rootfs. */
  overlay: 'memory' | 'none';
  volumes: VolumeSpec[];
}

export const DEFAULT_MOUNTS: SandboxMounts = { rootfs: '/', overlay: 'memory', volumes: [] };

function hostDir(what: string, dir: string, cwd: string): string {
  const abs = path.resolve(cwd, dir);
  let st;
  try { st = fs.statSync(abs); } catch (e) {
    throw new UserError(`tsvisor: ${what} ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(e)}`, 125);
  }
  if (!st.isDirectory()) throw new UserError(`tsvisor: ${what} ${dir}: Not a directory`, 125);
  return fs.realpathSync(abs);
}

/** --volume HOST:PATH[:ro], HOST relative to the host's cwd. */
export function parseVolume(spec: string, cwd = process.cwd()): VolumeSpec {
  const parts = spec.split(':');
  let readOnly = false;
  if (parts.length === 3 && (parts[2] === 'ro' || parts[2] === 'rw')) readOnly = parts.pop() === 'ro';
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new UserError(`tsvisor: --volume ${spec}: expected HOST:PATH or HOST:PATH:ro`, 125);
  }
  const inside = parts[1];
  if (!inside.startsWith('/')) throw new UserError(`tsvisor: --volume ${spec}: ${inside} is not an absolute path`, 125);
  const norm = path.posix.normalize(inside);
  if (norm === '/') throw new UserError(`tsvisor: --volume ${spec}: cannot mount over / (use --rootfs)`, 125);
  return { hostDir: hostDir('--volume', parts[0], cwd), path: norm.replace(/\/$/, ''), readOnly };
}

export function parseMounts(o: { rootfs?: string; overlay?: string; volume?: string[] }, cwd = process.cwd()): SandboxMounts {
  const overlay = o.overlay ?? 'memory';
  if (overlay !== 'memory' && overlay !== 'none') {
    throw new UserError(`tsvisor: --overlay ${overlay}: expected memory or none`, 125);
  }
  if (overlay === 'none' && o.rootfs === undefined) {
    throw new UserError('tsvisor: --overlay=none needs --rootfs DIR (the host\'s / is never writable)', 125);
  }
  const volumes = (o.volume ?? []).map((v) => parseVolume(v, cwd));
  const seen = new Set<string>();
  for (const v of volumes) {
    if (seen.has(v.path)) throw new UserError(`tsvisor: --volume: ${v.path} is mounted twice`, 125);
    seen.add(v.path);
  }
  return { rootfs: o.rootfs === undefined ? '/' : hostDir('--rootfs', o.rootfs, cwd), overlay, volumes };
}

export function describeMounts(m: SandboxMounts): string {
  const vols = m.volumes.map((v) => ` ${v.hostDir}:${v.path}${v.readOnly ? ':ro' : ''}`).join('');
  return `root ${m.rootfs} (overlay ${m.overlay})${vols}`;
}

/** Gofer tree names: "root", then "v0", "v1"... for the volumes in order. */
export function goferTrees(m: SandboxMounts): GoferTree[] {
  return [
    { name: 'root', hostDir: m.rootfs, readOnly: m.overlay === 'memory' },
    ...m.volumes.map((v, i) => ({ name: `v${i}`, hostDir: v.hostDir, readOnly: v.readOnly })),
  ];
}

/** Spawns the gofer; connectGofer() then waits for it to serve (in between, the sentry goes
 *  on with its own set-up while the gofer confines itself). */
export function startGofer(m: SandboxMounts, debugLog?: string): GoferProcess {
  const bin = goferBinary();
  if (!bin) throw new UserError('tsvisor: build/tsvisor-gofer is missing: the sandbox cannot reach any file (npm run build:gofer)', 125);
  try {
    return new GoferProcess(bin, goferTrees(m), debugLog, { connect: false });
  } catch (e) {
    throw goferFailed(e);
  }
}

export function connectGofer(gofer: GoferProcess): void {
  try {
    gofer.connect();
  } catch (e) {
    throw goferFailed(e);
  }
}

function goferFailed(e: unknown): UserError {
  return new UserError(`tsvisor: the gofer did not start: ${e instanceof Error ? e.message : String(e)}`, 125);
}

export function newSandboxRoot(kernel: Kernel, gofer: GoferProcess, m: SandboxMounts, uid: number): MountNamespace {
  return newRootFileSystem(kernel, {
    gofer: {
      session: gofer.session, rootTree: 'root', overlay: m.overlay, uid,
      volumes: m.volumes.map((v, i) => ({ tree: `v${i}`, path: v.path, readOnly: v.readOnly })),
    },
  });
}
