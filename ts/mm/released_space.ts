// RELEASED_SPACE: what a MemoryManager left behind by an execve that kept the platform's
// address space (MemoryManager.resetForExec) points at instead, so that whoever still holds
// the old manager (an AIO completion, an open /proc/<pid>/mem) reaches nothing — never the
// new image that now lives in the same host address space. It answers as a released native
// address space does: nothing mapped, copies move no byte, changes fail with ESRCH.

import { HOST_IO_HOLE, type NativeAddressSpace } from '../native/addon';

function gone(): never {
  throw new Error('ESRCH: address space released');
}

export const RELEASED_SPACE: NativeAddressSpace = {
  map: gone,
  unmap: gone,
  protect: gone,
  lookup: () => -1,
  holeAround: (_addr: number, lo: number, hi: number, endOut: Float64Array) => { endOut[0] = hi; return lo; },
  writeProtectedRun: (addr: number, _lo: number, _hi: number, _exclusive: boolean, endOut: Float64Array) => {
    endOut[0] = addr;
    return addr;
  },
  residentBytes: () => 0,
  residentTotal: () => [0, 0],
  copyMappingsTo: gone,
  copyToSpace: (_target: NativeAddressSpace, _from: number, _to: number, _length: number, stopOut: Int32Array) => {
    stopOut[0] = 1;
    return 0;
  },
  copyIn: () => 0,
  copyOut: () => 0,
  zeroOut: () => 0,
  copyOutFromFile: () => 0,
  copyInToFile: () => 0,
  preadInto: () => -HOST_IO_HOLE,
  pwriteFrom: () => -HOST_IO_HOLE,
  release: () => {},
  resetForExec: gone,
  beginBatch: () => {},
  endBatch: () => {},
};
