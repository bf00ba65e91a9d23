//! `numbind settlement run --date 2026-12-07`: one settlement file per merchant (CSV and JSON) of a billing day
//! (China Standard Time), read from the platform's operator API, and a manifest with each file's SHA-256. The
//! files hold no time of the run and list entries in the ledger's order, so a rerun writes the same bytes; each
//! file is written to a temporary file, fsynced and renamed, so a run killed half-way leaves whole files only.

use crate::operator_api::OperatorSession;
use anyhow::Context;
use numbind_process::civil_date::CivilDate;
use numbind_process::progress::{Audience, Progress};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Subcommand, Debug)]
pub(crate) enum SettlementCommand {
    /// Write the settlement files of one billing day.
    Run(SettlementArgs),
}

#[derive(clap::Args, Debug)]
pub(crate) struct SettlementArgs {
    #[command(flatten)]
    session: OperatorSession,
    /// The billing day (China Standard Time), `2026-12-07`.
    #[arg(long)]
    date: CivilDate,
    /// Where the files go (made if missing).
    #[arg(long, env = "NUMBIND_SETTLEMENT_DIR", default_value = "./settlement")]
    output_dir: PathBuf,
}

/// One charge or refund as the platform's ledger lists it (`GET /v1/operator/payment-ledger`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub(crate) struct LedgerEntry {
    pub(crate) kind: String,
    pub(crate) record_id: String,
    pub(crate) payment_id: String,
    pub(crate) merchant_id: String,
    pub(crate) reference_code: String,
    pub(crate) bill_line_id: Option<String>,
    pub(crate) terminal_id: String,
    pub(crate) msisdn_masked: Option<String>,
    pub(crate) amount_fen: i64,
    pub(crate) currency: String,
    pub(crate) settled_at_unix_seconds: i64,
    #[serde(default, skip_serializing)]
    pub(crate) receipts: Vec<LedgerReceipt>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub(crate) struct LedgerReceipt {
    pub(crate) outbox_id: String,
    pub(crate) smsc_message_id: Option<String>,
}

/// An operator's adjustment of one difference of the day.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct LedgerAdjustment {
    pub(crate) record_id: String,
    pub(crate) difference: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Ledger {
    pub(crate) entries: Vec<LedgerEntry>,
    pub(crate) adjustments: Vec<LedgerAdjustment>,
}

/// The platform's ledger of `date`.
pub(crate) async fn fetch_ledger(session: &OperatorSession, date: CivilDate) -> anyhow::Result<Ledger> {
    let response = session.get(&format!("/v1/operator/payment-ledger?day={date}")).await?;
    response.json().await.context("the platform's ledger is not the documented JSON")
}

/// One merchant's settlement of one day.
#[derive(Debug, Serialize)]
struct MerchantSettlement<'a> {
    day: String,
    merchant_id: &'a str,
    currency: &'a str,
    charges: usize,
    charged_fen: i64,
    refunds: usize,
    refunded_fen: i64,
    net_fen: i64,
    entries: Vec<&'a LedgerEntry>,
}

fn settle<'a>(day: CivilDate, merchant_id: &'a str, entries: Vec<&'a LedgerEntry>) -> MerchantSettlement<'a> {
    let sum = |kind: &str| entries.iter().filter(|entry| entry.kind == kind).map(|entry| entry.amount_fen).sum::<i64>();
    let count = |kind: &str| entries.iter().filter(|entry| entry.kind == kind).count();
    let (charged_fen, refunded_fen) = (sum("charge"), sum("refund"));
    MerchantSettlement {
        day: day.to_string(),
        merchant_id,
        currency: entries.first().map_or("CNY", |entry| entry.currency.as_str()),
        charges: count("charge"),
        charged_fen,
        refunds: count("refund"),
        refunded_fen,
        net_fen: charged_fen - refunded_fen,
        entries,
    }
}

const CSV_HEADER: &str = "kind,record_id,payment_id,merchant_reference,bill_line_id,terminal_id,msisdn_masked,\
amount_fen,currency,settled_at_unix_seconds\n";

