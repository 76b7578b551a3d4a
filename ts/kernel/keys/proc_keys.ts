// /proc/keys (Linux security/keys/proc.c proc_keys_show): the keys the reader may view
// (possession counted), by serial: flags, usage, expiry (a revoked key has expired; keys
// have no timeouts here), permissions, owner, type and the
// type's description ("name: N" bytes for a user key, "name: N" links or "name: empty" for
// a keyring). Keys are not reference-counted here: the usage column is the number of
// keyrings that link the key, at least 1.

import type { Task } from '../task';
import { KEY_NEED_VIEW, KEY_POS_VIEW, allKeys, type Key } from './key';
import { possesses } from './keyrings';

function line(k: Key, linkers: number): string {
  const flags = `I${k.revoked ? 'R' : '-'}-Q---`;
  const munge = (id: number): number => (id < 0 ? 65534 : id);
  const typeDesc = k.isKeyring
    ? `${k.description}: ${k.links.length !== 0 ? String(k.links.length) : 'empty'}`
    : `${k.description}: ${k.payload.length}`;
  return `${k.serial.toString(16).padStart(8, '0')} ${flags} ${String(Math.max(1, linkers)).padStart(5)} ${k.revoked ? 'expd' : 'perm'} ` +
    `${(k.perm >>> 0).toString(16).padStart(8, '0')} ${String(munge(k.uid)).padStart(5)} ` +
    `${String(munge(k.gid)).padStart(5)} ${k.type.padEnd(9)} ${typeDesc}\n`;
}

export function procKeys(t: Task | null): string {
  if (t === null) return '';
  const keys = allKeys();
  const linkers = new Map<Key, number>();
  for (const r of keys) for (const k of r.links) linkers.set(k, (linkers.get(k) ?? 0) + 1);
  return keys
    .filter((k) => k.permits(t.creds, (k.perm & KEY_POS_VIEW) !== 0 && possesses(t, k), KEY_NEED_VIEW))
    .map((k) => line(k, linkers.get(k) ?? 0)).join('');
}
