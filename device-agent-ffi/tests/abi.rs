//! The C entry points called as C would: NULL and malformed arguments answer codes, `numbind_agent_stop` from
//! another thread ends a blocking call, events reach the callback on the calling thread, the last error reads.
#![allow(clippy::unwrap_used, reason = "a test that cannot unwrap should fail loudly")]

use numbind_agent::*;
use std::os::raw::c_void;
use std::path::Path;
use std::ptr;

fn text(value: &str) -> NumbindAgentStr {
    NumbindAgentStr { ptr: value.as_ptr(), len: value.len() }
}

fn empty_config() -> NumbindAgentConfig {
    let empty = NumbindAgentStr { ptr: ptr::null(), len: 0 };
    NumbindAgentConfig {
        platform_url: empty,
        platform_key_file: empty,
        platform_keys: empty,
        ca_file: empty,
        state_dir: empty,
        device_model: empty,
        language: empty,
        request_timeout_ms: 0,
    }
}

fn platform_key() -> String {
    let (key, _) = numbind_wire::statement::PlatformSigningKey::generate(&ring::rand::SystemRandom::new()).unwrap();
    key.public_key().to_string()
}

/// `numbind_agent_new` with `config`: the status, the handle (NULL on failure) and the error buffer's text.
fn new_agent(config: &NumbindAgentConfig) -> (NumbindAgentStatus, *mut NumbindAgent, String) {
    let mut agent = ptr::null_mut();
    let mut buffer = [0u8; 256];
    // SAFETY: a valid configuration whose strings outlive the call, a valid out pointer and buffer.
    let status = unsafe { numbind_agent_new(config, &mut agent, buffer.as_mut_ptr(), buffer.len()) };
    let length = buffer.iter().position(|byte| *byte == 0).unwrap();
    (status, agent, String::from_utf8(buffer[..length].to_vec()).unwrap())
}

fn string_of(value: NumbindAgentStr) -> String {
    // SAFETY: the library hands out views valid for `len` bytes while the agent lives.
    String::from_utf8(unsafe { std::slice::from_raw_parts(value.ptr, value.len) }.to_vec()).unwrap()
}

#[test]
fn the_versions_match_the_header() {
    assert_eq!(numbind_agent_abi_version(), NUMBIND_AGENT_ABI_VERSION);
    assert_eq!((numbind_agent_abi_version_minor(), NUMBIND_AGENT_ABI_VERSION_MINOR), (1, 1));
    assert_eq!(string_of(numbind_agent_version()), env!("CARGO_PKG_VERSION"));
}

#[test]
fn null_and_malformed_arguments_answer_codes_and_messages() {
    let mut agent = ptr::null_mut();
    // SAFETY: NULL is the case under test; the out pointer is valid.
    let status = unsafe { numbind_agent_new(ptr::null(), &mut agent, ptr::null_mut(), 0) };
    assert_eq!(status, NumbindAgentStatus::InvalidArgument);
    assert!(agent.is_null());
    let (status, agent, message) = new_agent(&empty_config());
    assert_eq!((status, agent.is_null()), (NumbindAgentStatus::InvalidArgument, true));
    assert!(message.contains("platform_url and state_dir are required"), "{message}");

    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().to_str().unwrap().to_owned();
    let not_utf8 = [0xffu8, 0xfe];
    let mut config = empty_config();
    config.platform_url = text("http://127.0.0.1:9");
    config.state_dir = text(&state);
    config.device_model = NumbindAgentStr { ptr: not_utf8.as_ptr(), len: not_utf8.len() };
    let (status, _, message) = new_agent(&config);
    assert_eq!(status, NumbindAgentStatus::InvalidArgument);
    assert!(message.contains("device_model is not UTF-8"), "{message}");

    config.device_model = text("STB");
    config.platform_keys = text("pk-not-a-key");
    let (status, _, message) = new_agent(&config);
    assert_eq!(status, NumbindAgentStatus::Config);
    assert!(message.contains("platform_keys line 1"), "{message}");

    // SAFETY: NULL agents are accepted by these calls and answer empty or InvalidArgument.
    unsafe {
        assert_eq!(numbind_agent_is_bound(ptr::null(), ptr::null_mut()), NumbindAgentStatus::InvalidArgument);
        assert_eq!(numbind_agent_last_error(ptr::null()).len, 0);
        numbind_agent_stop(ptr::null());
        numbind_agent_free(ptr::null_mut());
    }
}

