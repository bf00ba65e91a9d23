//! The witnesses of the audit chain: checks the platform's and the OSS's copies of the signed checkpoints against
//! the platform key and against each other, and hands the verifier the heads they vouch for.
//!
//! A copy that does not verify, columns that disagree with their signed payload, a checkpoint the OSS holds but
//! the platform lost, or two signed checkpoints of one sequence that differ: each is tampering, named at its
//! sequence. The copies that verify are then compared with the chain itself (`audit_verifier`).

use super::audit_chain::{hash_from_hex, AuditProblem, AuditProblemKind};
use super::audit_verifier::SignedHead;
use numbind_wire::audit_checkpoint::{AuditCheckpoint, SignedAuditCheckpoint};
use numbind_wire::statement::PinnedPlatformKeys;

/// A checkpoint as the platform's table holds it: the columns it is looked up by, and the signed copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub sequence: i64,
    pub head_hash: Vec<u8>,
    pub signed: SignedAuditCheckpoint,
}

/// What the copies vouch for, and what is wrong with them.
#[derive(Debug, Default)]
pub(crate) struct CheckedCheckpoints {
    pub signed_heads: Vec<SignedHead>,
    pub problems: Vec<AuditProblem>,
}

impl CheckedCheckpoints {
    fn tampered(&mut self, sequence: i64, detail: String) {
        self.problems.push(AuditProblem { sequence, kind: AuditProblemKind::CheckpointTampered, detail });
    }
}

fn signed_head(checkpoint: &AuditCheckpoint, held_by_oss: bool) -> Option<SignedHead> {
    let head_hash = hash_from_hex(&checkpoint.head_hash)?.to_vec();
    Some(SignedHead { sequence: checkpoint.sequence, head_hash, held_by_oss })
}

/// Checks the platform's copies and, when read, the OSS's.
pub(crate) fn check_checkpoints(
    keys: &PinnedPlatformKeys,
    platform: &[StoredCheckpoint],
    oss: Option<&[SignedAuditCheckpoint]>,
) -> CheckedCheckpoints {
    let mut checked = CheckedCheckpoints::default();
    for stored in platform {
        let sequence = stored.sequence;
        let verified = keys.verify_audit_checkpoint(&stored.signed);
        match verified.as_ref().ok().and_then(|checkpoint| signed_head(checkpoint, false)) {
            None => {
                let why = verified.err().map_or_else(|| "a malformed hash".to_owned(), |error| error.to_string());
                checked.tampered(sequence, format!("the platform's checkpoint does not verify: {why}"));
            }
            Some(head) if head.sequence != sequence || head.head_hash != stored.head_hash => {
                let detail =
                    format!("the platform's checkpoint row disagrees with its signed payload ({})", head.sequence);
                checked.tampered(sequence, detail);
            }
            Some(head) => checked.signed_heads.push(head),
        }
    }
    for signed in oss.unwrap_or_default() {
        let claimed = signed.claimed().map_or(0, |checkpoint| checkpoint.sequence);
        let verified = keys.verify_audit_checkpoint(signed);
        let Some(oss_head) = verified.as_ref().ok().and_then(|checkpoint| signed_head(checkpoint, true)) else {
            let why = verified.err().map_or_else(|| "a malformed hash".to_owned(), |error| error.to_string());
            checked.tampered(claimed, format!("the OSS's copy does not verify: {why}"));
            continue;
        };
        let sequence = oss_head.sequence;
        match checked.signed_heads.iter_mut().find(|head| head.sequence == sequence && !head.held_by_oss) {
            Some(head) if head.head_hash == oss_head.head_hash => head.held_by_oss = true,
            Some(_) => {
                checked.tampered(sequence, "the platform's and the OSS's signed checkpoints differ".to_owned());
                checked.signed_heads.push(oss_head);
            }
            None => {
                let detail = "the OSS holds a signed checkpoint that the platform's database lost".to_owned();
                checked.tampered(sequence, detail);
                checked.signed_heads.push(oss_head);
            }
        }
    }
    checked
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::audit_chain::hash_to_hex;
    use numbind_wire::statement::PlatformSigningKey;
    use ring::rand::SystemRandom;

    fn signed(key: &PlatformSigningKey, sequence: i64, hash: [u8; 32]) -> StoredCheckpoint {
        let checkpoint =
            AuditCheckpoint { sequence, head_hash: hash_to_hex(&hash), made_at_unix_seconds: 1, key_id: String::new() };
        StoredCheckpoint { sequence, head_hash: hash.to_vec(), signed: key.sign_audit_checkpoint(&checkpoint) }
    }

    fn kinds(checked: &CheckedCheckpoints) -> Vec<(AuditProblemKind, i64)> {
        checked.problems.iter().map(|problem| (problem.kind, problem.sequence)).collect()
    }

    #[test]
    fn matching_copies_are_one_head_held_by_the_oss() {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let keys = PinnedPlatformKeys::new(vec![key.public_key()]);
        let platform = vec![signed(&key, 3, [1; 32]), signed(&key, 6, [2; 32])];
        let oss = vec![platform[0].signed.clone()];
        let checked = check_checkpoints(&keys, &platform, Some(&oss));
        assert!(checked.problems.is_empty(), "{:?}", checked.problems);
        let held: Vec<_> = checked.signed_heads.iter().map(|head| (head.sequence, head.held_by_oss)).collect();
        assert_eq!(held, vec![(3, true), (6, false)]);
    }

    #[test]
    fn a_forged_copy_an_edited_row_a_lost_checkpoint_and_differing_copies_are_tampering() {
        let (key, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let (forger, _) = PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
        let keys = PinnedPlatformKeys::new(vec![key.public_key()]);
        let mut edited_row = signed(&key, 4, [4; 32]);
        edited_row.head_hash = vec![9; 32];
        let platform = vec![signed(&forger, 2, [2; 32]), edited_row, signed(&key, 6, [6; 32])];
        let oss = vec![signed(&key, 6, [7; 32]).signed, signed(&key, 8, [8; 32]).signed];
        let checked = check_checkpoints(&keys, &platform, Some(&oss));
        let tampered = AuditProblemKind::CheckpointTampered;
        assert_eq!(kinds(&checked), vec![(tampered, 2), (tampered, 4), (tampered, 6), (tampered, 8)]);
        assert!(checked.problems[3].detail.contains("platform's database lost"), "{:?}", checked.problems);
    }
}
