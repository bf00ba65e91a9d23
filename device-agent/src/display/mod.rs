//! What the box shows: localised texts (`text`) and the QR code of the current activation (`qr`).

pub mod qr;
mod reasons;
pub mod text;

pub use qr::{render_qr_half_blocks, write_qr_png, write_qr_svg, QrError, QrTerminalColours};
pub use text::{localise, Message};
