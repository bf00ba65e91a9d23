//! What the SMS commands (`bind`, `unbind`, `payment_answer`, and `QUERY` in `commands`) share: how one ends (a `FinishedCommand`
//! with its reply), how it waits (`RetryLater`), and how their platform calls are counted. It imports none of
//! them, so the command worker can dispatch to each without a cycle.

use crate::clients::platform::PlatformCallError;
use crate::domain::inbox::{CommandKind, CommandOutcome};
use crate::state::AppState;
use crate::store::{FinishedCommand, OutgoingReply, StoreError};
use numbind_wire::Msisdn;
use std::time::Duration;

/// The command cannot finish now; its row stays pending and is tried again later.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RetryLater {
    #[error("platform: {0}")]
    Platform(PlatformCallError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl RetryLater {
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            RetryLater::Platform(PlatformCallError::Unavailable { retry_after, .. }) => *retry_after,
            _ => None,
        }
    }
}

/// A finished command that answers the sender with `text`.
pub(crate) fn finished_with_reply(
    kind: CommandKind,
    outcome: CommandOutcome,
    to: &Msisdn,
    text: String,
) -> FinishedCommand {
    FinishedCommand { kind, outcome, reply: Some(OutgoingReply { destination: to.clone(), text }), revocation: None }
}

/// Counts one platform call under its endpoint (without the `/v1/oss/` prefix) and result.
pub(crate) fn count_platform_call<T>(state: &AppState, endpoint: &'static str, result: &Result<T, PlatformCallError>) {
    let label = match result {
        Ok(_) => "ok",
        Err(error) => error.result_label(),
    };
    state.metrics.count_platform_call(endpoint.trim_start_matches("/v1/oss/"), label);
}
