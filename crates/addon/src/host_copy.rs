//! copy_file_range(2) between two host fds the sentry holds, for ts/fsimpl/gofer/direct_io.ts
//! (the work and its tests: tsvisor_platform::host_copy). Node has no binding for it.

use napi_derive::napi;

/// Bytes copied from `fd_in` at `off_in` to `fd_out` at `off_out` (at most `len`), or -errno:
/// see tsvisor_platform::host_copy::copy_file_range_at. Numbers that are not whole
/// non-negative values below 2^53 are EINVAL.
#[napi]
pub fn host_copy_file_range(fd_in: i32, off_in: f64, fd_out: i32, off_out: f64, len: f64) -> f64 {
    let whole = |v: f64| v.fract() == 0.0 && (0.0..=9007199254740991.0).contains(&v);
    if !whole(off_in) || !whole(off_out) || !whole(len) {
        return -(libc::EINVAL as f64);
    }
    match tsvisor_platform::host_copy::copy_file_range_at(fd_in, off_in as u64, fd_out, off_out as u64, len as u64) {
        Ok(n) => n as f64,
        Err(e) => -(e as f64),
    }
}
