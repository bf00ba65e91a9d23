//! The C-visible types: strings with lengths, the configuration, status codes, event kinds and the event record.

use std::os::raw::c_void;

/// UTF-8 bytes with an explicit length; not NUL-terminated. `ptr` may be NULL when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NumbindAgentStr {
    pub ptr: *const u8,
    pub len: usize,
}

impl NumbindAgentStr {
    /// The empty string (NULL, 0).
    pub const EMPTY: NumbindAgentStr = NumbindAgentStr { ptr: std::ptr::null(), len: 0 };

    /// A view of `text`, valid while `text` lives and is not changed.
    pub(crate) fn of(text: &str) -> NumbindAgentStr {
        NumbindAgentStr { ptr: text.as_ptr(), len: text.len() }
    }
}

/// What the box passes to `numbind_agent_new`. Every string is borrowed for the duration of that call only.
/// An empty string (NULL, 0) takes the default written next to the field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NumbindAgentConfig {
    /// The platform's base URL (`https://platform.example.net`). Required.
    pub platform_url: NumbindAgentStr,
    /// A file of pinned platform keys, one `pk-...:<base64url>` per line (blank lines and `#` comments skipped).
    pub platform_key_file: NumbindAgentStr,
    /// Pinned platform keys as text, in the same format as the file; added to the file's keys. At least one key
    /// in all is required.
    pub platform_keys: NumbindAgentStr,
    /// A PEM file of the certificate authorities to trust for an `https://` platform (nothing else is trusted).
    pub ca_file: NumbindAgentStr,
    /// The state directory (terminal key, bound flag). Required; made (mode 0700) if missing.
    pub state_dir: NumbindAgentStr,
    /// The device model named in the user's confirmation SMS. Default `numbind STB-1`.
    pub device_model: NumbindAgentStr,
    /// `zh` or `en` (regional tags such as `zh-CN` accepted). Default `zh`.
    pub language: NumbindAgentStr,
    /// Milliseconds allowed for each request. 0: the default, 10000.
    pub request_timeout_ms: u32,
}

/// The result of every call that can fail. On anything but `NUMBIND_AGENT_STATUS_OK`, `numbind_agent_last_error` (or
/// the error buffer of `numbind_agent_new`) holds a readable message.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumbindAgentStatus {
    Ok = 0,
    /// A NULL pointer where one is required, a string that is not UTF-8, or a malformed value.
    InvalidArgument = 1,
    /// The configuration is refused (no pinned key, a bad URL, a CA file that cannot be read or used).
    Config = 2,
    /// A file in the state directory could not be read or written.
    Storage = 3,
    /// The platform could not be reached.
    Network = 4,
    /// The platform refused the request, or answered something that does not verify.
    Platform = 5,
    /// `numbind_agent_stop` ended the call.
    Stopped = 6,
    /// A bug inside the library (a caught panic); the agent should be freed and made again.
    Internal = 7,
    /// The merchant channel did not take the signed intent, and the platform never got it: nothing was charged.
    /// (ABI 1.1)
    Merchant = 8,
}

/// What an event reports. Fields of [`NumbindAgentEvent`] not named for a kind are empty (or 0).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumbindAgentEventKind {
    /// The platform knows the terminal: `terminal_id`, `newly_registered`.
    Registered = 0,
    /// Show this code: `terminal_id`, `activation_id`, `code`, `short_code`, `sms_text`, `qr_payload`,
    /// `qr_width`, `qr_modules`, `expires_at_unix_seconds`.
    Activation = 1,
    /// The code is still pending: `seconds_left`.
    Waiting = 2,
    /// The code expired unused; a new one follows.
    Expired = 3,
    /// The operator refused the number that texted the code: `reason` (such as `subscriber_suspended`); a new code follows.
    Denied = 4,
    /// The box is bound and its flag written: `binding_id`, `msisdn_masked` (`138****8000`).
    Bound = 5,
    /// The box was bound already: `binding_id`, `msisdn_masked`.
    AlreadyBound = 6,
    /// A watch found the binding revoked; the flag is cleared.
    Unbound = 7,
    /// A watch found the box bound to another number: `binding_id`, `msisdn_masked`.
    BindingChanged = 8,
    /// A watch started: `binding_id` and `msisdn_masked` when bound, empty otherwise.
    Watching = 9,
    /// Something failed; the agent retries after `after_ms`: `cause`.
    Retrying = 10,
    /// The platform gave no answer (reported just before its `Retrying`): `url`, `reason` (such as
    /// `connection_refused`), `failed_attempts`.
    PlatformUnreachable = 11,
    /// A purchase is signed and handed to the merchant channel: `merchant_id`, `item_id`, `amount_minor_units`,
    /// `currency`. (ABI 1.1)
    PurchaseStarted = 12,
    /// Where the purchase is: `stage`, one of `waiting_for_merchant`, `waiting_for_confirmation` (the bound phone
    /// got an SMS to answer `Y <number>` before `expires_at_unix_seconds`, 0 when not said) and `processing`.
    /// (ABI 1.1)
    PurchaseProgress = 13,
    /// How the purchase ended, final: `outcome`, one of `succeeded` (`payment_id`, the receipt number the phone
    /// gets by SMS), `denied` (`reason`, such as `single_charge_limit`, and `words` for the screen), `cancelled`
    /// (`reason`, such as `declined_by_user`) and `expired`. (ABI 1.1)
    PurchaseOutcome = 14,
}