#[test]
fn an_error_buffer_too_small_gets_the_message_cut_at_a_character_and_terminated() {
    let mut config = empty_config();
    config.platform_url = text("http://127.0.0.1:9");
    config.state_dir = text("/tmp");
    config.language = text("français");
    let mut agent = ptr::null_mut();
    let mut buffer = [0xaau8; 24];
    // SAFETY: valid configuration, out pointer and buffer of the length given.
    let status = unsafe { numbind_agent_new(&config, &mut agent, buffer.as_mut_ptr(), buffer.len()) };
    assert_eq!(status, NumbindAgentStatus::InvalidArgument);
    let length = buffer.iter().position(|byte| *byte == 0).unwrap();
    assert!(length < buffer.len());
    assert!(std::str::from_utf8(&buffer[..length]).unwrap().starts_with("language \"fran"));
}

struct Seen {
    kinds: Vec<NumbindAgentEventKind>,
    reasons: Vec<String>,
    thread: std::thread::ThreadId,
    other_thread_calls: usize,
}

unsafe extern "C" fn record_event(event: *const NumbindAgentEvent, user_data: *mut c_void) {
    // SAFETY: `user_data` is the `Seen` the test passed; `event` is valid during this callback.
    let (seen, event) = unsafe { (&mut *(user_data as *mut Seen), &*event) };
    seen.kinds.push(event.kind);
    if event.kind == NumbindAgentEventKind::PlatformUnreachable {
        seen.reasons.push(string_of(event.reason));
    }
    if std::thread::current().id() != seen.thread {
        seen.other_thread_calls += 1;
    }
}

struct SendPointer(*const NumbindAgent);
// SAFETY: `numbind_agent_stop` is documented as callable from any thread.
unsafe impl Send for SendPointer {}

#[test]
fn stop_from_another_thread_ends_a_boot_flow_that_retries_an_unreachable_platform() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().join("state");
    let state = state.to_str().unwrap();
    let key = platform_key();
    let mut config = empty_config();
    config.platform_url = text("http://127.0.0.1:9");
    config.state_dir = text(state);
    config.platform_keys = text(&key);
    let (status, agent, message) = new_agent(&config);
    assert_eq!(status, NumbindAgentStatus::Ok, "{message}");
    assert!(Path::new(state).join("terminal.key").exists());
    // SAFETY: `agent` is live until the free at the end of this test.
    let terminal_id = string_of(unsafe { numbind_agent_terminal_id(agent) });
    assert!(terminal_id.starts_with("NB-"), "{terminal_id}");

    let stopper = SendPointer(agent);
    let stopping = std::thread::spawn(move || {
        let stopper = stopper;
        std::thread::sleep(std::time::Duration::from_millis(1500));
        // SAFETY: the agent is live: the test frees it only after joining this thread.
        unsafe { numbind_agent_stop(stopper.0) };
    });
    let mut seen =
        Seen { kinds: Vec::new(), reasons: Vec::new(), thread: std::thread::current().id(), other_thread_calls: 0 };
    // SAFETY: a live agent, a callback that takes `Seen` as its user data.
    let status =
        unsafe { numbind_agent_run_until_bound(agent, Some(record_event), &mut seen as *mut Seen as *mut c_void) };
    stopping.join().unwrap();
    assert_eq!(status, NumbindAgentStatus::Stopped);
    // SAFETY: live agent; the view is read before the next call.
    assert!(string_of(unsafe { numbind_agent_last_error(agent) }).contains("stopped"));
    assert!(seen.kinds.contains(&NumbindAgentEventKind::PlatformUnreachable), "{:?}", seen.kinds);
    assert!(seen.kinds.contains(&NumbindAgentEventKind::Retrying), "{:?}", seen.kinds);
    assert_eq!(seen.reasons.first().map(String::as_str), Some("connection_refused"));
    assert_eq!(seen.other_thread_calls, 0, "every callback ran on the calling thread");

    let mut bound = true;
    // SAFETY: a live agent and a valid out pointer; then the agent is freed once.
    unsafe {
        assert_eq!(numbind_agent_is_bound(agent, &mut bound), NumbindAgentStatus::Ok);
        assert!(!bound);
        assert_eq!(numbind_agent_check_status(agent, &mut bound), NumbindAgentStatus::Network);
        numbind_agent_free(agent);
    }
}

