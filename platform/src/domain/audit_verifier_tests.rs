//! Unit tests of the verifier: each kind of tampering is named once, at the sequence where it starts.

use super::*;
use crate::domain::audit_chain::{AuditEventFields, ChainHash};
use crate::domain::audit_mac::{AuditChainKey, MacCheck};

fn event_at(sequence: i64, prev_hash: ChainHash, detail: &str) -> StoredAuditEvent {
    let fields = AuditEventFields {
        sequence,
        at: 100 + sequence,
        actor: "oss".into(),
        kind: "binding_created".into(),
        detail: Some(detail.to_owned()),
        ..AuditEventFields::default()
    };
    let hash = fields.chain_hash(&prev_hash);
    StoredAuditEvent { row_id: sequence, fields, prev_hash: prev_hash.to_vec(), hash: hash.to_vec(), mac: None }
}

fn hash_of(event: &StoredAuditEvent) -> ChainHash {
    event.hash.clone().try_into().unwrap()
}

fn chain(count: i64) -> Vec<StoredAuditEvent> {
    let mut prev_hash = GENESIS_HASH;
    (1..=count)
        .map(|sequence| {
            let event = event_at(sequence, prev_hash, &format!("event {sequence}"));
            prev_hash = hash_of(&event);
            event
        })
        .collect()
}

/// Recomputes every hash from `index` on, as a writer who knows the (unkeyed) encoding can.
fn rehash_from(events: &mut [StoredAuditEvent], index: usize) {
    let mut prev_hash: ChainHash = if index == 0 { GENESIS_HASH } else { hash_of(&events[index - 1]) };
    for event in &mut events[index..] {
        event.prev_hash = prev_hash.to_vec();
        prev_hash = event.fields.chain_hash(&prev_hash);
        event.hash = prev_hash.to_vec();
    }
}

fn verify_against(events: Vec<StoredAuditEvent>, signed_heads: &[SignedHead]) -> AuditVerifyReport {
    let known = events.iter().map(|event| (event.hash.clone(), event.fields.sequence)).collect();
    let sequences: Vec<i64> = signed_heads.iter().map(|head| head.sequence).collect();
    let mut verifier = AuditChainVerifier::new(known, events.len() as u64, &sequences);
    let mut sorted = events;
    sorted.sort_by_key(|event| (event.fields.sequence, event.row_id));
    sorted.into_iter().for_each(|event| verifier.observe(event));
    verifier.finish(signed_heads, true)
}

fn verify_with_key(events: Vec<StoredAuditEvent>, key: &AuditChainKey) -> AuditVerifyReport {
    let known = events.iter().map(|event| (event.hash.clone(), event.fields.sequence)).collect();
    let mut verifier = AuditChainVerifier::new(known, events.len() as u64, &[]).with_mac_key(key.clone());
    events.into_iter().for_each(|event| verifier.observe(event));
    verifier.finish(&[], true)
}

/// MACs the events from `index` on, as the platform does when it appends them.
fn key_from(events: &mut [StoredAuditEvent], index: usize, key: &AuditChainKey) {
    events[index..].iter_mut().for_each(|event| event.mac = Some(key.mac(&event.hash).to_vec()));
}

fn verify(events: Vec<StoredAuditEvent>) -> AuditVerifyReport {
    verify_against(events, &[])
}

fn signed_head(events: &[StoredAuditEvent], sequence: i64) -> SignedHead {
    SignedHead { sequence, head_hash: events[sequence as usize - 1].hash.clone(), held_by_oss: true }
}

fn kinds_and_sequences(report: &AuditVerifyReport) -> Vec<(AuditProblemKind, i64)> {
    report.problems.iter().map(|problem| (problem.kind, problem.sequence)).collect()
}

#[test]
fn an_intact_chain_reports_its_head() {
    let events = chain(5);
    let head = hash_to_hex(&events[4].hash);
    let report = verify(events);
    assert!(report.is_intact(), "{report}");
    assert_eq!((report.event_count, report.head_sequence, report.head_hash), (5, 5, head));
    assert_eq!(verify(Vec::new()).head_hash, hash_to_hex(&GENESIS_HASH));
}

#[test]
fn an_edited_event_is_named_alone_and_a_rehashed_one_too() {
    let mut edited = chain(5);
    edited[2].fields.detail = Some("forged".into());
    assert_eq!(kinds_and_sequences(&verify(edited)), vec![(AuditProblemKind::Edited, 3)]);

    let mut rehashed = chain(5);
    rehashed[2].fields.detail = Some("forged".into());
    rehashed[2].hash = rehashed[2].fields.chain_hash(&hash_of(&rehashed[1])).to_vec();
    assert_eq!(kinds_and_sequences(&verify(rehashed)), vec![(AuditProblemKind::Edited, 3)]);
}

