// One queued message (Linux struct sk_buff with its unix_skb_parms): the bytes, how many a
// stream reader has consumed, who sent it (whose address recvmsg reports and whose send
// buffer it is charged to), the sender's credentials, and the files in flight with it.

import type { FileDescription } from '../../vfs/file_description';
import { ucredOf, type UCred } from '../socket';
import type { Task } from '../../kernel/task';
import type { UnixSocket } from './unix_socket';

export interface Message {
  data: Uint8Array;
  consumed: number;
  sender: UnixSocket;
  cred: UCred;
  rights: FileDescription[] | null;
  truesize: number;
}

/** skb->truesize: the payload in a kmalloc'd head (power-of-two buckets, with the 320-byte
 *  skb_shared_info after it) plus the 256-byte struct sk_buff; large payloads in pages. Small
 *  messages cost what they cost on Linux (768 bytes for one byte), so that how many fit in a
 *  send buffer matches it. */
export function truesize(len: number): number {
  const head = ((len + 63) & ~63) + 320;
  if (head <= 8192) {
    let bucket = 32;
    while (bucket < head) bucket *= 2;
    return bucket + 256;
  }
  return 256 + 512 + ((len + 4095) & ~4095);
}

/** A message with no credentials (pid 0, INVALID_UID/GID: the receiver reads the overflow ids). */
const NO_CRED: UCred = { pid: 0, uid: 0xffff_ffff, gid: 0xffff_ffff };

/** unix_maybe_add_creds: the credentials a message carries. SCM_CREDENTIALS given with it
 *  (explicit) always; else the sender's only if either end has SO_PASSCRED when it is sent. */
export function messageCred(t: Task, explicit: UCred | null, from: UnixSocket, to: UnixSocket): UCred {
  if (explicit) return explicit;
  return from.opts.passcred || to.opts.passcred ? ucredOf(t) : NO_CRED;
}

/** The bytes left for a stream reader. */
export function unread(m: Message): number {
  return m.data.length - m.consumed;
}

/** Drop the message's in-flight references (it is purged unread). */
export function dropRights(m: Message): void {
  if (!m.rights) return;
  const r = m.rights;
  m.rights = null;
  for (const f of r) f.decRef();
}
