//! The QR code of an activation: Unicode half blocks for a terminal, PNG and SVG files for a screen.

use crate::error::AgentError;
use crate::store::write_atomically;
use qrcode::{Color, QrCode};
use std::path::Path;

/// Modules of light margin around the terminal rendering.
const TERMINAL_QUIET_ZONE: usize = 2;
/// Modules of light margin around the PNG (the standard's 4).
const PNG_QUIET_ZONE: usize = 4;
/// Pixels per module in the PNG.
const PNG_PIXELS_PER_MODULE: usize = 8;

/// Why a QR code could not be made or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The payload does not fit in a QR code.
    #[error("payload does not fit in a qr code")]
    Encode(#[source] qrcode::types::QrError),
    /// The PNG encoder failed.
    #[error("cannot encode the qr png")]
    Png(#[from] png::EncodingError),
    /// The file could not be written.
    #[error("cannot write the qr file")]
    Write(#[source] Box<AgentError>),
}

/// How the terminal rendering sets its colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QrTerminalColours {
    /// ANSI escapes force black on white, so the code scans on dark and light terminal themes alike.
    Ansi,
    /// No escapes: dark modules are drawn as blocks, right on terminals with a light background.
    Plain,
}

/// A QR module grid with its quiet zone: `is_dark(x, y)` for `0 <= x, y < size`.
struct ModuleGrid {
    size: usize,
    quiet_zone: usize,
    width: usize,
    colors: Vec<Color>,
}

impl ModuleGrid {
    fn new(payload: &str, quiet_zone: usize) -> Result<Self, QrError> {
        let code = QrCode::new(payload.as_bytes()).map_err(QrError::Encode)?;
        let width = code.width();
        Ok(ModuleGrid { size: width + 2 * quiet_zone, quiet_zone, width, colors: code.to_colors() })
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        let inside = |coordinate: usize| coordinate >= self.quiet_zone && coordinate < self.quiet_zone + self.width;
        if !inside(x) || !inside(y) {
            return false;
        }
        let index = (y - self.quiet_zone) * self.width + (x - self.quiet_zone);
        self.colors.get(index) == Some(&Color::Dark)
    }
}

/// The QR code as text: two modules per character cell (`▀`, `▄`, `█`, space), a quiet zone of 2 modules,
/// dark modules on a light ground. One line per pair of module rows, each ending with `\n`.
pub fn render_qr_half_blocks(payload: &str, colours: QrTerminalColours) -> Result<String, QrError> {
    let grid = ModuleGrid::new(payload, TERMINAL_QUIET_ZONE)?;
    let mut text = String::new();
    for top in (0..grid.size).step_by(2) {
        if colours == QrTerminalColours::Ansi {
            text.push_str("\x1b[30;107m");
        }
        for x in 0..grid.size {
            let bottom_is_dark = top + 1 < grid.size && grid.is_dark(x, top + 1);
            text.push(match (grid.is_dark(x, top), bottom_is_dark) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        if colours == QrTerminalColours::Ansi {
            text.push_str("\x1b[0m");
        }
        text.push('\n');
    }
    Ok(text)
}

/// Writes the QR code as an 8-bit greyscale PNG (8 pixels per module, quiet zone of 4), atomically.
pub fn write_qr_png(payload: &str, path: &Path) -> Result<(), QrError> {
    let grid = ModuleGrid::new(payload, PNG_QUIET_ZONE)?;
    let side = grid.size * PNG_PIXELS_PER_MODULE;
    let mut pixels = Vec::with_capacity(side * side);
    for pixel_y in 0..side {
        for pixel_x in 0..side {
            let dark = grid.is_dark(pixel_x / PNG_PIXELS_PER_MODULE, pixel_y / PNG_PIXELS_PER_MODULE);
            pixels.push(if dark { 0u8 } else { 255u8 });
        }
    }
    let mut encoded = Vec::new();
    {
        let side = u32::try_from(side).unwrap_or(u32::MAX);
        let mut encoder = png::Encoder::new(&mut encoded, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
    }
    write_atomically(path, &encoded, 0o644).map_err(|error| QrError::Write(Box::new(error)))
}

/// Writes the QR code as SVG (qrcode's renderer, standard quiet zone), atomically.
pub fn write_qr_svg(payload: &str, path: &Path) -> Result<(), QrError> {
    let code = QrCode::new(payload.as_bytes()).map_err(QrError::Encode)?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(240, 240).quiet_zone(true).build();
    write_atomically(path, svg.as_bytes(), 0o644).map_err(|error| QrError::Write(Box::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAYLOAD: &str = "SMSTO:10658000:BIND WDJBMJHT";

    fn decode_greyscale(width: usize, height: usize, luma: impl FnMut(usize, usize) -> u8) -> String {
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one qr code");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn the_png_decodes_to_the_payload() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("qr.png");
        write_qr_png(PAYLOAD, &path).unwrap();
        let decoder = png::Decoder::new(std::fs::File::open(&path).unwrap());
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut buffer).unwrap();
        let (width, height) = (frame.width as usize, frame.height as usize);
        assert_eq!(width % PNG_PIXELS_PER_MODULE, 0);
        assert_eq!(decode_greyscale(width, height, |x, y| buffer[y * width + x]), PAYLOAD);
    }

    #[test]
    fn the_half_block_text_decodes_to_the_payload() {
        let text = render_qr_half_blocks(PAYLOAD, QrTerminalColours::Plain).unwrap();
        let lines: Vec<Vec<char>> = text.lines().map(|line| line.chars().collect()).collect();
        let columns = lines[0].len();
        assert!(lines.iter().all(|line| line.len() == columns));
        // Rebuild the module grid (two rows per line), four pixels per module.
        let scale = 4;
        let dark = |x: usize, y: usize| {
            let character = lines[y / 2][x];
            matches!((character, y % 2), ('█', _) | ('▀', 0) | ('▄', 1))
        };
        let (width, height) = (columns * scale, lines.len() * 2 * scale);
        let decoded = decode_greyscale(width, height, |x, y| if dark(x / scale, y / scale) { 0 } else { 255 });
        assert_eq!(decoded, PAYLOAD);
        // Quiet zone: the first line and the first column are light.
        assert!(lines[0].iter().all(|character| *character == ' '));
        assert!(lines.iter().all(|line| line[0] == ' ' && line[1] == ' '));
    }

    #[test]
    fn the_ansi_rendering_forces_dark_on_light() {
        let text = render_qr_half_blocks(PAYLOAD, QrTerminalColours::Ansi).unwrap();
        assert!(text.lines().all(|line| line.starts_with("\x1b[30;107m") && line.ends_with("\x1b[0m")));
    }

    #[test]
    fn the_svg_is_written() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("qr.svg");
        write_qr_svg(PAYLOAD, &path).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }

    #[test]
    fn a_payload_too_long_for_a_qr_code_is_an_error() {
        let long = "X".repeat(8000);
        assert!(matches!(render_qr_half_blocks(&long, QrTerminalColours::Plain), Err(QrError::Encode(_))));
    }
}