#[test]
fn a_deleted_event_is_one_gap_whether_or_not_the_later_ones_were_renumbered() {
    let mut deleted = chain(8);
    deleted.remove(1);
    assert_eq!(kinds_and_sequences(&verify(deleted)), vec![(AuditProblemKind::Deleted, 2)]);

    let mut renumbered = chain(8);
    renumbered.remove(3);
    renumbered[3..].iter_mut().for_each(|event| event.fields.sequence -= 1);
    assert_eq!(kinds_and_sequences(&verify(renumbered)), vec![(AuditProblemKind::Deleted, 4)]);
}

#[test]
fn a_second_event_at_one_sequence_and_an_event_linking_to_nothing_are_inserted() {
    let mut duplicated = chain(5);
    let mut forged = duplicated[2].clone();
    forged.row_id = 9;
    forged.fields.detail = Some("forged".into());
    duplicated.push(forged);
    assert!(verify(duplicated).names(AuditProblemKind::Inserted, 3));

    let mut appended = chain(5);
    appended.push(event_at(6, [7; 32], "forged"));
    assert_eq!(kinds_and_sequences(&verify(appended)), vec![(AuditProblemKind::Inserted, 6)]);
}

#[test]
fn swapped_events_are_reordered_where_the_swap_starts() {
    let mut swapped = chain(6);
    swapped[3].fields.sequence = 5;
    swapped[4].fields.sequence = 4;
    let report = verify(swapped);
    assert_eq!(
        report.first_break().map(|problem| (problem.kind, problem.sequence)),
        Some((AuditProblemKind::Reordered, 4))
    );
    assert!(report.names(AuditProblemKind::Reordered, 5), "{report}");
}

#[test]
fn a_forged_event_spliced_in_with_the_later_ones_renumbered_is_named_once_at_its_sequence() {
    let genuine = chain(28);
    let mut spliced: Vec<StoredAuditEvent> = genuine[..4].to_vec();
    spliced.push(event_at(5, hash_of(&genuine[3]), "forged"));
    for event in &genuine[4..] {
        let mut renumbered = event.clone();
        renumbered.fields.sequence += 1;
        renumbered.row_id += 1;
        spliced.push(renumbered);
    }
    let report = verify(spliced);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::Inserted, 5)], "{report}");
}

#[test]
fn a_splice_with_recomputed_hashes_diverges_from_the_next_checkpoint_and_names_the_earliest_forgery() {
    let genuine = chain(12);
    let heads = [signed_head(&genuine, 3), signed_head(&genuine, 10)];
    let mut spliced: Vec<StoredAuditEvent> = genuine[..4].to_vec();
    spliced.push(event_at(5, hash_of(&genuine[3]), "forged"));
    for event in &genuine[4..] {
        let mut renumbered = event.clone();
        renumbered.fields.sequence += 1;
        spliced.push(renumbered);
    }
    rehash_from(&mut spliced, 4);
    assert!(verify(spliced.clone()).is_intact(), "without a checkpoint the rewrite cannot be seen");
    let report = verify_against(spliced, &heads);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::DivergesFromCheckpoint, 10)], "{report}");
    assert!(report.problems[0].detail.contains("the earliest that may be: 4"), "{report}");
    assert_eq!(report.witness.witnessed_through, 3);
}

#[test]
fn a_whole_chain_rewritten_diverges_from_every_checkpoint_and_may_be_forged_from_the_start() {
    let genuine = chain(6);
    let heads = [signed_head(&genuine, 2), signed_head(&genuine, 6)];
    let mut rewritten = genuine.clone();
    rewritten.iter_mut().for_each(|event| event.fields.actor = "attacker".into());
    rehash_from(&mut rewritten, 0);
    let report = verify_against(rewritten, &heads);
    let first = report.first_break().unwrap();
    assert_eq!((first.kind, first.sequence), (AuditProblemKind::DivergesFromCheckpoint, 2), "{report}");
    assert!(first.detail.contains("the earliest that may be: 1"), "{report}");
}

#[test]
fn a_chain_cut_before_a_checkpoint_and_a_forged_event_appended_diverges_from_it() {
    let genuine = chain(8);
    let heads = [signed_head(&genuine, 4), signed_head(&genuine, 8)];
    let mut cut: Vec<StoredAuditEvent> = genuine[..5].to_vec();
    cut.push(event_at(6, hash_of(&genuine[4]), "forged, well-formed"));
    let report = verify_against(cut, &heads);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::DivergesFromCheckpoint, 8)], "{report}");
    assert!(report.problems[0].detail.contains("the earliest that may be: 5"), "{report}");
}

#[test]
fn events_after_the_last_witnessed_checkpoint_are_listed_as_not_yet_witnessed() {
    let mut events = chain(7);
    let heads = [signed_head(&events, 5)];
    events.push(event_at(8, hash_of(&events[6]), "forged, well-formed"));
    let report = verify_against(events, &heads);
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.unwitnessed(), Some((6, 8)));
    assert!(report.to_string().contains("not yet witnessed: events 6 to 8"), "{report}");
}

