// Syscall patching (gVisor's usertrap, our own design): on a platform with a trap-free entry
// (systrap), a syscall that trapped from a known five-byte instruction followed by
// `syscall` is rewritten into `jmp trampoline; syscall`. The trampoline (in a small
// executable region of the application's address space, within ±2 GiB of the site) runs
// the displaced instruction, sets %rcx to the return address — what the syscall
// instruction leaves there — and jumps to the stub's fast entry, which hands the registers
// to the sentry through the thread's message without a signal. The known instructions:
// `mov $N,%eax` (glibc and musl wrappers with a constant number) and `mov 8(%rsp),%r9`
// (glibc's syscall(3)); both are position-independent, so they run the same from the
// trampoline. glibc's read (number 0) sets it with the two-byte `xor %eax,%eax`, too short
// for a jump: that one becomes `jmp rel8` to a five-byte `jmp trampoline` written over the
// SIB and displacement bytes of a NOP of the function's alignment padding (`0f 1f 84 ...`,
// after a `ret`, ending 16-byte aligned). Rewritten so, the NOP stays a NOP of the same
// length for anything that runs through the padding, and anything that jumps to the xor
// takes the jump as before.
//
// Correctness rules, each a reason to leave a site alone (it still works, by trapping):
// - only while one task uses the address space, so no thread can be executing the bytes
//   being rewritten (multi-threaded programs keep trapping; their sites patched before
//   the second thread started stay patched, which is safe);
// - only when a `mov $N,%eax` immediate is the syscall number that trapped, and the byte
//   before it is not a REX prefix (then the b8 belongs to another instruction);
// - only in private, non-writable, executable mappings, on pages this address space alone
//   holds (reference count one), so no file, no other process and no JIT buffer changes;
// - the original `syscall` instruction stays in place after the jump, so code that jumps
//   straight to it still works.
// A site is patched on its PATCH_AFTER-th trap, not its first: a patch costs a copy of a
// page-cache page and a round trip to the stub (two more for a new trampoline region: a few
// hundred microseconds on a loaded host), a trap only the signal delivery and sigreturn the
// fast entry saves (a few microseconds), and most of a short program's sites (its start-up,
// its exit, the execve of a forked child, the brk calls of malloc's start) run a few times.
// Owns the trampoline regions and the list of patched sites of each MemoryManager.

import { pageCacheOf } from '../mm/page_cache';
import { EFAULT } from '../abi/linux/errno';
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/linux/mm';
import { EV_SIGNO, REG_GS_BASE, REG_ORIG_RAX, REG_RIP } from '../native/addon';
import type { MemoryManager } from '../mm/memory_manager';
import type { Task } from '../kernel/task';

const SIGSYS = 31;
/** Patching off for this process (to compare with the trap path). */
const patchingDisabled = process.env.TSVISOR_NO_PATCH !== undefined && process.env.TSVISOR_NO_PATCH !== '';
const REGION_SIZE = 0x10000;
const TRAMPOLINE_SIZE = 32;
const PAGE = 0x1000;
// Addresses reach 2^47: no 32-bit bitwise operators on them.
const pageDown = (a: number): number => a - (a % PAGE);
const NEAR = 0x7000_0000; // comfortably inside rel32's ±2 GiB
/** Traps at a site before it is patched: where a patch starts to pay for itself. */
const PATCH_AFTER = 16;

interface Region { start: number; next: number }
/** Bytes a patch wrote over, to put back (unpatchAll). */
interface Overwritten { at: number; bytes: Uint8Array }

const XOR_EAX = [0x31, 0xc0];
/** A multi-byte NOP with a SIB byte and a 32-bit displacement, as assemblers pad with:
 *  0f 1f 84 00 00000000 (prefixed by 66 and 2e bytes for the longer ones). */
const NOP_SIB_DISP32 = [0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0];

class SyscallPatcher {
  private readonly regions: Region[] = [];
  /** Patched site address (the syscall's end - 7) -> what its patch wrote over. */
  readonly sites = new Map<number, Overwritten[]>();
  /** Sites found unpatchable, so that their every trap does not look again. */
  private readonly rejected = new Set<number>();
  /** Traps so far at each site not patched yet. */
  private readonly traps = new Map<number, number>();
  disabled = false;
  /** The padding slot the last patch jumps through, -1 if none (the debug log says). */
  lastSlot = -1;
  private readonly probe = new Uint8Array(8);
  private readonly prot = new Int32Array(1);

  constructor(private readonly mm: MemoryManager, private readonly entry: number) {}

  /** True if the site was patched just now. */
  tryPatch(rip: number, nr: number): boolean {
    const site = rip - 7;
    if (this.sites.has(site) || this.rejected.has(site)) return false;
    const n = (this.traps.get(site) ?? 0) + 1;
    if (n < PATCH_AFTER) {
      this.traps.set(site, n);
      return false;
    }
    this.traps.delete(site);
    if (this.patchable(site, rip, nr)) return true;
    this.rejected.add(site);
    return false;
  }

