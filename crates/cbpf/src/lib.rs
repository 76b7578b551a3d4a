//! Classic BPF as seccomp(2) takes it, for the filters tsvisor installs on the host: the
//! systrap stub's (crates/systrap) and the gofer's allowlist (crates/gofer). Owns the
//! instruction layout, the few opcodes those filters use, seccomp's return values, and a small
//! interpreter their tests run the filters through. It installs nothing and must not grow
//! policy: each filter's rules stay with the process that runs under it. (The application's
//! own filters are evaluated by the sentry, in ts/kernel/bpf, and never reach the host.)

/// `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// One instruction.
pub const fn st(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// BPF_LD | BPF_W | BPF_ABS: A = the 32-bit word of seccomp_data at k.
pub const LD_W_ABS: u16 = 0x20;
/// BPF_JMP | BPF_JEQ / JGE / JGT / JSET | BPF_K.
pub const JEQ_K: u16 = 0x15;
pub const JGE_K: u16 = 0x35;
pub const JGT_K: u16 = 0x25;
pub const JSET_K: u16 = 0x45;
/// BPF_ALU | BPF_AND | BPF_K.
pub const AND_K: u16 = 0x54;
/// BPF_RET | BPF_K.
pub const RET_K: u16 = 0x06;

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_TRAP: u32 = 0x0003_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;

pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// Offsets in `struct seccomp_data`.
pub const OFF_NR: u32 = 0;
pub const OFF_ARCH: u32 = 4;
pub const OFF_IP: u32 = 8;
pub const OFF_ARGS: u32 = 16;

/// `struct seccomp_data` for `run`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeccompData {
    pub nr: u32,
    pub arch: u32,
    pub ip: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    fn bytes(&self) -> [u8; 64] {
        let mut d = [0u8; 64];
        d[0..4].copy_from_slice(&self.nr.to_le_bytes());
        d[4..8].copy_from_slice(&self.arch.to_le_bytes());
        d[8..16].copy_from_slice(&self.ip.to_le_bytes());
        for (i, a) in self.args.iter().enumerate() {
            d[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        d
    }
}

/// Run `prog` over `data` as the kernel would, for the opcodes above. Panics on anything the
/// kernel would refuse (an unknown opcode, a load outside seccomp_data or unaligned, a jump
/// past the end, falling off the end): a test that builds such a filter must fail.
pub fn run(prog: &[SockFilter], data: &SeccompData) -> u32 {
    let bytes = data.bytes();
    let (mut a, mut pc) = (0u32, 0usize);
    loop {
        let f = *prog.get(pc).expect("ran off the end of the filter");
        pc += 1;
        let jump = |taken: bool| if taken { f.jt } else { f.jf } as usize;
        match f.code {
            LD_W_ABS => {
                let k = f.k as usize;
                assert!(k.is_multiple_of(4) && k + 4 <= bytes.len(), "load of seccomp_data offset {k}");
                a = u32::from_le_bytes(bytes[k..k + 4].try_into().unwrap());
            }
            AND_K => a &= f.k,
            RET_K => return f.k,
            JEQ_K => pc += jump(a == f.k),
            JGE_K => pc += jump(a >= f.k),
            JGT_K => pc += jump(a > f.k),
            JSET_K => pc += jump(a & f.k != 0),
            op => panic!("unknown opcode {op:#x}"),
        }
        assert!(pc < prog.len(), "jump past the end of the filter");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interpreter_reads_fields_and_jumps_as_the_kernel() {
        let prog = [
            st(LD_W_ABS, 0, 0, OFF_ARCH),
            st(JEQ_K, 0, 3, AUDIT_ARCH_X86_64),
            st(LD_W_ABS, 0, 0, OFF_ARGS + 8), // args[1], low half
            st(JSET_K, 0, 1, 4),
            st(RET_K, 0, 0, RET_TRAP),
            st(RET_K, 0, 0, RET_ALLOW),
        ];
        let mut d = SeccompData { arch: AUDIT_ARCH_X86_64, ..Default::default() };
        assert_eq!(run(&prog, &d), RET_ALLOW);
        d.args[1] = 5;
        assert_eq!(run(&prog, &d), RET_TRAP);
        d.arch = AUDIT_ARCH_I386;
        assert_eq!(run(&prog, &d), RET_ALLOW, "jf 3 skips to the last instruction");
    }

    #[test]
    #[should_panic(expected = "jump past the end")]
    fn a_jump_past_the_end_fails_the_test() {
        run(&[st(JEQ_K, 5, 5, 0), st(RET_K, 0, 0, 0)], &SeccompData::default());
    }
}
