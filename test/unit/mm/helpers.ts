// Shared helpers for the mm unit tests: a MemoryManager over the fakes, errno assertions and
// a MappingBacking over a byte array.

import { expect } from 'vitest';
import { MemoryManager, type MappingBacking } from '../../../ts/mm/memory_manager';
import { SyscallError } from '../../../ts/kernel/syscall_error';
import type { NativeMemoryFile } from '../../../ts/native/addon';
import { FakeAddressSpace, FakeMemoryFile, MAX_ADDR, MIN_ADDR, fakes } from './fake_native';
import { mapShmem, shmemFile } from '../../../ts/fsimpl/tmpfs/shmem_zero';
import { MAP_SHARED, PROT_READ, PROT_WRITE } from '../../../ts/abi/linux/mm';

export function newMM(): { mm: MemoryManager; mf: FakeMemoryFile; as: FakeAddressSpace } {
  const { mf, as } = fakes();
  return { mm: new MemoryManager(mf, as, MIN_ADDR, MAX_ADDR), mf, as };
}

/** MAP_SHARED|MAP_ANONYMOUS as sys_mmap makes it: over a shmem file of len bytes. */
export function mmapSharedAnon(mm: MemoryManager, addr: number, len: number, flags = 0,
  prot = PROT_READ | PROT_WRITE): number {
  const shmem = shmemFile(mm.mf, 0, 0, len, '/dev/zero (deleted)');
  return mapShmem(shmem, () => mm.mmap(addr, len, prot, MAP_SHARED | flags, shmem, 0));
}

/** Run f and return the errno of the SyscallError it throws (fails the test if it does not). */
export function errnoOf(f: () => unknown): number {
  try {
    f();
  } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    throw e;
  }
  expect.unreachable('expected a SyscallError');
  return 0;
}

/** A file of the given bytes; counts fills so tests can see laziness. */
export class BytesBacking implements MappingBacking {
  fills = 0;
  constructor(readonly bytes: Uint8Array, readonly name = '/test/file') {}
  fill(mf: NativeMemoryFile, fileOffset: number, mfOffset: number, length: number): void {
    this.fills++;
    const n = Math.max(0, Math.min(length, this.bytes.length - fileOffset));
    if (n > 0) mf.write(mfOffset, this.bytes.subarray(fileOffset, fileOffset + n));
  }
}

export function pattern(len: number, seed = 1): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed * 7 + (i >> 12)) & 0xff;
  return b;
}
