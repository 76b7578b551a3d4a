//! One syscall in ring 3, run when the platform is made: a /dev/kvm that opens and answers
//! every capability query can still fail to run a guest (a broken nested KVM does exactly
//! that), and a user must hear so at start-up, in one line, not from a hung program.

use std::time::{Duration, Instant};

use tsvisor_platform::{EventKind, Platform, PROT_EXEC, PROT_READ, REG_ORIG_RAX, REG_RDI, REG_RIP, REG_RSP};

use crate::KvmPlatform;

const CODE: u64 = 0x40_0000;
/// mov $39, %eax; mov $0x5ca1ab1e, %edi; syscall; ud2
const PROGRAM: [u8; 14] = [0xb8, 39, 0, 0, 0, 0xbf, 0x1e, 0xab, 0xa1, 0x5c, 0x0f, 0x05, 0x0f, 0x0b];

pub fn run(p: &KvmPlatform) -> Result<(), String> {
    let mf = &p.vm.mf;
    let page = mf.allocate(1).map_err(|e| format!("memory: {e}"))?;
    let result = (|| {
        mf.write(page, &PROGRAM).map_err(|e| e.to_string())?;
        let mut space = p.new_address_space().map_err(|e| format!("address space: {e}"))?;
        space.map(CODE, 4096, page, PROT_READ | PROT_EXEC).map_err(|e| format!("map: {e}"))?;
        let ctx = p.new_context(&*space).map_err(|e| format!("vCPU: {e}"))?;
        let mut regs = ctx.initial_regs();
        regs[REG_RIP] = CODE;
        regs[REG_RSP] = CODE + 4096;
        ctx.switch_to_user(&regs);
        let start = Instant::now();
        while !ctx.poll() {
            if start.elapsed() > Duration::from_secs(20) {
                ctx.interrupt();
                return Err("no exit from the guest within 20 s".to_string());
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        let ev = ctx.take(&mut regs);
        ctx.release();
        space.release();
        let got = (ev.kind, regs[REG_ORIG_RAX], regs[REG_RDI], regs[REG_RIP]);
        if got != (EventKind::Syscall, 39, 0x5ca1_ab1e, CODE + 12) {
            return Err(format!("ring-3 syscall came back as {got:x?}"));
        }
        Ok(())
    })();
    let _ = mf.dec_ref(page, 4096);
    result
}
