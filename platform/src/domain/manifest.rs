//! A manufacturer's manifest (terminal IDs and their public keys) parsed from JSON or CSV into typed entries.
//!
//! JSON: `[{"terminal_id": "...", "public_key": "<base64url of 32 bytes>", "device_model": "..."}]`
//! (`device_model` optional). CSV: the header `terminal_id,public_key` or `terminal_id,public_key,device_model`,
//! then one terminal per line; the device model is the rest of the line, so it may hold commas. The format is
//! told by the first non-space character: `[` is JSON.

use numbind_wire::request_signing::TerminalPublicKey;
use numbind_wire::TerminalId;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;

const MAX_DEVICE_MODEL_CHARS: usize = 64;

/// One terminal the manufacturer built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    pub terminal_id: TerminalId,
    pub public_key: TerminalPublicKey,
    pub device_model: Option<String>,
}

/// Where in the manifest an entry sits: a CSV line or a JSON array element, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestPlace {
    Line(usize),
    Entry(usize),
}

impl fmt::Display for ManifestPlace {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestPlace::Line(number) => write!(formatter, "line {number}"),
            ManifestPlace::Entry(number) => write!(formatter, "entry {number}"),
        }
    }
}

/// Why a text is not a manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    #[error("the manifest lists no terminal")]
    Empty,
    #[error("the manifest is not the expected json: {0}")]
    Json(String),
    #[error("line 1: the csv header must be `terminal_id,public_key` or `terminal_id,public_key,device_model`")]
    CsvHeader,
    #[error("{place}: field {field} is missing")]
    MissingField { place: ManifestPlace, field: &'static str },
    #[error("{place}: field {field} is invalid: {reason}")]
    InvalidField { place: ManifestPlace, field: &'static str, reason: String },
    #[error("{place}: terminal {terminal_id} is listed again (first at {first})")]
    Duplicate { place: ManifestPlace, first: ManifestPlace, terminal_id: TerminalId },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonEntry {
    terminal_id: Option<String>,
    public_key: Option<String>,
    device_model: Option<String>,
}

/// Parses a manifest, JSON or CSV; every entry typed, no terminal twice.
pub fn parse_manifest(text: &str) -> Result<Vec<ManifestEntry>, ManifestError> {
    let placed = if text.trim_start().starts_with('[') { parse_json(text)? } else { parse_csv(text)? };
    if placed.is_empty() {
        return Err(ManifestError::Empty);
    }
    let mut first_places: HashMap<TerminalId, ManifestPlace> = HashMap::new();
    for (place, entry) in &placed {
        if let Some(first) = first_places.insert(entry.terminal_id.clone(), *place) {
            return Err(ManifestError::Duplicate { place: *place, first, terminal_id: entry.terminal_id.clone() });
        }
    }
    Ok(placed.into_iter().map(|(_, entry)| entry).collect())
}

fn parse_json(text: &str) -> Result<Vec<(ManifestPlace, ManifestEntry)>, ManifestError> {
    let raw: Vec<JsonEntry> = serde_json::from_str(text).map_err(|error| ManifestError::Json(error.to_string()))?;
    raw.into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let place = ManifestPlace::Entry(index + 1);
            let terminal_id = entry.terminal_id.ok_or(ManifestError::MissingField { place, field: "terminal_id" })?;
            let public_key = entry.public_key.ok_or(ManifestError::MissingField { place, field: "public_key" })?;
            Ok((place, typed_entry(place, &terminal_id, &public_key, entry.device_model.as_deref())?))
        })
        .collect()
}

fn parse_csv(text: &str) -> Result<Vec<(ManifestPlace, ManifestEntry)>, ManifestError> {
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, line)| line.trim().trim_start_matches('\u{feff}')).unwrap_or_default();
    let header_fields: Vec<&str> = header.split(',').map(str::trim).collect();
    if !matches!(
        header_fields.as_slice(),
        ["terminal_id", "public_key"] | ["terminal_id", "public_key", "device_model"]
    ) {
        return Err(ManifestError::CsvHeader);
    }
    let mut entries = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let place = ManifestPlace::Line(index + 1);
        let mut fields = line.splitn(3, ',');
        let terminal_id = fields.next().unwrap_or_default();
        let public_key = fields.next().ok_or(ManifestError::MissingField { place, field: "public_key" })?;
        entries.push((place, typed_entry(place, terminal_id, public_key, fields.next())?));
    }
    Ok(entries)
}

