// Hand-made ELF64 images for the loader tests: a header, program headers right after it, and
// whatever bytes the test puts in the rest of the file.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NativeMemoryFile } from '../../../ts/native/addon';
import type { LoadableFile } from '../../../ts/loader/loader';

export const PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6, PT_GNU_STACK = 0x6474e551;
export const PF_X = 1, PF_W = 2, PF_R = 4;

export interface Phdr {
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align?: number;
}

export interface ElfSpec {
  type: number; // 2 ET_EXEC, 3 ET_DYN
  entry: number;
  phdrs: Phdr[];
  size: number;
  /** Header overrides for malformed images. */
  klass?: number;
  machine?: number;
  phentsize?: number;
  phnum?: number;
  phoff?: number;
}

/** The image: every byte outside the headers is (offset * 7 + 1) & 0xff, so contents are checkable. */
export function buildElf(spec: ElfSpec): Uint8Array {
  const buf = new Uint8Array(spec.size);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 7 + 1) & 0xff;
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, spec.klass ?? 2, 1, 1, 0], 0);
  buf.fill(0, 8, 16);
  v.setUint16(16, spec.type, true);
  v.setUint16(18, spec.machine ?? 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(spec.entry), true);
  const phoff = spec.phoff ?? 64;
  v.setBigUint64(32, BigInt(phoff), true);
  v.setBigUint64(40, 0n, true);
  v.setUint32(48, 0, true);
  v.setUint16(52, 64, true);
  v.setUint16(54, spec.phentsize ?? 56, true);
  v.setUint16(56, spec.phnum ?? spec.phdrs.length, true);
  v.setUint16(58, 64, true);
  v.setUint16(60, 0, true);
  v.setUint16(62, 0, true);
  spec.phdrs.forEach((p, i) => {
    const o = phoff + i * 56;
    if (o + 56 > buf.length) return;
    v.setUint32(o, p.type, true);
    v.setUint32(o + 4, p.flags, true);
    v.setBigUint64(o + 8, BigInt(p.offset), true);
    v.setBigUint64(o + 16, BigInt(p.vaddr), true);
    v.setBigUint64(o + 24, BigInt(p.vaddr), true);
    v.setBigUint64(o + 32, BigInt(p.filesz), true);
    v.setBigUint64(o + 40, BigInt(p.memsz), true);
    v.setBigUint64(o + 48, BigInt(p.align ?? 0x1000), true);
  });
  return buf;
}

/** Expected byte at file offset `off` of a buildElf image (outside the headers). */
export function fileByte(off: number): number {
  return (off * 7 + 1) & 0xff;
}

/** Write the image to a temporary executable file and return its path. */
export function writeTemp(image: Uint8Array, name = 'prog'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-loader-'));
  const p = path.join(dir, name);
  fs.writeFileSync(p, image, { mode: 0o755 });
  return p;
}

/** An in-memory LoadableFile (for interpreters and malformed images). */
export function memFile(filePath: string, image: Uint8Array): LoadableFile {
  return {
    path: filePath,
    size: image.length,
    read: (offset, length) => image.slice(offset, Math.min(image.length, offset + length)),
    backing: {
      name: filePath,
      fill(mf: NativeMemoryFile, fileOffset: number, mfOffset: number, length: number): void {
        const n = Math.min(length, image.length - fileOffset);
        if (n > 0) mf.write(mfOffset, image.subarray(fileOffset, fileOffset + n));
      },
    },
  };
}
