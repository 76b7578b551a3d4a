// A task's keyrings (Linux security/keys/process_keys.c): thread, process and session
// keyrings, the per-user keyring and user session keyring, named session keyrings, and
// lookup_user_key: what a key id (a serial or a KEY_SPEC_* value) names for a task, and
// whether the task possesses it (reaches it by searching its own keyrings). Owns which
// keyrings a task has; the keys themselves are key.ts's.
//
// The session keyring belongs to the process here (Linux keeps it in each thread's
// credentials) and a child gets its parent's when it first asks, rather than at fork.

import { EINVAL, ENOKEY } from '../../abi/linux/errno';
import { SyscallError } from '../syscall_error';
import type { Task } from '../task';
import type { ThreadGroup } from '../thread_group';
import {
  KEY_NEED_SEARCH, KEY_POS_ALL, KEY_POS_SETATTR, KEY_USR_ALL, KEY_USR_LINK, KEY_USR_READ, KEY_USR_VIEW, Key, keyBySerial, link,
  searchKeyring,
} from './key';

export const KEY_SPEC_THREAD_KEYRING = -1, KEY_SPEC_PROCESS_KEYRING = -2, KEY_SPEC_SESSION_KEYRING = -3,
  KEY_SPEC_USER_KEYRING = -4, KEY_SPEC_USER_SESSION_KEYRING = -5, KEY_SPEC_GROUP_KEYRING = -6,
  KEY_SPEC_REQKEY_AUTH_KEY = -7, KEY_SPEC_REQUESTOR_KEYRING = -8;

const threadKeyrings = new WeakMap<Task, Key>();
const processKeyrings = new WeakMap<ThreadGroup, Key>();
const sessionKeyrings = new WeakMap<ThreadGroup, Key>();
const userKeyrings = new Map<number, { user: Key; session: Key }>();
const namedKeyrings = new Map<string, Key>();

function newKeyring(t: Task, name: string, perm: number): Key {
  return new Key('keyring', name, t.creds.fsuid, t.creds.fsgid, perm);
}

/** look_up_user_keyrings: the user's keyring and user session keyring, made on first use. */
export function userKeyringsOf(t: Task): { user: Key; session: Key } {
  const uid = t.creds.euid;
  let u = userKeyrings.get(uid);
  if (!u || u.user.invalidated || u.session.invalidated) {
    const perm = (KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_ALL;
    // No group (INVALID_GID), as Linux makes them.
    const user = new Key('keyring', `_uid.${uid}`, uid, -1, perm);
    const session = new Key('keyring', `_uid_ses.${uid}`, uid, -1, perm);
    link(session, user);
    userKeyrings.set(uid, u = { user, session });
  }
  return u;
}

function live(k: Key | undefined): Key | null { return k !== undefined && !k.invalidated ? k : null; }

export function threadKeyring(t: Task): Key | null { return live(threadKeyrings.get(t)); }
export function processKeyring(t: Task): Key | null { return live(processKeyrings.get(t.tg)); }

export function sessionKeyring(t: Task): Key | null {
  let tg: ThreadGroup | null = t.tg;
  // Inherited: the nearest ancestor's (see above), kept once found.
  while (tg && !sessionKeyrings.has(tg)) tg = tg.parent;
  const k = tg ? live(sessionKeyrings.get(tg)) : null;
  if (k) sessionKeyrings.set(t.tg, k);
  return k;
}

/** KEYCTL_JOIN_SESSION_KEYRING: a new anonymous session keyring, or the named one (made
 *  if absent); null when the named one is already the session keyring (Linux returns 0). */
export function joinSessionKeyring(t: Task, name: string | null): Key | null {
  let k: Key;
  if (name === null) {
    k = newKeyring(t, '_ses', KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ);
  } else {
    // find_keyring_by_name: only a keyring the caller may search without possessing it
    // (a fresh named keyring does not allow that, so joining the name again makes another).
    const found = live(namedKeyrings.get(name));
    if (found && !found.revoked && found.permits(t.creds, false, KEY_NEED_SEARCH)) {
      if (found === sessionKeyring(t)) return null;
      k = found;
    } else {
      k = newKeyring(t, name, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_LINK);
      namedKeyrings.set(name, k);
    }
  }
  sessionKeyrings.set(t.tg, k);
  return k;
}

/** The keyrings search_process_keyrings goes through, in its order. */
export function processKeyringsOf(t: Task): Key[] {
  const out: Key[] = [];
  for (const k of [threadKeyring(t), processKeyring(t), sessionKeyring(t) ?? userKeyringsOf(t).session]) {
    if (k) out.push(k);
  }
  return out;
}

/** is_key_possessed: one of the task's keyrings, or found by searching them. */
export function possesses(t: Task, key: Key): boolean {
  return processKeyringsOf(t).some((r) => r === key || searchKeyring(r, t.creds, (k) => k === key) !== null);
}

/** lookup_user_key's first half: the key an id names, made when `create` allows. */
export function lookupKey(t: Task, id: number, create: boolean): { key: Key; possessed: boolean } {
  switch (id) {
    case KEY_SPEC_THREAD_KEYRING: {
      let k = threadKeyring(t);
      if (!k) {
        if (!create) throw new SyscallError(ENOKEY);
        threadKeyrings.set(t, k = newKeyring(t, '_tid', KEY_POS_ALL | KEY_USR_VIEW));
      }
      return { key: k, possessed: true };
    }
    case KEY_SPEC_PROCESS_KEYRING: {
      let k = processKeyring(t);
      if (!k) {
        if (!create) throw new SyscallError(ENOKEY);
        processKeyrings.set(t.tg, k = newKeyring(t, '_pid', KEY_POS_ALL | KEY_USR_VIEW));
      }
      return { key: k, possessed: true };
    }
    case KEY_SPEC_SESSION_KEYRING: {
      let k = sessionKeyring(t);
      if (!k) {
        // Always installed on access: a new one if asked to create, else the user session's.
        if (create) k = joinSessionKeyring(t, null)!;
        else sessionKeyrings.set(t.tg, k = userKeyringsOf(t).session);
      }
      return { key: k, possessed: true };
    }
    case KEY_SPEC_USER_KEYRING: return { key: userKeyringsOf(t).user, possessed: true };
    case KEY_SPEC_USER_SESSION_KEYRING: return { key: userKeyringsOf(t).session, possessed: true };
    case KEY_SPEC_GROUP_KEYRING: throw new SyscallError(EINVAL);
    // No request_key authorisation key or requestor keyring: nothing is being constructed.
    case KEY_SPEC_REQKEY_AUTH_KEY: case KEY_SPEC_REQUESTOR_KEYRING: throw new SyscallError(ENOKEY);
    default: {
      if (id < 1) throw new SyscallError(EINVAL);
      const k = keyBySerial(id);
      if (k === undefined) throw new SyscallError(ENOKEY);
      return { key: k, possessed: possesses(t, k) };
    }
  }
}
