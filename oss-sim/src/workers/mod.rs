//! Background work: store received SMS (`receiver`), run their commands (`commands`, `bind`, `unbind`),
//! and send queued replies (`sender`). Every step is durable first, so a crash at any point loses nothing.

pub(crate) mod bind;
pub(crate) mod commands;
pub(crate) mod receiver;
pub(crate) mod sender;
pub(crate) mod unbind;

use crate::outbound::platform::PlatformCallError;
use crate::store::StoreError;
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