#[test]
fn a_sequence_far_beyond_the_stored_events_is_one_problem_on_one_line() {
    let mut events = chain(6);
    events.push(event_at(5_000_000, hash_of(&events[5]), "forged"));
    let report = verify(events);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::SequenceOutOfRange, 5_000_000)], "{report}");
    assert_eq!(report.head_sequence, 6, "the forged row is not the head");
    assert!(report.to_string().lines().count() < 10, "{report}");
}

#[test]
fn a_row_without_a_valid_sequence_is_named_not_read_as_zero() {
    let known = HashMap::new();
    let mut verifier = AuditChainVerifier::new(known, 1, &[]);
    verifier.observe_invalid_sequence(17, "NULL");
    let report = verifier.finish(&[], false);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::SequenceInvalid, 0)]);
    assert!(report.problems[0].detail.contains("row 17 has a NULL sequence"), "{report}");
}

#[test]
fn many_problems_print_the_first_break_twenty_lines_and_a_count() {
    let mut events = chain(100);
    events.iter_mut().for_each(|event| event.fields.detail = Some("forged".into()));
    let report = verify(events);
    let text = report.to_string();
    assert!(text.contains("first break: edited at sequence 1"), "{text}");
    assert!(text.contains("and 80 more"), "{text}");
    assert!(text.lines().count() < 30, "{text}");
}

#[test]
fn several_problems_are_all_reported() {
    let mut events = chain(8);
    events[1].fields.detail = Some("forged".into());
    events.remove(5);
    let report = verify(events);
    assert!(report.names(AuditProblemKind::Edited, 2));
    assert!(report.names(AuditProblemKind::Deleted, 6));
}

#[test]
fn a_keyed_chain_is_intact_and_the_report_says_its_macs_were_checked() {
    let key = AuditChainKey::from_secret(&[3; 32]);
    let mut events = chain(5);
    key_from(&mut events, 0, &key);
    let report = verify_with_key(events.clone(), &key);
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.mac_check, MacCheck::Checked { unkeyed_through: 0 });
    assert!(report.to_string().contains("every event's MAC checked"), "{report}");
    let without_key = verify(events);
    assert!(matches!(without_key.mac_check, MacCheck::NotChecked { .. }), "{without_key}");
    assert!(without_key.to_string().contains("MACs not checked"), "{without_key}");
}

#[test]
fn a_well_formed_event_appended_without_the_key_is_forged_at_its_sequence() {
    let key = AuditChainKey::from_secret(&[3; 32]);
    let mut genuine = chain(6);
    key_from(&mut genuine, 0, &key);
    let mut wrong_mac = genuine.clone();
    let mut forged = event_at(7, hash_of(&genuine[5]), "forged, well-formed");
    forged.mac = Some(AuditChainKey::from_secret(&[4; 32]).mac(&forged.hash).to_vec());
    wrong_mac.push(forged.clone());
    let report = verify_with_key(wrong_mac.clone(), &key);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::Forged, 7)], "{report}");
    assert!(report.to_string().contains("first break: forged at sequence 7: MAC does not verify"), "{report}");
    assert!(verify(wrong_mac).is_intact(), "the hashes alone cannot tell it from a genuine event");

    let mut no_mac = genuine;
    forged.mac = None;
    no_mac.push(forged);
    let report = verify_with_key(no_mac, &key);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::Forged, 7)], "{report}");
    assert!(report.problems[0].detail.contains("MAC missing"), "{report}");
}

#[test]
fn events_written_before_keying_are_an_unkeyed_prefix_and_an_unkeyed_event_after_it_is_forged() {
    let key = AuditChainKey::from_secret(&[3; 32]);
    let mut events = chain(6);
    key_from(&mut events, 3, &key);
    let report = verify_with_key(events.clone(), &key);
    assert!(report.is_intact(), "{report}");
    assert_eq!(report.mac_check, MacCheck::Checked { unkeyed_through: 3 });
    assert!(report.to_string().contains("events 1 to 3 are unkeyed"), "{report}");

    events.push(event_at(7, hash_of(&events[5]), "forged, no MAC"));
    let report = verify_with_key(events, &key);
    assert_eq!(kinds_and_sequences(&report), vec![(AuditProblemKind::Forged, 7)], "{report}");
}

#[test]
fn a_forged_event_spliced_in_is_both_inserted_and_forged_at_its_sequence() {
    let key = AuditChainKey::from_secret(&[3; 32]);
    let mut genuine = chain(10);
    key_from(&mut genuine, 0, &key);
    let mut spliced: Vec<StoredAuditEvent> = genuine[..4].to_vec();
    spliced.push(event_at(5, hash_of(&genuine[3]), "forged"));
    for event in &genuine[4..] {
        let mut renumbered = event.clone();
        renumbered.fields.sequence += 1;
        renumbered.row_id += 1;
        spliced.push(renumbered);
    }
    let report = verify_with_key(spliced, &key);
    let expected = vec![(AuditProblemKind::Inserted, 5), (AuditProblemKind::Forged, 5)];
    assert_eq!(kinds_and_sequences(&report), expected, "{report}");
}
