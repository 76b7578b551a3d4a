// Pipe limits (Linux fs/pipe.c): /proc/sys/fs/pipe-max-size, the most an unprivileged caller
// may ask for, and the pages each user's pipes hold, against pipe-user-pages-soft (past it an
// unprivileged user's new pipes get two pages) and pipe-user-pages-hard (past it they get
// none). Owns the limits, one set per sandbox kernel; a pipe keeps its PipeAccount.

import type { Task } from './task';
import type { Kernel } from './kernel';
import { fail } from './syscall_error';
import { EINVAL } from '../abi/linux/errno';
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from './capabilities';

export const PAGE_SIZE = 4096;
const DEFAULT_PIPE_MAX_SIZE = 1 << 20;
const PIPE_DEF_BUFFERS = 16;
const PIPE_MIN_DEF_BUFFERS = 2;
/** pipe-user-pages-soft's default: 1024 pipes of 16 pages. */
const DEFAULT_USER_PAGES_SOFT = 1024 * PIPE_DEF_BUFFERS;

const maxSizes = new WeakMap<Kernel, number>();

/** pipe-user-pages-soft and -hard (0: no limit), and the pages each user's pipes hold. */
interface UserPipes { soft: number; hard: number; pages: Map<number, number> }
const userPipes = new WeakMap<Kernel, UserPipes>();

function userPipesOf(k: Kernel): UserPipes {
  let u = userPipes.get(k);
  if (u === undefined) {
    u = { soft: DEFAULT_USER_PAGES_SOFT, hard: 0, pages: new Map() };
    userPipes.set(k, u);
  }
  return u;
}

/** The pages one pipe holds on its creator's account (pipe->user, pipe->nr_accounted). */
export class PipeAccount {
  constructor(private readonly u: UserPipes, private readonly user: number, public slots: number) {}

  /** account_pipe_buffers: the user's total once this pipe holds `slots` pages. */
  charge(slots: number): number {
    const total = (this.u.pages.get(this.user) ?? 0) + slots - this.slots;
    if (total === 0) this.u.pages.delete(this.user);
    else this.u.pages.set(this.user, total);
    this.slots = slots;
    return total;
  }

  /** free_pipe_info: the pipe is gone (idempotent). */
  release(): void { this.charge(0); }

  tooManySoft(total: number): boolean { return this.u.soft !== 0 && total > this.u.soft; }
  tooManyHard(total: number): boolean { return this.u.hard !== 0 && total > this.u.hard; }
}

/** pipe_is_unprivileged_user. */
export function unprivileged(t: Task): boolean {
  return !t.creds.hasCapability(CAP_SYS_RESOURCE) && !t.creds.hasCapability(CAP_SYS_ADMIN);
}

/** alloc_pipe_info's sizing for a pipe t creates: PIPE_DEF_BUFFERS pages, fewer past
 *  pipe-max-size or the soft limit; past the hard limit, `fail` (ENFILE for pipe(2), ENOMEM
 *  for a FIFO). Returns the pages and the account holding them. */
export function chargeNewPipe(t: Task, failErrno: number): PipeAccount {
  let bufs = PIPE_DEF_BUFFERS;
  const max = pipeMaxSize(t.kernel);
  if (bufs * PAGE_SIZE > max && !t.creds.hasCapability(CAP_SYS_RESOURCE)) bufs = max / PAGE_SIZE;
  const acc = new PipeAccount(userPipesOf(t.kernel), t.creds.uid, 0);
  let total = acc.charge(bufs);
  if (acc.tooManySoft(total) && unprivileged(t)) total = acc.charge(PIPE_MIN_DEF_BUFFERS);
  if (acc.tooManyHard(total) && unprivileged(t)) {
    acc.release();
    fail(failErrno);
  }
  return acc;
}

export function pipeUserPages(k: Kernel, which: 'soft' | 'hard'): number {
  return userPipesOf(k)[which];
}

/** proc_doulongvec_minmax's write of pipe-user-pages-soft or -hard. */
export function setPipeUserPages(k: Kernel, which: 'soft' | 'hard', text: string): void {
  const m = /^\s*\+?(\d+)(?:\s|$)/.exec(text);
  if (m === null) fail(EINVAL);
  const v = Number(m[1]);
  if (!Number.isSafeInteger(v)) fail(EINVAL);
  userPipesOf(k)[which] = v;
}

/** round_pipe_size: a power of two of at least a page; 0 (invalid) past 2^31. */
export function roundPipeSize(size: number): number {
  if (size > 2 ** 31) return 0;
  if (size < PAGE_SIZE) return PAGE_SIZE;
  return 2 ** Math.ceil(Math.log2(size));
}

export function pipeMaxSize(k: Kernel): number {
  return maxSizes.get(k) ?? DEFAULT_PIPE_MAX_SIZE;
}

/** A write to /proc/sys/fs/pipe-max-size (proc_dopipe_max_size): an unsigned decimal, kept
 *  rounded as round_pipe_size rounds it. */
export function setPipeMaxSize(k: Kernel, text: string): void {
  const s = text.trim();
  if (!/^\+?\d+$/.test(s)) fail(EINVAL);
  const v = Number(s);
  if (v > 0xffffffff) fail(EINVAL);
  const r = roundPipeSize(v);
  if (r === 0) fail(EINVAL);
  maxSizes.set(k, r);
}