/// One event, borrowed: every pointer in it is valid only during the callback that receives it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NumbindAgentEvent {
    pub kind: NumbindAgentEventKind,
    pub terminal_id: NumbindAgentStr,
    pub activation_id: NumbindAgentStr,
    /// The code grouped for reading (`WDJB-MJHT`).
    pub code: NumbindAgentStr,
    /// Where to send the SMS (`10658000`).
    pub short_code: NumbindAgentStr,
    /// The exact SMS to send (`BIND WDJBMJHT`).
    pub sms_text: NumbindAgentStr,
    /// What the QR code encodes (`SMSTO:10658000:BIND WDJBMJHT`).
    pub qr_payload: NumbindAgentStr,
    /// Modules per side of the QR code, without a quiet zone (draw at least 4 light modules around it).
    pub qr_width: usize,
    /// `qr_width * qr_width` bytes, row by row from the top left: 1 dark, 0 light.
    pub qr_modules: *const u8,
    pub expires_at_unix_seconds: i64,
    pub seconds_left: i64,
    pub binding_id: NumbindAgentStr,
    /// The paying number, masked.
    pub msisdn_masked: NumbindAgentStr,
    /// A stable lowercase word: the denial reason, or the connection failure.
    pub reason: NumbindAgentStr,
    /// What failed, in English, for a log (no secret, no full number).
    pub cause: NumbindAgentStr,
    pub url: NumbindAgentStr,
    pub after_ms: u64,
    pub failed_attempts: u32,
    pub newly_registered: bool,
    /// Fields from ABI 1.1 on (purchases), after the 1.0 ones so that a 1.0 box reads the record unchanged.
    pub merchant_id: NumbindAgentStr,
    pub item_id: NumbindAgentStr,
    /// Minor units of `currency` (fen for `CNY`).
    pub amount_minor_units: i64,
    /// ISO 4217 (`CNY`).
    pub currency: NumbindAgentStr,
    /// A purchase's stage (`PURCHASE_PROGRESS`).
    pub stage: NumbindAgentStr,
    /// A purchase's outcome (`PURCHASE_OUTCOME`).
    pub outcome: NumbindAgentStr,
    /// The payment's ID: the receipt number in the phone's receipt SMS.
    pub payment_id: NumbindAgentStr,
    /// What the screen says about a denial, in English (`the amount is over the limit for one purchase`).
    pub words: NumbindAgentStr,
}

/// Called on the thread that made the blocking call, once per event, in order. `event` and everything it points
/// to are valid only until the callback returns. The callback must not call back into the same agent, except
/// `numbind_agent_stop`.
pub type NumbindAgentEventCallback =
    Option<unsafe extern "C" fn(event: *const NumbindAgentEvent, user_data: *mut c_void)>;

/// What a billed service on the box asks to buy, for `numbind_agent_purchase`. Borrowed for that call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NumbindAgentPurchaseRequest {
    /// The merchant's ID on the platform (`demo-films`).
    pub merchant_id: NumbindAgentStr,
    /// The merchant's item ID (`film-4412`).
    pub item_id: NumbindAgentStr,
    /// What the user reads in the confirmation SMS and on the receipt (`《流浪地球》高清`).
    pub item_description: NumbindAgentStr,
    /// The amount in minor units of `currency`: fen for `CNY` (`5000` is ¥50.00). Positive.
    pub amount_minor_units: i64,
    /// ISO 4217. Empty: `CNY`.
    pub currency: NumbindAgentStr,
}

/// The signed intent the merchant channel carries to the billed service's merchant, borrowed during the channel
/// call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NumbindAgentSignedPurchase {
    /// JSON, `{"payload":"...","signature":"..."}`: the `signed_intent` the merchant puts in its
    /// `POST /v1/payments` to the platform, unchanged.
    pub signed_intent: NumbindAgentStr,
    /// The intent's nonce, by which the box follows the payment (for the billed service's own records).
    pub intent_nonce: NumbindAgentStr,
}

/// The billed service's own channel to its merchant (the set-top app's link to its backend), called once per
/// purchase on the thread of `numbind_agent_purchase`. Answers true once the merchant has taken the intent (or
/// it is queued for the merchant: the agent then waits for the merchant, reporting `waiting_for_merchant`), false
/// when it could not be handed over. It must not call back into the agent, except `numbind_agent_stop`.
pub type NumbindAgentMerchantChannel =
    Option<unsafe extern "C" fn(purchase: *const NumbindAgentSignedPurchase, user_data: *mut c_void) -> bool>;
