//! The host kernel's vDSO, kept in every stub process at a fixed address of the stub's
//! reserved region, so that the sandbox's own vDSO (ts/loader/vdso.ts) reads the clock as the
//! sentry does, without a trap: it calls the host's __vdso_clock_gettime(CLOCK_MONOTONIC)
//! there and adds the sandbox's offsets.
//!
//! The host maps its vDSO's data pages ([vvar], and on 6.x kernels [vvar_vclock]) just below
//! its code ([vdso]), which finds them RIP-relatively: the pages move together, keeping their
//! layout (mremap MREMAP_FIXED, one VMA at a time; the kernel follows a moved [vdso]). The
//! layout and the function's offset are the same in every process of this host kernel, so
//! they are read once from the sentry's own process.
//!
//! What this shows the application (the threat model, lib.rs): the host vDSO's text (the
//! host kernel's build) and its data pages (the host's clocks, which the sandbox's clocks
//! are anyway). All of it lies above max_user_address, where no syscall of the application
//! reaches (the sentry bounds every address), so it can be read and called but not changed.
//! A syscall the host vDSO makes itself (its fallback when the clocksource cannot be read
//! in user mode) is trapped like any of the application's and served by the sentry.

use std::io;
use std::sync::OnceLock;

use crate::stub::{StubProcess, STUB_BASE};

/// Where the first of the host's vDSO mappings goes in every stub; the rest follow at their
/// distances from it. Above the systrap slots (stub base + 0x2020_0000 at most), below the
/// top of the stub's 4 GiB.
pub const HOST_VDSO_AREA: u64 = STUB_BASE + 0xf000_0000;

/// The host's vDSO as every stub holds it.
#[derive(Debug)]
pub struct HostVdso {
    /// (name, offset from the first, length) of each mapping, in address order.
    layout: Vec<(String, u64, u64)>,
    /// __vdso_clock_gettime in every stub.
    pub clock_gettime: u64,
    /// [HOST_VDSO_AREA, end): every page of it.
    pub end: u64,
}

/// The host's vDSO mappings of a process, from its maps file: (name, start, end).
fn vdso_mappings(maps: &str) -> Vec<(String, u64, u64)> {
    let mut v = Vec::new();
    for line in maps.lines() {
        let Some(name) = line.split_whitespace().nth(5) else { continue };
        if !(name == "[vdso]" || name.starts_with("[vvar")) {
            continue;
        }
        let range = line.split_whitespace().next().unwrap_or("");
        let Some((s, e)) = range.split_once('-') else { continue };
        if let (Ok(s), Ok(e)) = (u64::from_str_radix(s, 16), u64::from_str_radix(e, 16)) {
            v.push((name.to_string(), s, e));
        }
    }
    v
}

fn u16_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u16::from_le_bytes(b.get(off..off.checked_add(2)?)?.try_into().ok()?) as u64)
}
fn u32_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u32::from_le_bytes(b.get(off..off.checked_add(4)?)?.try_into().ok()?) as u64)
}
fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(off..off.checked_add(8)?)?.try_into().ok()?))
}

/// The offset of `name` from the start of the vDSO image `img` (an ELF shared object with
/// its section headers, as Linux builds it): its .dynsym entry's value less the first
/// PT_LOAD's address.
pub fn symbol_offset(img: &[u8], name: &str) -> Option<u64> {
    if img.get(0..4)? != b"\x7fELF" || *img.get(4)? != 2 {
        return None;
    }
    let (phoff, shoff) = (u64_at(img, 32)? as usize, u64_at(img, 40)? as usize);
    let (phnum, shentsize, shnum) = (u16_at(img, 56)? as usize, u16_at(img, 58)? as usize, u16_at(img, 60)? as usize);
    let base = (0..phnum).find_map(|i| {
        let ph = phoff.wrapping_add(56 * i);
        (u32_at(img, ph)? == 1).then(|| u64_at(img, ph.wrapping_add(16))).flatten()
    })?;
    for i in 0..shnum {
        let sh = shoff.wrapping_add(shentsize * i);
        if u32_at(img, sh.wrapping_add(4))? != 11 {
            continue; // not SHT_DYNSYM
        }
        let (off, size, link) = (u64_at(img, sh + 24)? as usize, u64_at(img, sh + 32)? as usize, u32_at(img, sh + 40)? as usize);
        let strtab = u64_at(img, shoff.wrapping_add(shentsize * link).wrapping_add(24))? as usize;
        for s in (off..off.checked_add(size)?).step_by(24) {
            let at = strtab.checked_add(u32_at(img, s)? as usize)?;
            let sym = img.get(at..)?.split(|&c| c == 0).next()?;
            if sym == name.as_bytes() {
                return u64_at(img, s + 8)?.checked_sub(base);
            }
        }
    }
    None
}

