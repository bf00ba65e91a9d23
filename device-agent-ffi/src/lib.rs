//! The numbind device agent as a C library: the entry points of `numbind_agent.h` (see this crate's README for
//! the ABI, ownership and threading rules). Every entry point catches panics and answers a status code.

mod event;
mod handle;
mod purchase;
mod types;

pub use event::qr_modules;
pub use handle::NumbindAgent;
pub use purchase::numbind_agent_purchase;
pub use types::{
    NumbindAgentConfig, NumbindAgentEvent, NumbindAgentEventCallback, NumbindAgentEventKind,
    NumbindAgentMerchantChannel, NumbindAgentPurchaseRequest, NumbindAgentSignedPurchase, NumbindAgentStatus,
    NumbindAgentStr,
};

use event::{EventSink, Reported};
use handle::Failure;
use numbind_device_agent::{AgentEvent, BindingStatus, LocalBindingState};
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The major ABI version of this header and library. Within one major version, only additions are made (new
/// functions, new event kinds and status codes at the end, new fields at the end of the event record); a change
/// to an existing signature, struct layout or meaning raises it.
pub const NUMBIND_AGENT_ABI_VERSION: u32 = 1;

/// The minor ABI version: raised by each addition within a major version. 1.1 added purchases
/// (`numbind_agent_purchase`, the `PURCHASE_*` event kinds and their fields, `NUMBIND_AGENT_STATUS_MERCHANT`).
pub const NUMBIND_AGENT_ABI_VERSION_MINOR: u32 = 1;

/// The library's `NUMBIND_AGENT_ABI_VERSION`; a box compiled against another major version must not use it.
#[no_mangle]
pub extern "C" fn numbind_agent_abi_version() -> u32 {
    NUMBIND_AGENT_ABI_VERSION
}

/// The library's `NUMBIND_AGENT_ABI_VERSION_MINOR`; a box needs a library whose minor version is at least the one
/// of the header it was compiled with (or it must not call what came later).
#[no_mangle]
pub extern "C" fn numbind_agent_abi_version_minor() -> u32 {
    NUMBIND_AGENT_ABI_VERSION_MINOR
}

/// The library's release (`0.1.0`), static: never freed.
#[no_mangle]
pub extern "C" fn numbind_agent_version() -> NumbindAgentStr {
    NumbindAgentStr::of(env!("CARGO_PKG_VERSION"))
}

/// Makes an agent: loads (or on first boot creates) the terminal identity in the state directory and checks the
/// configuration. On success `*agent_out` is a handle to free with `numbind_agent_free`. On failure `*agent_out`
/// is NULL and, when `error_buffer` is not NULL, the message is written there as UTF-8, NUL-terminated, cut to
/// fit `error_capacity` bytes.
///
/// # Safety
/// `config` points to a valid `NumbindAgentConfig` whose strings are valid for their lengths during this call;
/// `agent_out` is a valid pointer; `error_buffer` is NULL or valid for `error_capacity` bytes.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_new(
    config: *const NumbindAgentConfig,
    agent_out: *mut *mut NumbindAgent,
    error_buffer: *mut u8,
    error_capacity: usize,
) -> NumbindAgentStatus {
    let made = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller passes NULL or a valid configuration (this function's contract).
        let config = unsafe { config.as_ref() }
            .ok_or_else(|| Failure::new(NumbindAgentStatus::InvalidArgument, "config is NULL"))?;
        // SAFETY: the configuration's strings are valid for their lengths during this call (the contract).
        let agent_config = handle::agent_config(config, |text, name| unsafe { string_of(text, name) })?;
        NumbindAgent::new(agent_config)
    }))
    .unwrap_or_else(|payload| Err(panic_failure(payload.as_ref())));
    if agent_out.is_null() {
        return NumbindAgentStatus::InvalidArgument;
    }
    let (agent, status) = match made {
        Ok(agent) => (Box::into_raw(Box::new(agent)), NumbindAgentStatus::Ok),
        Err(failure) => {
            // SAFETY: `error_buffer` is NULL or valid for `error_capacity` bytes (the contract).
            unsafe { write_message(&failure.message, error_buffer, error_capacity) };
            (std::ptr::null_mut(), failure.status)
        }
    };
    // SAFETY: `agent_out` is not NULL and points to writable storage for a pointer (the contract).
    unsafe { agent_out.write(agent) };
    status
}

