//! What the two ways of waking the JS thread for parked runs share (wake_loop.rs: the
//! platform's fd in the event loop; idle_wait.rs: the JS thread sleeping on the runs' words):
//! finding libuv's functions in the node binary, and calling the woken runs' callbacks in
//! one callback scope. Owns no state.

use std::ffi::{c_void, CStr};

use napi::bindgen_prelude::*;
use napi::sys;

/// A symbol of the node binary (libuv's functions: the addon links no libuv).
pub(crate) fn sym(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with a NUL-terminated name in the global scope.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

pub(crate) fn check(s: sys::napi_status) -> Result<()> {
    if s == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!("napi status {s}")))
    }
}

/// Calls the JS functions behind `refs` with no arguments, in one callback scope whose close
/// runs the microtasks (promise reactions); an exception one throws is uncaught, as any
/// other callback's would be.
///
/// # Safety
/// On the JS thread of `env`, outside any napi call (a libuv callback); `refs` are live
/// references of `env`, and `async_ctx` an async context made on it.
pub(crate) unsafe fn call_callbacks(env: sys::napi_env, async_ctx: sys::napi_async_context, refs: &[sys::napi_ref]) {
    let mut hs = std::ptr::null_mut();
    if sys::napi_open_handle_scope(env, &mut hs) != sys::Status::napi_ok {
        return;
    }
    let mut fns = Vec::with_capacity(refs.len());
    for &r in refs {
        let mut f = std::ptr::null_mut();
        if sys::napi_get_reference_value(env, r, &mut f) == sys::Status::napi_ok && !f.is_null() {
            fns.push(f);
        }
    }
    let mut resource = std::ptr::null_mut();
    sys::napi_get_global(env, &mut resource);
    let mut cs = std::ptr::null_mut();
    if sys::napi_open_callback_scope(env, resource, async_ctx, &mut cs) == sys::Status::napi_ok {
        let mut undefined = std::ptr::null_mut();
        sys::napi_get_undefined(env, &mut undefined);
        for f in fns {
            let mut res = std::ptr::null_mut();
            if sys::napi_call_function(env, undefined, f, 0, std::ptr::null(), &mut res) == sys::Status::napi_pending_exception {
                let mut e = std::ptr::null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut e);
                sys::napi_fatal_exception(env, e);
            }
        }
        sys::napi_close_callback_scope(env, cs);
    }
    sys::napi_close_handle_scope(env, hs);
}
