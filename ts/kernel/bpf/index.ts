// Classic BPF for seccomp filters: the validator (check.ts, Linux bpf_check_classic plus
// seccomp_check_filter) and the interpreter (interpreter.ts). This directory knows nothing
// of tasks or syscalls: kernel/seccomp.ts owns the filters and their actions.

export * from './opcodes';
export { BpfInvalid, checkClassic, checkSeccomp, decodeSockFilters } from './check';
export type { BpfProgram } from './check';
export { runBpf } from './interpreter';
export { convertedLength } from './converted_length';
