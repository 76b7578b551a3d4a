// Inode numbers of namespaces made in the sandbox (Linux proc_alloc_inum: from
// PROC_DYNAMIC_FIRST up). The initial namespaces keep the fixed numbers Linux gives them
// (include/linux/proc_ns.h, in ../ns_file.ts); new ones count up from where Linux's first
// dynamic numbers fall, so that `lsns` output looks as on a host.

let next = 0xf0000000 + 0x200;

export function newNsIno(): number {
  return next++;
}