  /** The displaced instruction if the five bytes before the syscall are one we know. */
  private displaced(nr: number): Uint8Array | null {
    const b = this.probe;
    if (b[6] !== 0x0f || b[7] !== 0x05) return null;
    const imm = b[2] | (b[3] << 8) | (b[4] << 16) | (b[5] << 24);
    if (b[1] === 0xb8 && imm === nr && (b[0] & 0xf0) !== 0x40) return b.slice(1, 6);
    if (b[1] === 0x4c && b[2] === 0x8b && b[3] === 0x4c && b[4] === 0x24 && b[5] === 0x08) return b.slice(1, 6);
    return null;
  }

  private patchable(site: number, rip: number, nr: number): boolean {
    if (pageDown(site) !== pageDown(rip - 1)) return false;
    try {
      this.mm.copyInto(rip - 8, this.probe);
    } catch {
      return false;
    }
    const insn = this.displaced(nr);
    const xor = insn === null && this.xorRead(nr);
    if (!insn && !xor) return false;
    const pageOff = this.ownPage(site);
    if (pageOff < 0) return false;
    // The xor's padding slot is looked for before a trampoline is spent on it.
    const slot = xor ? this.paddingSlot(pageOff, rip - 4) : -1;
    this.lastSlot = slot;
    if (xor && slot < 0) return false;
    const tramp = this.trampolineNear(site, this.mm.vmas.find(site)?.start ?? site);
    if (tramp < 0) return false;
    if (insn) {
      this.writeTrampoline(tramp, insn, rip);
      this.sites.set(site, [this.overwrite(pageOff, site, jmpRel32(site, tramp))]);
      return true;
    }
    this.writeTrampoline(tramp, new Uint8Array(XOR_EAX), rip);
    const xorAt = rip - 4;
    // The slot first: the xor's jump leads there.
    const jumps = [this.overwrite(pageOff, slot, jmpRel32(slot, tramp)),
      this.overwrite(pageOff, xorAt, new Uint8Array([0xeb, (slot - (xorAt + 2)) & 0xff]))];
    this.sites.set(site, jumps);
    return true;
  }

  /** `xor %eax,%eax; syscall` (read, number 0), the xor not the tail of a REX instruction. */
  private xorRead(nr: number): boolean {
    const b = this.probe;
    return nr === 0 && b[4] === XOR_EAX[0] && b[5] === XOR_EAX[1] && b[6] === 0x0f && b[7] === 0x05 &&
      (b[3] & 0xf0) !== 0x40;
  }

  /** The memory-file page of the site's page if this address space may rewrite it (its own
   *  copy of a private, read-only, executable page), else -1. */
  private ownPage(site: number): number {
    const vma = this.mm.vmas.find(site);
    if (!vma || vma.shared || (vma.prot & PROT_WRITE) !== 0 || (vma.prot & PROT_EXEC) === 0) return -1;
    let pageOff = this.mm.addressSpace.lookup(pageDown(site), this.prot);
    // A page of the file page cache (a library's text, shared by every process mapping it)
    // gets this space's own copy first. One shared with another address space only since a
    // fork is left alone for now; it may become patchable once a write breaks the sharing.
    if (pageOff >= 0 && this.mm.mf.refCount(pageOff) !== 1 && pageCacheOf(this.mm.mf).holds(pageOff)) {
      this.mm.pmas.breakCow(vma, pageDown(site), pageOff);
      pageOff = this.mm.addressSpace.lookup(pageDown(site), this.prot);
    }
    return pageOff >= 0 && this.mm.mf.refCount(pageOff) === 1 ? pageOff : -1;
  }

  /** The address of findPaddingSlot's slot for the xor at xorAt, on its page; -1 if none. */
  private paddingSlot(pageOff: number, xorAt: number): number {
    const page = new Uint8Array(PAGE);
    this.mm.mf.read(pageOff, page);
    const slot = findPaddingSlot(page, xorAt % PAGE);
    return slot < 0 ? -1 : pageDown(xorAt) + slot;
  }

  /** Writes bytes at address `at` of the page at pageOff; returns what was there. */
  private overwrite(pageOff: number, at: number, bytes: Uint8Array): Overwritten {
    const old = new Uint8Array(bytes.length);
    this.mm.mf.read(pageOff + (at % PAGE), old);
    this.mm.mf.write(pageOff + (at % PAGE), bytes);
    return { at, bytes: old };
  }

  /** Puts every patched site back (the application is about to own %gs). */
  unpatchAll(): void {
    for (const written of this.sites.values()) {
      for (const { at, bytes } of written.reverse()) {
        const off = this.mm.addressSpace.lookup(pageDown(at), this.prot);
        if (off >= 0) this.mm.mf.write(off + (at % PAGE), bytes);
      }
    }
    this.sites.clear();
    this.disabled = true;
  }

