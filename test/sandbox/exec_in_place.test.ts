// execve's resets and what it keeps (fixture exec_in_place.c) against the native run: on
// systrap and ptrace the new image is loaded into the process's own address space, emptied
// (kernel/exec.ts loadInPlace), so this checks nothing of the old image survives there —
// mappings, x87/SSE control state, handlers — across one exec and a chain of twenty.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectSameAsNative, fixture, platforms, skipBecause } from '../helpers/run';
import { PF_R, PF_X, PT_LOAD, buildElf } from '../unit/loader/elf_builder';

let dir = '';
let lowElf = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'tsvisor-exec-in-place-'));
  // A static executable whose only segment lies below mmap_min_addr (64 KiB): the kernel
  // finds out only when it maps it, past execve's point of no return.
  lowElf = path.join(dir, 'low');
  writeFileSync(lowElf, buildElf({
    type: 2, entry: 0x1078, size: 0x2000,
    phdrs: [{ type: PT_LOAD, flags: PF_R | PF_X, offset: 0, vaddr: 0x1000, filesz: 0x2000, memsz: 0x2000, align: 0x1000 }],
  }), { mode: 0o755 });
});
afterAll(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe.each(platforms)('%s', (platform) => {
  it('execve resets the image and keeps the process, as natively', async () => {
    await expectSameAsNative([fixture('exec_in_place'), fixture('exec_in_place')], platform, 90_000);
  }, 120_000);

  // Only where exec reuses the address space; a fresh one (kvm, a vfork child) still returns
  // the errno to the old image.
  it.skipIf(skipBecause(platform === 'kvm', `${platform}: exec takes a fresh address space and returns the errno (kernel/exec.ts)`))('a failure past the point of no return kills with SIGSEGV', async () => {
    await expectSameAsNative([fixture('exec_in_place'), 'run', lowElf], platform, 60_000);
  }, 90_000);
});
