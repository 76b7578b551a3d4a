// ExeFile: the program an address space runs (Linux mm->exe_file). Each MemoryManager that has
// one denies writes to the file for as long as it has it (vfs/write_access.ts); exec checks
// that nobody writes it before the first.

export interface ExeFile {
  /** One more address space runs the file. */
  deny(): void;
  /** One fewer. */
  allow(): void;
}