  private trampolineNear(site: number, codeStart: number): number {
    for (const r of this.regions) {
      if (r.next + TRAMPOLINE_SIZE <= r.start + REGION_SIZE && Math.abs(r.next - site) < NEAR) {
        const t = r.next;
        r.next += TRAMPOLINE_SIZE;
        return t;
      }
    }
    // A new region just below the code (brk grows above static binaries' data, so not there).
    for (const hint of [codeStart - REGION_SIZE - 0x10_0000, codeStart - 0x1000_0000, site + 0x1000_0000]) {
      if (hint < 0x10000) continue;
      const start = this.mm.findUnmapped(hint, REGION_SIZE);
      if (start < 0 || Math.abs(start - site) >= NEAR) continue;
      try {
        this.mm.mmap(start, REGION_SIZE, PROT_READ | PROT_EXEC,
          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_POPULATE, null, 0);
      } catch {
        continue;
      }
      const r = { start, next: start + TRAMPOLINE_SIZE };
      this.regions.push(r);
      return start;
    }
    this.disabled = true;
    return -1;
  }

  /** <displaced instruction>; movabs $ret,%rcx; jmp *0(%rip); .quad entry */
  private writeTrampoline(at: number, insn: Uint8Array, ret: number): void {
    const t = new Uint8Array(TRAMPOLINE_SIZE);
    const dv = new DataView(t.buffer);
    const k = insn.length;
    t.set(insn, 0);
    t[k] = 0x48;
    t[k + 1] = 0xb9;
    dv.setBigUint64(k + 2, BigInt(ret), true);
    t[k + 10] = 0xff;
    t[k + 11] = 0x25;
    dv.setUint32(k + 12, 0, true);
    dv.setBigUint64(k + 16, BigInt(this.entry), true);
    t.fill(0xcc, k + 24);
    const off = this.mm.addressSpace.lookup(pageDown(at), this.prot);
    if (off < 0) throw new RangeError(`trampoline page ${at.toString(16)} not populated (${EFAULT})`);
    this.mm.mf.write(off + (at % PAGE), t);
  }
}

/**
 * In a page of code, the offset of a five-byte slot for `jmp trampoline` within a `jmp rel8`
 * of the two-byte xor at offset xorOff: the SIB and displacement bytes (all zero, so
 * untouched) of a padding NOP_SIB_DISP32 that follows a `ret` (nothing falls into it) and
 * ends 16-byte aligned (where an assembler's padding ends); the nearest such, most likely the
 * function's own. -1 if there is none. The page is the application's: any bytes at all.
 */
export function findPaddingSlot(page: Uint8Array, xorOff: number): number {
  const from = xorOff + 2;
  let best = -1;
  for (let end = page.length - (page.length % 16); end >= NOP_SIB_DISP32.length + 1; end -= 16) {
    const nop = end - NOP_SIB_DISP32.length;
    const slot = nop + 3;
    if (slot - from < -128 || slot - from > 127) continue;
    if (best >= 0 && Math.abs(best - from) <= Math.abs(slot - from)) continue;
    if (!NOP_SIB_DISP32.every((v, i) => page[nop + i] === v)) continue;
    let before = nop - 1;
    while (before >= 0 && (page[before] === 0x66 || page[before] === 0x2e) && nop - before <= 3) before--;
    if (before >= 0 && page[before] === 0xc3) best = slot;
  }
  return best;
}

/** `jmp rel32` at `from` to `to`. */
function jmpRel32(from: number, to: number): Uint8Array {
  const rel = to - (from + 5);
  return new Uint8Array([0xe9, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff]);
}

const patchers = new WeakMap<MemoryManager, SyscallPatcher>();

/** Called for each syscall stop: patch the site if it trapped and may be patched. */
export function maybePatchSyscall(t: Task): void {
  // Every syscall comes through here: test the 32-bit word, not a bigint, for the trap.
  if (t.ctx.words[EV_SIGNO * 2] !== SIGSYS || t.regs[REG_GS_BASE] !== 0n) return;
  const entry = t.kernel.platform.syscallPatchEntry;
  if (entry === 0 || patchingDisabled) return;
  const mm = t.mm;
  let p = patchers.get(mm);
  if (!p) {
    p = new SyscallPatcher(mm, entry);
    patchers.set(mm, p);
  }
  if (p.disabled) return;
  for (const other of t.kernel.tasks.values()) if (other !== t && other.mm === mm) return;
  const rip = Number(t.regs[REG_RIP]);
  try {
    if (p.tryPatch(rip, Number(t.regs[REG_ORIG_RAX]))) {
      const through = p.lastSlot >= 0 ? ` through padding at ${p.lastSlot.toString(16)}` : '';
      t.kernel.debug(`[${t.tid}] patched syscall site ${(rip - 7).toString(16)} (syscall ${t.regs[REG_ORIG_RAX]})${through}`);
    }
  } catch (e) {
    // Patching is an optimisation: a failure costs speed, never the application.
    p.disabled = true;
    t.kernel.debug(`[${t.tid}] syscall patching disabled: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The application takes a GS base of its own: patched sites would find ours no more. */
export function unpatchSyscalls(mm: MemoryManager): void {
  const p = patchers.get(mm);
  if (p) p.unpatchAll();
  else patchers.set(mm, Object.assign(new SyscallPatcher(mm, 0), { disabled: true }));
}