struct Handed {
    signed_intents: Vec<String>,
    kinds: Vec<NumbindAgentEventKind>,
}

unsafe extern "C" fn refusing_channel(purchase: *const NumbindAgentSignedPurchase, user_data: *mut c_void) -> bool {
    // SAFETY: `user_data` is the `Handed` the test passed; `purchase` is valid during this call.
    let (handed, purchase) = unsafe { (&mut *(user_data as *mut Handed), &*purchase) };
    handed.signed_intents.push(string_of(purchase.signed_intent));
    false
}

unsafe extern "C" fn record_purchase_event(event: *const NumbindAgentEvent, user_data: *mut c_void) {
    // SAFETY: `user_data` is the `Handed` the test passed; `event` is valid during this callback.
    let (handed, event) = unsafe { (&mut *(user_data as *mut Handed), &*event) };
    handed.kinds.push(event.kind);
}

#[test]
fn a_purchase_needs_a_request_and_a_channel_and_a_refusing_channel_answers_merchant() {
    let directory = tempfile::tempdir().unwrap();
    let state = directory.path().to_str().unwrap().to_owned();
    let key = platform_key();
    let mut config = empty_config();
    config.platform_url = text("http://127.0.0.1:9");
    config.state_dir = text(&state);
    config.platform_keys = text(&key);
    let (status, agent, message) = new_agent(&config);
    assert_eq!(status, NumbindAgentStatus::Ok, "{message}");
    let request = NumbindAgentPurchaseRequest {
        merchant_id: text("demo-films"),
        item_id: text("film-4412"),
        item_description: text("《流浪地球》高清"),
        amount_minor_units: 500,
        currency: text("CNY"),
    };
    let mut handed = Handed { signed_intents: Vec::new(), kinds: Vec::new() };
    let user_data = &mut handed as *mut Handed as *mut c_void;
    // SAFETY: a live agent, NULL or valid requests, callbacks that take `Handed`; the agent is freed once.
    unsafe {
        let status = numbind_agent_purchase(agent, ptr::null(), Some(refusing_channel), None, user_data);
        assert_eq!(status, NumbindAgentStatus::InvalidArgument);
        assert!(string_of(numbind_agent_last_error(agent)).contains("request is NULL"));
        let status = numbind_agent_purchase(agent, &request, None, None, user_data);
        assert_eq!(status, NumbindAgentStatus::InvalidArgument);
        assert!(string_of(numbind_agent_last_error(agent)).contains("merchant channel is NULL"));
        let status =
            numbind_agent_purchase(agent, &request, Some(refusing_channel), Some(record_purchase_event), user_data);
        assert_eq!(status, NumbindAgentStatus::Merchant);
        assert!(string_of(numbind_agent_last_error(agent)).contains("the merchant did not take the purchase"));
        numbind_agent_free(agent);
    }
    assert_eq!(handed.kinds, vec![NumbindAgentEventKind::PurchaseStarted]);
    assert_eq!(handed.signed_intents.len(), 1, "the channel was called once");
    let signed: serde_json::Value = serde_json::from_str(&handed.signed_intents[0]).unwrap();
    assert!(signed["payload"].is_string() && signed["signature"].is_string(), "{signed}");
}
