//! The bound flag `binding.json`: written atomically, verified on read, a corrupt file reads as unbound.

use crate::domain::events::{BoundBinding, LocalBindingState};
use crate::error::AgentError;
use crate::store::write_atomically;
use numbind_wire::statement::{BindingState, PinnedPlatformKeys, SignedStatement, StatementExpectation};
use numbind_wire::TerminalId;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The flag file's name in the state directory.
pub const FLAG_FILE_NAME: &str = "binding.json";

/// The file's JSON shape: `{"bound": true, "binding_id", "msisdn_masked", "activation_id",
/// "bound_at_unix_seconds", "statement"}`, or `{"bound": false}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FlagFile {
    bound: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    binding_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    msisdn_masked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    activation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bound_at_unix_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statement: Option<SignedStatement>,
}

/// Why a flag file reads as unbound although it exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum FlagFileProblem {
    #[error("flag file is not valid json of the expected shape")]
    Malformed,
    #[error("flag file says bound but lacks the binding or its statement")]
    Incomplete,
    #[error("flag file's statement does not verify or does not match the file")]
    StatementMismatch,
}

/// The flag file of one state directory.
#[derive(Debug, Clone)]
pub(crate) struct BindingFlag {
    path: PathBuf,
}

impl BindingFlag {
    pub(crate) fn new(state_dir: &Path) -> Self {
        BindingFlag { path: state_dir.join(FLAG_FILE_NAME) }
    }

    /// What the file says. The statement it keeps must verify with `pinned_keys` and name this terminal
    /// and binding; anything else (missing, corrupt, hand-edited) reads as unbound, with a warning.
    pub(crate) fn read(&self, terminal_id: &TerminalId, pinned_keys: &PinnedPlatformKeys) -> LocalBindingState {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return LocalBindingState::Unbound,
            Err(error) => {
                tracing::warn!(path = %self.path.display(), %error, "cannot read the flag file; treating as unbound");
                return LocalBindingState::Unbound;
            }
        };
        match parse_flag_file(&bytes, terminal_id, pinned_keys) {
            Ok(state) => state,
            Err(problem) => {
                tracing::warn!(path = %self.path.display(), %problem, "treating the flag file as unbound");
                LocalBindingState::Unbound
            }
        }
    }

    /// Turns the flag on, durably, with the statement that proves it.
    pub(crate) fn write_bound(&self, binding: &BoundBinding, statement: &SignedStatement) -> Result<(), AgentError> {
        self.write(&FlagFile {
            bound: true,
            binding_id: Some(binding.binding_id.clone()),
            msisdn_masked: Some(binding.msisdn_masked.clone()),
            activation_id: binding.activation_id.clone(),
            bound_at_unix_seconds: Some(binding.bound_at_unix_seconds),
            statement: Some(statement.clone()),
        })
    }

    /// Turns the flag off, durably (`{"bound": false}`).
    pub(crate) fn write_unbound(&self) -> Result<(), AgentError> {
        self.write(&FlagFile {
            bound: false,
            binding_id: None,
            msisdn_masked: None,
            activation_id: None,
            bound_at_unix_seconds: None,
            statement: None,
        })
    }

    fn write(&self, file: &FlagFile) -> Result<(), AgentError> {
        // Serialising strings, integers and booleans cannot fail.
        let bytes = serde_json::to_vec_pretty(file).unwrap_or_default();
        write_atomically(&self.path, &bytes, 0o600)
    }
}