fn csv_text(settlement: &MerchantSettlement<'_>) -> String {
    let field = |text: &str| {
        if text.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    let mut text = String::from(CSV_HEADER);
    for entry in &settlement.entries {
        let fields = [
            entry.kind.clone(),
            entry.record_id.clone(),
            entry.payment_id.clone(),
            entry.reference_code.clone(),
            entry.bill_line_id.clone().unwrap_or_default(),
            entry.terminal_id.clone(),
            entry.msisdn_masked.clone().unwrap_or_default(),
            entry.amount_fen.to_string(),
            entry.currency.clone(),
            entry.settled_at_unix_seconds.to_string(),
        ];
        text.push_str(&fields.iter().map(|value| field(value)).collect::<Vec<_>>().join(","));
        text.push('\n');
    }
    text.push_str(&format!(
        "total,charges={},charged_fen={},refunds={},refunded_fen={},net_fen={},,,,\n",
        settlement.charges, settlement.charged_fen, settlement.refunds, settlement.refunded_fen, settlement.net_fen
    ));
    text
}

/// Writes `bytes` to `path` whole or not at all: a temporary file beside it, fsynced, renamed over it, and the
/// directory fsynced. A leftover temporary file of a killed run is overwritten by the next.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let directory = path.parent().context("a settlement file has a directory")?;
    let name = path.file_name().context("a settlement file has a name")?.to_string_lossy();
    let temporary = directory.join(format!(".{name}.partial"));
    let mut file =
        std::fs::File::create(&temporary).with_context(|| format!("cannot write {}", temporary.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path).with_context(|| format!("cannot rename into {}", path.display()))?;
    std::fs::File::open(directory)?.sync_all()?;
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The files of one day: name → bytes, the manifest last.
fn settlement_files(date: CivilDate, entries: &[LedgerEntry]) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut by_merchant: BTreeMap<&str, Vec<&LedgerEntry>> = BTreeMap::new();
    for entry in entries {
        by_merchant.entry(entry.merchant_id.as_str()).or_default().push(entry);
    }
    let mut files = Vec::new();
    let mut manifest = Vec::new();
    for (merchant_id, entries) in by_merchant {
        let settlement = settle(date, merchant_id, entries);
        let stem = format!("settlement-{date}-{merchant_id}");
        let mut json = serde_json::to_vec_pretty(&settlement)?;
        json.push(b'\n');
        for (name, bytes) in
            [(format!("{stem}.csv"), csv_text(&settlement).into_bytes()), (format!("{stem}.json"), json)]
        {
            manifest
                .push(serde_json::json!({ "file": name, "merchant_id": merchant_id, "sha256": sha256_hex(&bytes) }));
            files.push((name, bytes));
        }
    }
    let mut manifest_bytes =
        serde_json::to_vec_pretty(&serde_json::json!({ "day": date.to_string(), "files": manifest }))?;
    manifest_bytes.push(b'\n');
    files.push((format!("settlement-{date}-manifest.json"), manifest_bytes));
    Ok(files)
}

pub(crate) async fn settlement(command: SettlementCommand) -> anyhow::Result<()> {
    let SettlementCommand::Run(args) = command;
    let ledger = fetch_ledger(&args.session, args.date).await?;
    let files = settlement_files(args.date, &ledger.entries)?;
    std::fs::create_dir_all(&args.output_dir)
        .with_context(|| format!("cannot make the folder {}", args.output_dir.display()))?;
    let progress = Progress::start(
        "writing settlement files",
        Some(files.len() as u64),
        Audience::from_json_flag(args.session.json),
    );
    for (name, bytes) in &files {
        progress.say(&format!("writing {name}"));
        write_atomically(&args.output_dir.join(name), bytes)?;
        progress.advance(1);
    }
    progress.finish();
    let (manifest_name, manifest) = files.last().context("a manifest is always written")?;
    if args.session.json {
        print!("{}", String::from_utf8_lossy(manifest));
    } else {
        println!(
            "{} charges and refunds of {} settled in {} files; manifest: {}",
            ledger.entries.len(),
            args.date,
            files.len() - 1,
            args.output_dir.join(manifest_name).display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, record_id: &str, merchant_id: &str, amount_fen: i64) -> LedgerEntry {
        LedgerEntry {
            kind: kind.into(),
            record_id: record_id.into(),
            payment_id: "pay-1".into(),
            merchant_id: merchant_id.into(),
            reference_code: "order, \"7\"".into(),
            bill_line_id: Some("bill-1".into()),
            terminal_id: "STB-1".into(),
            msisdn_masked: Some("138****8000".into()),
            amount_fen,
            currency: "CNY".into(),
            settled_at_unix_seconds: 1_796_601_600,
            receipts: Vec::new(),
        }
    }

    #[test]
    fn one_file_pair_per_merchant_with_totals_and_a_manifest_of_their_digests() {
        let date = CivilDate::parse("2026-12-07").unwrap();
        let entries = [
            entry("charge", "pay-1", "films", 500),
            entry("refund", "ref-1", "films", 200),
            entry("charge", "pay-2", "games", 100),
        ];
        let files = settlement_files(date, &entries).unwrap();
        let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "settlement-2026-12-07-films.csv",
                "settlement-2026-12-07-films.json",
                "settlement-2026-12-07-games.csv",
                "settlement-2026-12-07-games.json",
                "settlement-2026-12-07-manifest.json"
            ]
        );
        let films: serde_json::Value = serde_json::from_slice(&files[1].1).unwrap();
        assert_eq!(
            (films["charged_fen"].as_i64(), films["refunded_fen"].as_i64(), films["net_fen"].as_i64()),
            (Some(500), Some(200), Some(300))
        );
        let csv = String::from_utf8(files[0].1.clone()).unwrap();
        assert!(csv.contains("\"order, \"\"7\"\"\""), "a field with a comma is quoted: {csv}");
        assert!(csv.ends_with("total,charges=1,charged_fen=500,refunds=1,refunded_fen=200,net_fen=300,,,,\n"), "{csv}");
        let manifest: serde_json::Value = serde_json::from_slice(&files[4].1).unwrap();
        assert_eq!(manifest["files"][2]["sha256"], sha256_hex(&files[2].1));
        assert_eq!(files, settlement_files(date, &entries).unwrap(), "the same ledger gives the same bytes");
    }

    #[test]
    fn an_atomic_write_replaces_the_file_whole_and_outlives_a_killed_runs_leftover() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("settlement-2026-12-07-films.csv");
        // What a run killed between creating and renaming its temporary file leaves behind.
        std::fs::write(directory.path().join(".settlement-2026-12-07-films.csv.partial"), b"half a fi").unwrap();
        std::fs::write(&path, b"an older whole file\n").unwrap();
        write_atomically(&path, b"the new whole file\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"the new whole file\n");
        let leftovers: Vec<_> = std::fs::read_dir(directory.path())
            .unwrap()
            .filter_map(|entry| entry.ok().map(|entry| entry.file_name().to_string_lossy().into_owned()))
            .filter(|name| name.ends_with(".partial"))
            .collect();
        assert!(leftovers.is_empty(), "the temporary file became the file: {leftovers:?}");
    }
}
