//! Clients of other components: the agent talks to the platform only (`platform`); the CLI also plays a merchant
//! (`merchant`, behind the `cli` feature).

#[cfg(feature = "cli")]
pub mod merchant;
pub(crate) mod platform;