fn parse_flag_file(
    bytes: &[u8],
    terminal_id: &TerminalId,
    pinned_keys: &PinnedPlatformKeys,
) -> Result<LocalBindingState, FlagFileProblem> {
    let file: FlagFile = serde_json::from_slice(bytes).map_err(|_| FlagFileProblem::Malformed)?;
    if !file.bound {
        return Ok(LocalBindingState::Unbound);
    }
    let (Some(binding_id), Some(msisdn_masked), Some(bound_at_unix_seconds), Some(signed)) =
        (file.binding_id, file.msisdn_masked, file.bound_at_unix_seconds, file.statement)
    else {
        return Err(FlagFileProblem::Incomplete);
    };
    // The statement expired long ago (statements are short-lived); only its signature and names count here.
    let expectation =
        StatementExpectation { terminal_id, activation_id: None, in_reply_to: None, now_unix_seconds: i64::MIN };
    let statement = pinned_keys.verify_for(&signed, expectation).map_err(|_| FlagFileProblem::StatementMismatch)?;
    if statement.state != BindingState::Bound || statement.binding_id.as_deref() != Some(binding_id.as_str()) {
        return Err(FlagFileProblem::StatementMismatch);
    }
    Ok(LocalBindingState::Bound(BoundBinding {
        binding_id,
        msisdn_masked,
        activation_id: file.activation_id,
        bound_at_unix_seconds,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_wire::statement::{BindingStatement, PlatformSigningKey};
    use ring::rand::SystemRandom;

    struct Fixture {
        directory: tempfile::TempDir,
        terminal_id: TerminalId,
        key: PlatformSigningKey,
    }

    impl Fixture {
        fn new() -> Self {
            let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
            Fixture {
                directory: tempfile::tempdir().unwrap(),
                terminal_id: TerminalId::parse("NB-TEST0001").unwrap(),
                key,
            }
        }

        fn flag(&self) -> BindingFlag {
            BindingFlag::new(self.directory.path())
        }

        fn pinned(&self) -> PinnedPlatformKeys {
            PinnedPlatformKeys::new(vec![self.key.public_key()])
        }

        fn bound_statement(&self, binding_id: &str) -> SignedStatement {
            self.key.sign(&BindingStatement {
                terminal_id: self.terminal_id.clone(),
                state: BindingState::Bound,
                activation_id: Some("act-1".into()),
                binding_id: Some(binding_id.into()),
                msisdn_masked: Some("138****8000".into()),
                denial_reason: None,
                in_reply_to: None,
                issued_at_unix_seconds: 1_700_000_000,
                expires_at_unix_seconds: 1_700_000_060,
            })
        }

        fn read(&self) -> LocalBindingState {
            self.flag().read(&self.terminal_id, &self.pinned())
        }
    }

    fn binding(binding_id: &str) -> BoundBinding {
        BoundBinding {
            binding_id: binding_id.into(),
            msisdn_masked: "138****8000".into(),
            activation_id: Some("act-1".into()),
            bound_at_unix_seconds: 1_700_000_000,
        }
    }

    #[test]
    fn a_missing_flag_reads_as_unbound() {
        assert_eq!(Fixture::new().read(), LocalBindingState::Unbound);
    }

    #[test]
    fn a_written_flag_reads_back_and_can_be_cleared() {
        let fixture = Fixture::new();
        fixture.flag().write_bound(&binding("bnd-1"), &fixture.bound_statement("bnd-1")).unwrap();
        assert_eq!(fixture.read(), LocalBindingState::Bound(binding("bnd-1")));
        let text: serde_json::Value =
            serde_json::from_slice(&std::fs::read(fixture.directory.path().join(FLAG_FILE_NAME)).unwrap()).unwrap();
        assert_eq!(text["bound"], true);
        assert_eq!(text["binding_id"], "bnd-1");
        assert!(text["statement"]["signature"].is_string());

        fixture.flag().write_unbound().unwrap();
        assert_eq!(fixture.read(), LocalBindingState::Unbound);
    }

    #[test]
    fn a_corrupt_or_truncated_flag_reads_as_unbound() {
        let fixture = Fixture::new();
        fixture.flag().write_bound(&binding("bnd-1"), &fixture.bound_statement("bnd-1")).unwrap();
        let path = fixture.directory.path().join(FLAG_FILE_NAME);
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
        assert_eq!(fixture.read(), LocalBindingState::Unbound);
        std::fs::write(&path, b"\x00\xff garbage").unwrap();
        assert_eq!(fixture.read(), LocalBindingState::Unbound);
        std::fs::write(&path, br#"{"bound": true}"#).unwrap();
        assert_eq!(fixture.read(), LocalBindingState::Unbound);
    }

    #[test]
    fn a_hand_edited_flag_or_one_signed_by_another_key_reads_as_unbound() {
        let fixture = Fixture::new();
        fixture.flag().write_bound(&binding("bnd-2"), &fixture.bound_statement("bnd-1")).unwrap();
        assert_eq!(fixture.read(), LocalBindingState::Unbound, "the statement names another binding");

        let forger = Fixture::new();
        let forged = forger.key.sign(&BindingStatement {
            terminal_id: fixture.terminal_id.clone(),
            state: BindingState::Bound,
            activation_id: None,
            binding_id: Some("bnd-1".into()),
            msisdn_masked: Some("138****8000".into()),
            denial_reason: None,
            in_reply_to: None,
            issued_at_unix_seconds: 0,
            expires_at_unix_seconds: i64::MAX,
        });
        fixture.flag().write_bound(&binding("bnd-1"), &forged).unwrap();
        assert_eq!(fixture.read(), LocalBindingState::Unbound, "the statement is signed by an unpinned key");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever bytes a power cut or a tamperer leaves in the flag file, reading it never panics and never
            /// turns the flag on without a statement signed by the pinned platform key.
            #[test]
            fn arbitrary_flag_bytes_never_read_as_bound(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let fixture = Fixture::new();
                let outcome = parse_flag_file(&bytes, &fixture.terminal_id, &fixture.pinned());
                prop_assert!(!matches!(outcome, Ok(LocalBindingState::Bound(_))));
            }

            /// A well-formed flag claiming `bound` with a made-up statement is refused, whatever it claims.
            #[test]
            fn a_flag_with_a_made_up_statement_never_reads_as_bound(
                binding_id in "[a-z0-9-]{1,30}",
                payload in "[A-Za-z0-9_-]{0,200}",
                signature in "[A-Za-z0-9_-]{0,120}",
            ) {
                let fixture = Fixture::new();
                let flag = serde_json::json!({
                    "bound": true, "binding_id": binding_id, "msisdn_masked": "138****8000",
                    "activation_id": "act-1", "bound_at_unix_seconds": 1_700_000_000,
                    "statement": { "key_id": fixture.key.key_id(), "payload": payload, "signature": signature },
                });
                let bytes = serde_json::to_vec(&flag).unwrap();
                let outcome = parse_flag_file(&bytes, &fixture.terminal_id, &fixture.pinned());
                prop_assert!(!matches!(outcome, Ok(LocalBindingState::Bound(_))));
            }
        }
    }
}
