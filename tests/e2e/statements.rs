//! Monthly statements end to end: the real `numbind statements send` process against the platform's database,
//! run twice, and killed with `kill -9` half-way then run again: one statement SMS per number and month.

use crate::helpers::{numbind, Component, Process, System, FLOW_TIMEOUT};
use crate::self_service::{buy_five_yuan_on, merchant};
use numbind_process::clock::{now_unix_seconds, CivilDateTime, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use std::path::PathBuf;
use std::time::Duration;

const PAYER: &str = "13800138000";
const SECOND_PAYER: &str = "13800138001";

/// This local month (UTC+8), as the statements command takes it.
fn this_month() -> String {
    CivilDateTime::at(now_unix_seconds(), CHINA_STANDARD_TIME_OFFSET_SECONDS).month_text()
}

fn platform_database(system: &System) -> PathBuf {
    system.directory.path().join("platform.db")
}

/// `numbind statements send --month <this month> --json` on the system's platform database.
async fn send_statements(system: &System) -> serde_json::Value {
    let output = numbind()
        .args(["statements", "send", "--json", "--month", &this_month(), "--data-dir"])
        .arg(system.directory.path())
        .output()
        .await
        .expect("numbind statements send");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

async fn statements_to(system: &System, phone: &str) -> usize {
    system.inbox(phone).await.iter().filter(|text| text.contains("月度账单")).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn statements_run_twice_send_one_sms_per_charged_number() {
    let system = System::start().await;
    system.bind_a_box("box", PAYER).await;
    system.bind_a_box("other", SECOND_PAYER).await;
    let credentials = merchant(&system).await;
    for box_name in ["box", "other"] {
        assert_eq!(buy_five_yuan_on(&system, box_name, &credentials).await["outcome"], "succeeded");
    }
    let first = send_statements(&system).await;
    assert_eq!((first["numbers"].as_u64(), first["queued"].as_u64()), (Some(2), Some(2)), "{first}");
    let second = send_statements(&system).await;
    assert_eq!((second["queued"].as_u64(), second["already_queued"].as_u64()), (Some(0), Some(2)), "{second}");
    for phone in [PAYER, SECOND_PAYER] {
        let inbox = system.wait_for_sms(phone, "月度账单").await;
        let statement = inbox.iter().find(|text| text.contains("月度账单")).expect("the statement");
        assert!(
            statement.contains("共扣费1笔，合计¥5.00") && statement.contains("演示影院 ¥5.00（1笔）"),
            "{statement}"
        );
    }
    // The platform's worker has sent what was queued; nothing more comes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for phone in [PAYER, SECOND_PAYER] {
        assert_eq!(statements_to(&system, phone).await, 1, "{:?}", system.inbox(phone).await);
    }
}

/// Writes `count` succeeded charges of distinct numbers straight into the platform's database, as a month of
/// traffic would leave them.
fn seed_charged_numbers(database: &std::path::Path, count: usize) {
    let connection = rusqlite::Connection::open(database).expect("open platform.db");
    let now = now_unix_seconds();
    let transaction = connection.unchecked_transaction().expect("transaction");
    for index in 0..count {
        transaction
            .execute(
                "INSERT INTO payments (payment_id, merchant_id, reference_code, terminal_id, intent_nonce, msisdn, \
                 item_id, item_description, amount, currency, state, created_at, updated_at, finalized_at) \
                 VALUES (?1, 'e2e-films', ?1, 'seeded-terminal', ?1, ?2, 'film', 'film', 500, 'CNY', 'succeeded', \
                 ?3, ?3, ?3)",
                rusqlite::params![format!("pay-seeded-{index:06}"), format!("1350000{index:04}"), now],
            )
            .expect("insert payment");
    }
    transaction.commit().expect("commit");
}

fn count_rows(database: &std::path::Path, sql: &str) -> i64 {
    let connection = rusqlite::Connection::open(database).expect("open platform.db");
    connection.query_row(sql, [], |row| row.get(0)).expect("count")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_statements_run_killed_half_way_then_rerun_queues_one_sms_per_number() {
    let mut system = System::start().await;
    // The platform is stopped so that the queued SMS stay in its outbox to be counted.
    system.kill(Component::Platform).await;
    let database = platform_database(&system);
    let numbers = 1_500;
    seed_charged_numbers(&database, numbers);
    let mut command = numbind();
    command.args(["statements", "send", "--json", "--month", &this_month(), "--data-dir"]).arg(system.directory.path());
    let mut run = Process::spawn("statements", command, system.directory.path());
    let deadline = tokio::time::Instant::now() + FLOW_TIMEOUT;
    loop {
        let queued = count_rows(&database, "SELECT COUNT(*) FROM statement_sends");
        if queued > 0 {
            assert!(queued < numbers as i64, "the run finished before it could be killed");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the statements run queued nothing");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    run.child.start_kill().expect("SIGKILL");
    let _ = run.child.wait().await;
    let after_kill = count_rows(&database, "SELECT COUNT(*) FROM statement_sends");
    let outbox_after_kill = count_rows(&database, "SELECT COUNT(*) FROM outbox_sms WHERE text LIKE '%月度账单%'");
    assert_eq!(after_kill, outbox_after_kill, "each record has its SMS and each SMS its record");
    assert!(after_kill < numbers as i64, "killed half-way: {after_kill} of {numbers}");
    let rerun = send_statements(&system).await;
    assert_eq!(rerun["queued"].as_i64(), Some(numbers as i64 - after_kill), "{rerun}");
    let per_number = count_rows(
        &database,
        "SELECT COUNT(*) FROM (SELECT destination FROM outbox_sms WHERE text LIKE '%月度账单%' \
         GROUP BY destination HAVING COUNT(*) <> 1)",
    );
    assert_eq!(per_number, 0, "a number got no statement or two");
    let total = count_rows(&database, "SELECT COUNT(*) FROM outbox_sms WHERE text LIKE '%月度账单%'");
    assert_eq!(total, numbers as i64);
}