/// Frees an agent made by `numbind_agent_new`. NULL is ignored. No call on this agent may be running.
///
/// # Safety
/// `agent` is NULL or a handle from `numbind_agent_new` not freed yet; it is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_free(agent: *mut NumbindAgent) {
    if agent.is_null() {
        return;
    }
    // SAFETY: the handle came from `Box::into_raw` in `numbind_agent_new` and is freed once (the contract).
    let agent = unsafe { Box::from_raw(agent) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(agent)));
}

/// The message of the last call that failed on this agent: UTF-8, owned by the agent, valid until the next
/// call on it that fails, or its free. Empty when nothing failed.
///
/// # Safety
/// `agent` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_last_error(agent: *const NumbindAgent) -> NumbindAgentStr {
    // SAFETY: `agent` is NULL or a live handle (the contract).
    match unsafe { agent.as_ref() } {
        Some(agent) => agent.last_error(),
        None => NumbindAgentStr::EMPTY,
    }
}

/// The terminal ID to show on the screen, owned by the agent, valid until its free.
///
/// # Safety
/// `agent` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_terminal_id(agent: *const NumbindAgent) -> NumbindAgentStr {
    // SAFETY: `agent` is NULL or a live handle (the contract).
    match unsafe { agent.as_ref() } {
        Some(agent) => NumbindAgentStr::of(agent.agent.terminal_id().as_str()),
        None => NumbindAgentStr::EMPTY,
    }
}

/// The boot flow: registers, checks the signed status and, until the box is bound, shows codes and waits for the
/// user's SMS, reporting each step to `callback` on this thread. Returns `NUMBIND_AGENT_STATUS_OK` once bound (the last
/// event is `BOUND` or `ALREADY_BOUND`); retries network failures by itself; `numbind_agent_stop` ends it.
///
/// # Safety
/// `agent` is a live handle; `callback` is NULL or a function safe to call with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_run_until_bound(
    agent: *const NumbindAgent,
    callback: NumbindAgentEventCallback,
    user_data: *mut c_void,
) -> NumbindAgentStatus {
    // SAFETY: `agent` is NULL or live (the contract).
    unsafe {
        with_agent(agent, |agent| {
            let mut forward = forwarder(callback, user_data);
            agent.block_on(agent.agent.run_until_bound(&mut forward)).map(drop)
        })
    }
}

/// Watches the binding: reports `WATCHING`, then `UNBOUND` or `BINDING_CHANGED` as soon as the platform revokes
/// or replaces the binding, keeping the flag in step. Runs until `numbind_agent_stop` (answering
/// `NUMBIND_AGENT_STATUS_STOPPED`) or an error that retrying cannot fix.
///
/// # Safety
/// `agent` is a live handle; `callback` is NULL or a function safe to call with `user_data`.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_watch(
    agent: *const NumbindAgent,
    callback: NumbindAgentEventCallback,
    user_data: *mut c_void,
) -> NumbindAgentStatus {
    // SAFETY: `agent` is NULL or live (the contract).
    unsafe {
        with_agent(agent, |agent| {
            let mut forward = forwarder(callback, user_data);
            agent.block_on(agent.agent.watch(std::time::Duration::from_secs(25), &mut forward))
        })
    }
}

/// Reads the bound flag (no network): `*bound_out` is true when the box is bound.
///
/// # Safety
/// `agent` is a live handle; `bound_out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_is_bound(
    agent: *const NumbindAgent,
    bound_out: *mut bool,
) -> NumbindAgentStatus {
    // SAFETY: `agent` is NULL or live (the contract).
    unsafe {
        with_agent(agent, |agent| {
            let bound = matches!(agent.agent.local_state(), LocalBindingState::Bound(_));
            write_out(bound_out, bound)
        })
    }
}

/// Asks the platform (signed) whether the box is bound and makes the flag match: `*bound_out`.
///
/// # Safety
/// `agent` is a live handle; `bound_out` is a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_check_status(
    agent: *const NumbindAgent,
    bound_out: *mut bool,
) -> NumbindAgentStatus {
    // SAFETY: `agent` is NULL or live (the contract).
    unsafe {
        with_agent(agent, |agent| {
            let status = agent.block_on(agent.agent.check_status())?;
            write_out(bound_out, matches!(status, BindingStatus::Bound(_)))
        })
    }
}

