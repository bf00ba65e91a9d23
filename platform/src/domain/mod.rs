//! Pure types and rules of the platform: the activation state machine, identifiers, notification texts, time.

pub mod activation;
pub mod clock;
pub mod ids;
pub mod notification_text;
