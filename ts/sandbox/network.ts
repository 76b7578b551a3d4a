// Start-up of the sandbox's network (--network, --publish): builds it with ts/net/nat, maps
// its failures to user errors, and gives the sandbox an /etc/resolv.conf naming the NAT's
// resolver (a file of the overlay's upper layer: the host's stays untouched).

import type { Kernel } from '../kernel/kernel';
import type { Task } from '../kernel/task';
import { Credentials } from '../kernel/credentials';
import { O_CREAT, O_TRUNC, O_WRONLY } from '../abi/linux/fcntl';
import { mountNamespaceOf } from '../vfs/task_fs';
import { openAt } from '../vfs/open';
import { walk } from '../vfs/resolve';
import { TmpfsFS } from '../fsimpl/tmpfs/tmpfs';
import { TmpfsRegular } from '../fsimpl/tmpfs/regular';
import { S_IFREG } from '../abi/linux/stat';
import { setupNetwork, type NetworkMode, type SandboxNetwork } from '../net/nat/network';
import { parsePublish, type PublishSpec } from '../net/nat/publish';
import { SANDBOX_RESOLV_CONF } from '../net/nat/resolv';
import { UserError } from './errors';

export interface NetworkFlags { mode: NetworkMode; publish: PublishSpec[] }

/** Check --network and --publish (exit 125 when malformed). */
export function parseNetworkFlags(network: string, publish: string[]): NetworkFlags {
  if (network !== 'sandbox' && network !== 'none' && network !== 'host') {
    throw new UserError(`tsvisor: --network wants sandbox, none or host, got "${network}"`, 125);
  }
  const specs: PublishSpec[] = [];
  for (const p of publish) {
    const s = parsePublish(p);
    if (!s) throw new UserError(`tsvisor: --publish wants [127.0.0.1:|[::1]:]HOSTPORT:SANDBOXPORT[/udp], got "${p}"`, 125);
    specs.push(s);
  }
  if (specs.length > 0 && network !== 'sandbox') throw new UserError('tsvisor: --publish needs --network=sandbox', 125);
  return { mode: network, publish: specs };
}

export async function startNetwork(kernel: Kernel, flags: NetworkFlags): Promise<SandboxNetwork> {
  try {
    return await setupNetwork(kernel, flags);
  } catch (e) {
    const code = (e as { code?: string }).code ?? String(e);
    const port = (e as { port?: number }).port;
    throw new UserError(`tsvisor: --publish ${port ?? ''}: cannot listen on the host (${code})`, 125);
  }
}

/**
 * Give the sandbox its /etc/resolv.conf. Where the tree has one, a one-file tmpfs is mounted
 * over it (as container runtimes bind-mount theirs): the tree, /etc's own attributes included,
 * stays exactly as it is, whatever --overlay says. Where it has none, the file is written into
 * the memory overlay (never into a tree with --overlay=none).
 */
export function writeResolvConf(kernel: Kernel, t: Task, overlayIsMemory: boolean): void {
  const ns = mountNamespaceOf(kernel);
  const root = new Credentials(0, 0);
  const ctx = { t, ns, root: ns.rootVd, creds: root };
  const text = new TextEncoder().encode(SANDBOX_RESOLV_CONF);
  const existing = walk(ctx, ns.rootVd, '/etc/resolv.conf', { follow: false, allowMissing: true }).vd;
  if (existing && existing.inode.isRegular) {
    const fs = new TmpfsFS(kernel.mf);
    const inode = new TmpfsRegular(fs, S_IFREG | 0o644, 0, 0);
    ns.mount(existing, fs, inode, { nosuid: true, nodev: true, noexec: true });
    // Written through the mount, as a program would see it.
    const f = openAt(ctx, ns.rootVd, '/etc/resolv.conf', { flags: O_WRONLY | O_TRUNC, mode: 0, umask: 0 });
    try { f.write(t, text, 0); } finally { f.decRef(); }
    return;
  }
  if (!overlayIsMemory) return;
  const f = openAt(ctx, ns.rootVd, '/etc/resolv.conf', { flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644, umask: 0o022 });
  try {
    f.write(t, text, 0);
  } finally {
    f.decRef();
  }
}
