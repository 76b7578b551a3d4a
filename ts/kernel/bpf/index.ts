// Classic BPF for seccomp filters: the validator (check.ts, Linux bpf_check_classic plus
// seccomp_check_filter) and the interpreter (interpreter.ts); and for socket filters, the
// packet interpreter (packet_filter.ts). This directory knows nothing
// of tasks or syscalls: kernel/seccomp.ts and net/sock_filter.ts own the filters.

export * from './opcodes';
export { BpfInvalid, checkClassic, checkSeccomp, decodeSockFilters } from './check';
export type { BpfProgram } from './check';
export { runBpf } from './interpreter';
export { filterKeep, runSockFilter, type FilterPacket, type FilterSlot } from './packet_filter';
export { convertedLength } from './converted_length';