/// Factory reset: the platform unbinds the box (signed), then the flag is cleared. The identity stays.
///
/// # Safety
/// `agent` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_factory_reset(agent: *const NumbindAgent) -> NumbindAgentStatus {
    // SAFETY: `agent` is NULL or live (the contract).
    unsafe { with_agent(agent, |agent| agent.block_on(agent.agent.reset())) }
}

/// Ends the blocking call in progress on this agent (it answers `NUMBIND_AGENT_STATUS_STOPPED`), or the next one if
/// none is running. The one call that may be made from any thread at any time, including from a callback.
///
/// # Safety
/// `agent` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn numbind_agent_stop(agent: *const NumbindAgent) {
    // SAFETY: `agent` is NULL or live (the contract).
    if let Some(agent) = unsafe { agent.as_ref() } {
        let _ = catch_unwind(AssertUnwindSafe(|| agent.stop()));
    }
}

/// Runs `call` on the agent, catching panics; a failure becomes the agent's last error and its status code.
///
/// # Safety
/// `agent` is NULL or a live handle.
pub(crate) unsafe fn with_agent(
    agent: *const NumbindAgent,
    call: impl FnOnce(&NumbindAgent) -> Result<(), Failure>,
) -> NumbindAgentStatus {
    // SAFETY: `agent` is NULL or live (this function's contract).
    let Some(agent) = (unsafe { agent.as_ref() }) else {
        return NumbindAgentStatus::InvalidArgument;
    };
    let outcome =
        catch_unwind(AssertUnwindSafe(|| call(agent))).unwrap_or_else(|payload| Err(panic_failure(payload.as_ref())));
    match outcome {
        Ok(()) => NumbindAgentStatus::Ok,
        Err(failure) => {
            agent.set_last_error(failure.message);
            failure.status
        }
    }
}

/// The closure that hands each agent event to the C callback as a borrowed record.
fn forwarder(callback: NumbindAgentEventCallback, user_data: *mut c_void) -> impl FnMut(AgentEvent) + Send {
    let sink = EventSink::new(callback, user_data);
    move |event: AgentEvent| sink.send(Reported::Agent(event))
}

fn write_out(out: *mut bool, value: bool) -> Result<(), Failure> {
    if out.is_null() {
        return Err(Failure::new(NumbindAgentStatus::InvalidArgument, "the out pointer is NULL"));
    }
    // SAFETY: not NULL, and the caller passes a valid pointer (the entry point's contract).
    unsafe { out.write(value) };
    Ok(())
}

/// # Safety
/// `text.ptr` is NULL or valid for `text.len` bytes.
pub(crate) unsafe fn string_of(text: NumbindAgentStr, name: &str) -> Result<String, Failure> {
    if text.ptr.is_null() {
        return match text.len {
            0 => Ok(String::new()),
            _ => Err(Failure::new(NumbindAgentStatus::InvalidArgument, format!("{name} is NULL with a length"))),
        };
    }
    // SAFETY: not NULL and valid for `len` bytes (this function's contract).
    let bytes = unsafe { std::slice::from_raw_parts(text.ptr, text.len) };
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| Failure::new(NumbindAgentStatus::InvalidArgument, format!("{name} is not UTF-8")))
}

/// Writes `message` NUL-terminated into the buffer, cut at a character boundary to fit.
///
/// # Safety
/// `buffer` is NULL or valid for `capacity` bytes.
unsafe fn write_message(message: &str, buffer: *mut u8, capacity: usize) {
    if buffer.is_null() || capacity == 0 {
        return;
    }
    let mut length = message.len().min(capacity - 1);
    while !message.is_char_boundary(length) {
        length -= 1;
    }
    // SAFETY: `length + 1 <= capacity` bytes are written into a buffer valid for `capacity` bytes (the contract),
    // from a source that does not overlap it (a Rust string).
    unsafe {
        std::ptr::copy_nonoverlapping(message.as_ptr(), buffer, length);
        buffer.add(length).write(0);
    }
}

pub(crate) fn panic_failure(payload: &(dyn std::any::Any + Send)) -> Failure {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    Failure::new(NumbindAgentStatus::Internal, format!("internal error (a panic was caught): {detail}"))
}
