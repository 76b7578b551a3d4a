// faultForIo (mm/io_fault.ts) and the host-fd reads that use it (copy.ts preadFromHost): a read
// into a fresh buffer maps the stretch it will fill in one allocate and one map, never past the
// file's end, and a read at the end touches nothing.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../../ts/abi/linux/mm';
import { EFAULT } from '../../../ts/abi/linux/errno';
import { ACCESS_WRITE } from '../../../ts/native/addon';
import { FAULT_WINDOW, POPULATE_CHUNK } from '../../../ts/mm/layout';
import { PAGE } from './fake_native';
import { BytesBacking, errnoOf, newMM, pattern } from './helpers';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE = 0x4000_0000;

let dir = '';
let file = '';
let fd = -1;
const SIZE = 3 * FAULT_WINDOW + 100;
const bytes = pattern(SIZE, 3);
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'tsvisor-io-fault-'));
  file = path.join(dir, 'f');
  fs.writeFileSync(file, bytes);
  fd = fs.openSync(file, 'r');
});
afterAll(() => {
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('faultForIo', () => {
  it('maps the unmapped stretch of the VMA up to end in one allocate and one map', () => {
    const { mm, as, mf } = newMM();
    mm.mmap(BASE, 8 * FAULT_WINDOW, RW, ANON | MAP_FIXED, null, 0);
    expect(mm.faultForIo(BASE + 5, BASE + 3 * FAULT_WINDOW + 1, ACCESS_WRITE)).toBe(true);
    expect(mf.allocateCalls).toBe(1);
    expect(as.mapCalls).toBe(1);
    expect(as.pmas.size).toBe(3 * FAULT_WINDOW / PAGE + 1);
    expect(as.pmas.has(BASE + 3 * FAULT_WINDOW + PAGE)).toBe(false);
  });

  it('stops at the VMA and at POPULATE_CHUNK; a page it cannot have is refused', () => {
    const { mm, as } = newMM();
    mm.mmap(BASE, 2 * PAGE, RW, ANON | MAP_FIXED, null, 0);
    expect(mm.faultForIo(BASE, BASE + 64 * PAGE, ACCESS_WRITE)).toBe(true);
    expect(as.pmas.size).toBe(2);
    const big = mm.mmap(0, POPULATE_CHUNK + FAULT_WINDOW * 4, RW, ANON, null, 0);
    expect(mm.faultForIo(big, big + POPULATE_CHUNK + FAULT_WINDOW * 4, ACCESS_WRITE)).toBe(true);
    expect(as.pmas.has(big + POPULATE_CHUNK - PAGE)).toBe(true);
    expect(as.pmas.has(big + POPULATE_CHUNK)).toBe(false);
    const ro = mm.mmap(0, 4 * PAGE, PROT_READ, ANON, null, 0);
    expect(mm.faultForIo(ro, ro + 4 * PAGE, ACCESS_WRITE)).toBe(false);
    expect(as.pmas.has(ro)).toBe(false);
  });

  it('gives a private file mapping its own writable copies of the file', () => {
    const { mm, as } = newMM();
    const data = pattern(4 * PAGE, 9);
    const at = mm.mmap(0, 4 * PAGE, RW, MAP_PRIVATE, new BytesBacking(data), 0);
    expect(mm.faultForIo(at + PAGE, at + 3 * PAGE, ACCESS_WRITE)).toBe(true);
    for (let i = 1; i < 3; i++) expect(as.pmas.get(at + i * PAGE)?.prot).toBe(RW);
    expect(mm.copyIn(at + PAGE, 2 * PAGE)).toEqual(data.subarray(PAGE, 3 * PAGE));
  });
});

describe('preadFromHost into fresh memory', () => {
  const size = (): number => fs.fstatSync(fd).size;

  it('reads the file into a fresh buffer with one map, the pages past its end untouched', () => {
    const { mm, as } = newMM();
    mm.mmap(BASE, 8 * FAULT_WINDOW, RW, ANON | MAP_FIXED, null, 0);
    expect(mm.preadFromHost(BASE, 8 * FAULT_WINDOW, fd, 0, size)).toBe(SIZE);
    expect(as.mapCalls).toBe(1);
    expect(Buffer.compare(mm.copyIn(BASE, SIZE), bytes)).toBe(0);
    expect(as.pmas.has(BASE + Math.ceil(SIZE / PAGE) * PAGE)).toBe(false);
  });

  it('without the size it takes the whole buffer; at the end it touches nothing, even NULL', () => {
    const { mm, as } = newMM();
    mm.mmap(BASE, 4 * FAULT_WINDOW, RW, ANON | MAP_FIXED, null, 0);
    expect(mm.preadFromHost(BASE, 4 * FAULT_WINDOW, fd, 0)).toBe(SIZE);
    expect(as.pmas.size).toBe(4 * FAULT_WINDOW / PAGE);
    const before = as.mapCalls;
    expect(mm.preadFromHost(0, PAGE, fd, SIZE, size)).toBe(0);
    expect(mm.preadFromHost(BASE + 8 * FAULT_WINDOW, PAGE, fd, SIZE + 7, size)).toBe(0);
    expect(as.mapCalls).toBe(before);
    // Before the end, NULL is EFAULT; a buffer past the top of user space always is.
    expect(errnoOf(() => mm.preadFromHost(0, PAGE, fd, 0, size))).toBe(EFAULT);
    expect(errnoOf(() => mm.preadFromHost(0x7fff_ffff_f000, 2 * PAGE, fd, SIZE, size))).toBe(EFAULT);
  });
});