/// The host's vDSO as read from the sentry's own process; None without one (vdso=0, or an
/// image we cannot read).
pub fn host_vdso() -> Option<&'static HostVdso> {
    static V: OnceLock<Option<HostVdso>> = OnceLock::new();
    V.get_or_init(|| {
        let own = vdso_mappings(&std::fs::read_to_string("/proc/self/maps").ok()?);
        let first = own.first()?.1;
        let (_, vs, ve) = own.iter().find(|m| m.0 == "[vdso]")?.clone();
        // SAFETY: AT_SYSINFO_EHDR names the vDSO image the kernel mapped readable in this
        // process for its whole life; [vs, ve) is that mapping as /proc/self/maps gives it.
        let img = unsafe {
            if libc::getauxval(libc::AT_SYSINFO_EHDR) != vs {
                return None;
            }
            std::slice::from_raw_parts(vs as *const u8, (ve - vs) as usize).to_vec()
        };
        let f = symbol_offset(&img, "__vdso_clock_gettime")?;
        let layout: Vec<_> = own.iter().map(|(n, s, e)| (n.clone(), s - first, e - s)).collect();
        let end = HOST_VDSO_AREA + layout.last().map(|l| l.1 + l.2)?;
        Some(HostVdso { clock_gettime: HOST_VDSO_AREA + (vs - first) + f, end, layout })
    })
    .as_ref()
}

/// Whether the host's vDSO reads its clock in user mode (the clocksource has a vDSO mode);
/// otherwise each of its calls would make a syscall, and the sandbox's vDSO makes its own.
pub fn host_clock_in_user_mode() -> bool {
    let cs = std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource").unwrap_or_default();
    matches!(cs.trim(), "tsc" | "kvm-clock" | "hyperv_clocksource_tsc_page")
}

/// For Platform::host_vdso_clock: (__vdso_clock_gettime, start, end of the host's vDSO) in
/// every stub, where the host's vDSO reads its clock in user mode.
pub fn host_vdso_clock() -> Option<(u64, u64, u64)> {
    let v = host_vdso()?;
    host_clock_in_user_mode().then_some((v.clock_gettime, HOST_VDSO_AREA, v.end))
}

/// Moves a fresh stub's host vDSO mappings to HOST_VDSO_AREA (before the stub unmaps the rest
/// of the host's image). A stub whose mappings differ from the sentry's is refused (EIO);
/// one whose vDSO happens to sit where it should go asks for another try (EEXIST).
pub fn relocate(stub: &mut StubProcess) -> io::Result<()> {
    let Some(v) = host_vdso() else { return Ok(()) };
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", stub.pid))?;
    let theirs = vdso_mappings(&maps);
    let first = theirs.first().map(|m| m.1).unwrap_or(0);
    let same = theirs.len() == v.layout.len()
        && theirs.iter().zip(&v.layout).all(|((n, s, e), (ln, lo, len))| n == ln && s - first == *lo && e - s == *len);
    if !same {
        return Err(io::Error::from_raw_os_error(libc::EIO));
    }
    if first < v.end && first + v.end - HOST_VDSO_AREA > HOST_VDSO_AREA {
        return Err(io::Error::from_raw_os_error(libc::EEXIST));
    }
    const MREMAP_MAYMOVE: u64 = 1;
    const MREMAP_FIXED: u64 = 2;
    for (_, s, e) in theirs {
        let to = HOST_VDSO_AREA + (s - first);
        let r = stub.checked(libc::SYS_mremap, [s, e - s, e - s, MREMAP_MAYMOVE | MREMAP_FIXED, to, 0])?;
        if r as u64 != to {
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_hosts_clock_gettime() {
        let Some(v) = host_vdso() else { return eprintln!("skipped: no host vDSO") };
        assert!(v.clock_gettime > HOST_VDSO_AREA && v.clock_gettime < v.end);
        assert!(v.layout.iter().any(|l| l.0 == "[vdso]"));
    }

    #[test]
    fn symbol_offset_refuses_garbage() {
        assert_eq!(symbol_offset(b"", "x"), None);
        assert_eq!(symbol_offset(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0xff, 0xff], "x"), None);
        // A fixed-seed fuzz: corrupted copies of the real image never panic.
        let vs = unsafe { libc::getauxval(libc::AT_SYSINFO_EHDR) } as usize;
        if vs == 0 {
            return;
        }
        // SAFETY: the vDSO image is at least one readable page for this process's life.
        let img = unsafe { std::slice::from_raw_parts(vs as *const u8, 4096) }.to_vec();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut b = img.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % b.len();
                b[at] = (seed >> 32) as u8;
            }
            let _ = symbol_offset(&b, "__vdso_clock_gettime");
        }
    }
}
