// Builds the stub executable (stub/stub.S, stub/systrap.c) with the system C compiler; the
// ptrace crate embeds it and the systrap platform reuses it.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("stub");
    println!("cargo:rerun-if-changed=stub/stub.S");
    println!("cargo:rerun-if-changed=stub/systrap.c");
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-nostdlib", "-static", "-no-pie", "-ffreestanding", "-fno-stack-protector",
            "-fcf-protection=none", "-fno-asynchronous-unwind-tables", "-O2", "-mgeneral-regs-only",
            "-Wl,--build-id=none", "-Wl,-z,noseparate-code", "-Wl,-Ttext-segment=0x7fff00000000", "-o",
        ])
        .arg(&out)
        .args(["stub/stub.S", "stub/systrap.c"])
        .status()
        .expect("running the C compiler for the ptrace stub");
    assert!(status.success(), "building the ptrace stub failed");
}
