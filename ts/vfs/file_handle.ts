// File handles (Linux fs/exportfs, mm/shmem.c's export operations): an opaque name for an
// inode that outlives paths, for name_to_handle_at/open_by_handle_at. Only tmpfs (and the
// tmpfs-backed devtmpfs) can decode handles, as in Linux; other file systems give the
// generic non-decodable FID (exportfs_encode_inode_fh: ino, generation) for AT_HANDLE_FID.
//
// A tmpfs handle is shmem's: u32 words { generation, ino low, ino high }, type 1. The
// generation is drawn per inode object when first encoded, so a number reused for a new
// file never matches an old handle. Decoding looks the (ino, generation) pair up in the
// file system's table of dentries handed out so far; a dentry is kept weakly, and a file
// that is unlinked with no open file left is gone (ESTALE), as an evicted inode is in Linux.
// Owns: the handle format and the table. Must not touch: open's checks (vfs/open.ts).

import { Dentry } from './dentry';
import type { FileSystem } from './file_system';
import type { Inode } from './inode';
import { TmpfsFS } from '../fsimpl/tmpfs/tmpfs';

export const MAX_HANDLE_SZ = 128;
export const FILEID_INO32_GEN = 1;
export const FILEID_INVALID = 255;

const generations = new WeakMap<Inode, number>();
// Deterministic (a fixed-seed LCG) so runs repeat; only equality matters to a handle.
let genState = 0x2545f491;
function generationOf(inode: Inode): number {
  let g = generations.get(inode);
  if (g === undefined) {
    genState = (Math.imul(genState, 1664525) + 1013904223) >>> 0;
    g = genState;
    generations.set(inode, g);
  }
  return g;
}

/** Can handles on fs be decoded (Linux exportfs_can_decode_fh)? */
export function canDecode(fs: FileSystem): boolean {
  return fs instanceof TmpfsFS;
}

const tables = new WeakMap<FileSystem, Map<string, WeakRef<Dentry>>>();

function key(ino: number, gen: number): string { return `${ino}:${gen}`; }

/** The handle of the file at dentry: its type and u32 words. */
export function encodeHandle(fs: FileSystem, dentry: Dentry): { type: number; words: number[] } {
  const inode = dentry.inode;
  const ino = inode.stat().ino;
  const gen = generationOf(inode);
  if (!canDecode(fs)) return { type: FILEID_INO32_GEN, words: [ino >>> 0, gen] };
  let table = tables.get(fs);
  if (!table) tables.set(fs, table = new Map());
  const k = key(ino, gen);
  const known = table.get(k)?.deref();
  // Keep a live name: a later link or rename moves the dentry, an unlink retires it.
  if (!known || (known.deleted && !dentry.deleted)) table.set(k, new WeakRef(dentry));
  return { type: FILEID_INO32_GEN, words: [gen, ino >>> 0, Math.floor(ino / 2 ** 32) >>> 0] };
}

/** The dentry a tmpfs handle names, or null (ESTALE) when it names nothing that is alive. */
export function decodeHandle(fs: FileSystem, words: Uint32Array): Dentry | null {
  if (!canDecode(fs) || words.length < 3) return null;
  const [gen, lo, hi] = [words[0], words[1], words[2]];
  const ino = hi * 2 ** 32 + lo;
  const table = tables.get(fs);
  const k = key(ino, gen);
  const d = table?.get(k)?.deref();
  if (!d) return null;
  if (d.inode.fs !== fs || generations.get(d.inode) !== gen) return null;
  if (d.deleted && d.openCount === 0 && d.inode.stat().nlink === 0) {
    table!.delete(k);
    return null;
  }
  return d;
}
