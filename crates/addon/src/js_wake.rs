//! What the two ways of waking the JS thread for parked runs share (wake_loop.rs: the
//! platform's fd in the event loop; idle_wait.rs: the JS thread sleeping on the runs' words):
//! finding libuv's functions in the node binary, and calling the woken runs' callbacks in
//! one callback scope; the event loop and async context they are made on; the registry of
//! the contexts' callbacks. Owns no state of its own.

use std::collections::HashMap;
use std::ffi::{c_void, CStr};

use napi::bindgen_prelude::*;
use napi::sys;

/// A symbol of the node binary (libuv's functions: the addon links no libuv).
pub(crate) fn sym(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: dlsym with a NUL-terminated name in the global scope.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

fn check(s: sys::napi_status) -> Result<()> {
    if s == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!("napi status {s}")))
    }
}

/// The libuv loop of `env` and an async context named `name` for the callbacks called on it.
pub(crate) fn loop_and_async_context(env: sys::napi_env, name: &CStr) -> Result<(*mut c_void, sys::napi_async_context)> {
    let mut lp = std::ptr::null_mut();
    // SAFETY: napi calls on the JS thread with out-pointers we own.
    unsafe { check(sys::napi_get_uv_event_loop(env, &mut lp))? };
    let mut async_ctx = std::ptr::null_mut();
    // SAFETY: as above; the resource object and name live in the current handle scope.
    unsafe {
        let mut resource = std::ptr::null_mut();
        check(sys::napi_create_object(env, &mut resource))?;
        let mut js_name = std::ptr::null_mut();
        check(sys::napi_create_string_utf8(env, name.as_ptr(), name.to_bytes().len() as isize, &mut js_name))?;
        check(sys::napi_async_init(env, resource, js_name, &mut async_ctx))?;
    }
    Ok((lp as *mut c_void, async_ctx))
}

/// A zeroed libuv handle of `size` bytes (freed by the handle's close callback); `what` names
/// it in the ENOMEM error.
pub(crate) fn alloc_handle(size: usize, what: &str) -> Result<*mut c_void> {
    // SAFETY: plain allocation, zeroed, of the size libuv asks for.
    let handle = unsafe { libc::calloc(1, size) };
    if handle.is_null() {
        return Err(napi::Error::from_reason(format!("ENOMEM: {what}")));
    }
    Ok(handle)
}

/// The contexts' JS callbacks by id (strong references), ids from 1, never 0.
pub(crate) struct Callbacks {
    refs: HashMap<u32, sys::napi_ref>,
    next: u32,
}

impl Callbacks {
    pub(crate) fn new() -> Callbacks {
        Callbacks { refs: HashMap::new(), next: 1 }
    }

    /// Keeps `f` (a strong reference) under a new id.
    pub(crate) fn add(&mut self, env: sys::napi_env, f: sys::napi_value) -> Result<u32> {
        let mut r = std::ptr::null_mut();
        // SAFETY: a strong reference to a function value of the current scope.
        unsafe { check(sys::napi_create_reference(env, f, 1, &mut r))? };
        let id = self.next;
        self.next = self.next.wrapping_add(1).max(1);
        self.refs.insert(id, r);
        Ok(id)
    }

    /// The reference of `id`, taken out: the caller deletes it (delete_ref) outside any borrow.
    pub(crate) fn take(&mut self, id: u32) -> Option<sys::napi_ref> {
        self.refs.remove(&id)
    }

    pub(crate) fn get(&self, id: u32) -> Option<sys::napi_ref> {
        self.refs.get(&id).copied()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }
}

/// Deletes a reference `Callbacks::take` gave out.
pub(crate) fn delete_ref(env: sys::napi_env, r: sys::napi_ref) {
    // SAFETY: a reference Callbacks created, deleted once (take removed it).
    unsafe { sys::napi_delete_reference(env, r) };
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
