//! Background work: store received SMS (`receiver`), run their commands (`commands` dispatching to `bind`,
//! `unbind`, `payment_answer`, `self_service` and `dispute`, which share `command_results`), and send queued replies (`sender`). Every step is durable first, so
//! a crash at any point loses nothing.

pub(crate) mod bind;
pub(crate) mod command_results;
pub(crate) mod commands;
pub(crate) mod dispute;
pub(crate) mod idle;
pub(crate) mod payment_answer;
pub(crate) mod receiver;
pub(crate) mod self_service;
pub(crate) mod sender;
pub(crate) mod unbind;
