// Builds the stub executable (stub/stub.S) with the system C compiler and embeds it.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("stub");
    println!("cargo:rerun-if-changed=stub/stub.S");
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-nostdlib", "-static", "-no-pie", "-Wl,--build-id=none", "-Wl,-z,noseparate-code",
            "-Wl,-Ttext-segment=0x7ffffff00000", "-o",
        ])
        .arg(&out)
        .arg("stub/stub.S")
        .status()
        .expect("running the C compiler for the ptrace stub");
    assert!(status.success(), "building the ptrace stub failed");
}
