// Splitting CI's KVM files among several QEMU guests (test/kvm/guest_suite.mjs --guests N): each
// guest has one emulated CPU, so N guests keep N host cores busy where one guest used one (two
// vCPUs in one guest starve each other under TCG, and froze it in three of six runs).
// Longest first onto the guest with the least so far (LPT): within 4/3 of the best split, and
// with 100+ files of 2-50 s each, within seconds of it.
import { DEFAULT_SECS, FILE_SECS } from './file_times.mjs';

/** A file's expected seconds in the guest. */
export function estimate(file, table = FILE_SECS) {
  const s = table[file];
  return typeof s === 'number' && s >= 0 ? s : DEFAULT_SECS;
}

/** `files` into `n` shards ({ files, secs }), each file in exactly one, the order within a
 *  shard the given order; the same input gives the same split. Empty shards are dropped. */
export function shardFiles(files, n, table = FILE_SECS) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`shard count must be a positive integer, not ${n}`);
  const shards = Array.from({ length: n }, () => ({ files: [], secs: 0 }));
  // Ties broken by position, so that the split does not depend on the sort's stability.
  const order = files.map((f, i) => ({ f, i, s: estimate(f, table) })).sort((a, b) => b.s - a.s || a.i - b.i);
  const owner = new Map();
  for (const { f, s } of order) {
    let k = 0;
    for (let j = 1; j < n; j++) if (shards[j].secs < shards[k].secs) k = j;
    shards[k].secs += s;
    owner.set(f, k);
  }
  for (const f of files) shards[owner.get(f)].files.push(f);
  return shards.filter((s) => s.files.length > 0);
}
