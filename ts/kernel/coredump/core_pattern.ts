// kernel.core_pattern and kernel.core_uses_pid (Linux fs/coredump.c): where a core dump goes,
// and format_corename's expansion of the pattern's % specifiers for one dumping task.
// A pattern that starts with '|' names a helper program Linux would run on the host side of
// the kernel; the sandbox runs none, so such a pattern means no dump.

import { EINVAL } from '../../abi/linux/errno';
import { fail } from '../syscall_error';
import type { Kernel } from '../kernel';
import type { Task } from '../task';
import { taskAttrs } from '../../syscalls/linux/task_attrs';
import { tgidIn, tidIn } from '../ns/pid_ns';
import { RLIMIT_CORE } from '../rlimits';
import { utsOf } from '../ns/nsproxy';

/** CORENAME_MAX_SIZE: the pattern keeps at most this minus one bytes. */
const CORENAME_MAX_SIZE = 128;

interface CoreSettings { pattern: string; usesPid: number }
const settings = new WeakMap<Kernel, CoreSettings>();

function of(k: Kernel): CoreSettings {
  let s = settings.get(k);
  if (!s) {
    s = { pattern: 'core', usesPid: 0 };
    settings.set(k, s);
  }
  return s;
}

export function corePattern(k: Kernel): string { return of(k).pattern; }
export function coreUsesPid(k: Kernel): number { return of(k).usesPid; }

/** proc_dostring: the text up to its first newline, cut to the buffer's size. */
export function setCorePattern(k: Kernel, text: string): void {
  const nl = text.indexOf('\n');
  of(k).pattern = (nl >= 0 ? text.slice(0, nl) : text).slice(0, CORENAME_MAX_SIZE - 1);
}

/** proc_dointvec: one integer (what follows a blank is ignored). */
export function setCoreUsesPid(k: Kernel, text: string): void {
  const m = /^\s*([+-]?\d+)/.exec(text);
  if (!m) fail(EINVAL);
  const v = Number(m[1]);
  if (v < -0x8000_0000 || v > 0x7fff_ffff) fail(EINVAL);
  of(k).usesPid = v;
}

/** cn_esc_printf: a '/' in an expanded name would make a directory; it becomes '!'. */
function esc(s: string): string { return s.replaceAll('/', '!'); }

/**
 * format_corename for a file pattern: the path to create, relative to the dumping task's
 * working directory unless absolute; null for a pipe pattern (no dump here).
 */
export function formatCorename(t: Task, signo: number): string | null {
  const { pattern, usesPid } = of(t.kernel);
  if (pattern.startsWith('|')) return null;
  const ns = t.threadPid.ns;
  const tgid = tgidIn(ns, t.tg);
  let out = '';
  let hasPid = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c !== '%' || i + 1 >= pattern.length) {
      if (c !== '%') out += c;
      continue;
    }
    const spec = pattern[++i];
    switch (spec) {
      case '%': out += '%'; break;
      case 'p': hasPid = true; out += String(tgid); break;
      case 'P': out += String(t.tg.tgid); break;
      case 'i': out += String(tidIn(ns, t)); break;
      case 'I': out += String(t.tid); break;
      case 'u': out += String(t.creds.uid >>> 0); break;
      case 'g': out += String(t.creds.gid >>> 0); break;
      case 'd': out += String(taskAttrs(t).dumpable); break;
      case 's': out += String(signo); break;
      case 't': out += String(Math.floor(Number(t.kernel.realtimeNs() / 1_000_000_000n))); break;
      case 'h': out += esc(utsOf(t).hostname); break;
      case 'e': out += esc(taskAttrs(t).comm); break;
      case 'E': out += esc(t.tg.exePath); break;
      case 'c': out += t.tg.rlimits[RLIMIT_CORE].cur.toString(); break;
      default: break; // an unknown specifier expands to nothing
    }
  }
  // Without %p in the pattern, core_uses_pid appends the pid (never to a pipe).
  if (!hasPid && usesPid !== 0) out += `.${tgid}`;
  return out;
}

/** Whether a core-dumping signal would dump t's process: it is dumpable, RLIMIT_CORE allows
 *  at least a page (binfmt->min_coredump) and the pattern names a file. */
export function coreDumpDue(t: Task): boolean {
  return taskAttrs(t).dumpable !== 0 && t.tg.rlimits[RLIMIT_CORE].cur >= 4096n && !of(t.kernel).pattern.startsWith('|');
}
