// A VMA's NUMA memory policy (Linux struct mempolicy, set by mbind): what mm keeps of it is
// enough to tell two apart, since VMAs with different policies never merge (mpol_equal).
// The syscalls that decode and check policies are in syscalls/linux/sys_mempolicy.ts.

export interface MemPolicy {
  readonly mode: number;
  /** MPOL_F_STATIC_NODES / MPOL_F_RELATIVE_NODES. */
  readonly flags: number;
  readonly nodes: bigint;
}

/** mpol_equal; null is the default policy. */
export function mpolEqual(a: MemPolicy | null, b: MemPolicy | null): boolean {
  if (a === null || b === null) return a === b;
  return a.mode === b.mode && a.flags === b.flags && a.nodes === b.nodes;
}