fn typed_entry(
    place: ManifestPlace,
    terminal_id: &str,
    public_key: &str,
    device_model: Option<&str>,
) -> Result<ManifestEntry, ManifestError> {
    let invalid = |field: &'static str, reason: String| ManifestError::InvalidField { place, field, reason };
    let terminal_id = TerminalId::parse(terminal_id).map_err(|error| invalid("terminal_id", error.to_string()))?;
    let public_key =
        TerminalPublicKey::parse(public_key.trim()).map_err(|error| invalid("public_key", error.to_string()))?;
    let device_model = device_model.map(str::trim).filter(|model| !model.is_empty()).map(str::to_owned);
    if let Some(model) = &device_model {
        if model.chars().count() > MAX_DEVICE_MODEL_CHARS || model.chars().any(char::is_control) {
            return Err(invalid("device_model", "must be at most 64 printable characters".to_owned()));
        }
    }
    Ok(ManifestEntry { terminal_id, public_key, device_model })
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::request_signing::TerminalKeyPair;
    use ring::rand::SystemRandom;

    fn public_key() -> String {
        TerminalKeyPair::generate(&SystemRandom::new()).unwrap().0.public_key().to_string()
    }

    #[test]
    fn a_json_manifest_gives_typed_entries_with_optional_models() {
        let (first, second) = (public_key(), public_key());
        let text = format!(
            r#" [{{"terminal_id": "stb-000001", "public_key": "{first}", "device_model": "Skyworth E900"}},
                 {{"terminal_id": "STB-000002", "public_key": "{second}"}}]"#
        );
        let entries = parse_manifest(&text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].terminal_id.as_str(), "STB-000001");
        assert_eq!(entries[0].public_key.to_string(), first);
        assert_eq!(entries[0].device_model.as_deref(), Some("Skyworth E900"));
        assert_eq!(entries[1].device_model, None);
    }

    #[test]
    fn a_csv_manifest_gives_typed_entries_and_skips_blank_lines() {
        let (first, second) = (public_key(), public_key());
        let text = format!(
            "terminal_id,public_key,device_model\nSTB-000001,{first},Skyworth E900, 4K\n\nSTB-000002,{second}\n"
        );
        let entries = parse_manifest(&text).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].device_model.as_deref(), Some("Skyworth E900, 4K"));
        assert_eq!(entries[1].public_key.to_string(), second);
    }

    #[test]
    fn a_bad_csv_field_names_its_line_and_field() {
        let text = format!("terminal_id,public_key\nSTB-000001,{}\nSTB-000002,not-a-key\n", public_key());
        let error = parse_manifest(&text).unwrap_err();
        assert!(
            matches!(error, ManifestError::InvalidField { place: ManifestPlace::Line(3), field: "public_key", .. }),
            "{error}"
        );
        assert!(error.to_string().starts_with("line 3: field public_key is invalid"), "{error}");
        let bad_id = parse_manifest(&format!("terminal_id,public_key\n-bad,{}\n", public_key())).unwrap_err();
        assert!(bad_id.to_string().starts_with("line 2: field terminal_id"), "{bad_id}");
        let short = parse_manifest("terminal_id,public_key\nSTB-000001\n").unwrap_err();
        assert_eq!(short, ManifestError::MissingField { place: ManifestPlace::Line(2), field: "public_key" });
    }

    #[test]
    fn a_bad_json_entry_names_its_number_and_field() {
        let text = format!(
            r#"[{{"terminal_id": "STB-000001", "public_key": "{}"}}, {{"terminal_id": "STB-000002"}}]"#,
            public_key()
        );
        assert_eq!(
            parse_manifest(&text).unwrap_err(),
            ManifestError::MissingField { place: ManifestPlace::Entry(2), field: "public_key" }
        );
        let unknown_field = parse_manifest(r#"[{"terminal_id": "STB-000001", "key": "x"}]"#).unwrap_err();
        assert!(matches!(unknown_field, ManifestError::Json(_)), "{unknown_field}");
        assert!(matches!(parse_manifest("[1, 2").unwrap_err(), ManifestError::Json(_)));
    }

    #[test]
    fn a_terminal_listed_twice_is_an_error_naming_both_places() {
        let text = format!("terminal_id,public_key\nSTB-000001,{}\nstb-000001,{}\n", public_key(), public_key());
        let error = parse_manifest(&text).unwrap_err();
        assert_eq!(error.to_string(), "line 3: terminal STB-000001 is listed again (first at line 2)");
    }

    #[test]
    fn a_wrong_header_or_an_empty_manifest_is_refused() {
        assert_eq!(parse_manifest("id,key\n").unwrap_err(), ManifestError::CsvHeader);
        assert_eq!(parse_manifest("").unwrap_err(), ManifestError::CsvHeader);
        assert_eq!(parse_manifest("terminal_id,public_key\n").unwrap_err(), ManifestError::Empty);
        assert_eq!(parse_manifest(" [ ] ").unwrap_err(), ManifestError::Empty);
    }
}
