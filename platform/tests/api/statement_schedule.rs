//! Statements on a schedule (`--statement-day 5`): the previous month's statements are queued once the day begins
//! (UTC+8), once per number and month, and a platform restarted after being down across due days sends each
//! missed month once and nothing twice. Real `run` over a real SQLite file, the clock a `ManualClock`.

use crate::helpers::OSS_SECRET;
use numbind_platform::{Config, StatementDay};
use numbind_process::civil_date::CivilDate;
use numbind_process::clock::{ManualClock, CHINA_STANDARD_TIME_OFFSET_SECONDS};
use numbind_wire::component_auth::ComponentSecret;
use numbind_wire::ShortCode;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const NOVEMBER_NUMBER: &str = "13900139000";
const DECEMBER_NUMBER: &str = "13800138000";

/// Unix seconds of `date` at `hour`:`minute` China Standard Time.
fn local(date: &str, hour: i64, minute: i64) -> i64 {
    let (start, _) = CivilDate::parse(date).unwrap().unix_seconds_span(CHINA_STANDARD_TIME_OFFSET_SECONDS);
    start + hour * 3600 + minute * 60
}

struct Platform {
    shutdown: CancellationToken,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(directory: &Path, clock: Arc<ManualClock>) -> Platform {
    let mut config = Config::new(
        directory.join("platform.db"),
        directory.join("platform-signing.key"),
        ShortCode::parse("10658000").unwrap(),
        ComponentSecret::parse(OSS_SECRET).unwrap(),
    );
    config.clock = clock;
    config.statement_day = Some("5".parse::<StatementDay>().unwrap());
    config.statement_schedule_interval = Duration::from_millis(50);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let served = tokio::spawn(numbind_platform::run(config, listener, shutdown.clone().cancelled_owned()));
    assert_eq!(reqwest::get(format!("{address}/healthz")).await.unwrap().status(), 200);
    Platform { shutdown, served }
}

impl Platform {
    async fn stop(self) {
        self.shutdown.cancel();
        self.served.await.unwrap().unwrap();
    }
}

fn open(directory: &Path) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(directory.join("platform.db")).unwrap();
    connection.busy_timeout(Duration::from_secs(10)).unwrap();
    connection
}

/// A succeeded charge of `msisdn`, settled at `finalized_at`, written as the payment path leaves one.
fn charge(directory: &Path, payment_id: &str, msisdn: &str, finalized_at: i64) {
    open(directory)
        .execute(
            "INSERT INTO payments (payment_id, merchant_id, reference_code, terminal_id, intent_nonce, binding_id,
             msisdn, item_id, item_description, amount, currency, state, created_at, updated_at, finalized_at)
             VALUES (?1, 'demo-films', 'order', 'term-1', ?1, 'bnd-1', ?2, 'film-1', '流浪地球', 500, 'CNY',
             'succeeded', ?3, ?3, ?3)",
            rusqlite::params![payment_id, msisdn, finalized_at],
        )
        .unwrap();
}

/// (number, month) pairs whose statement is queued.
type QueuedStatements = Vec<(String, String)>;
/// Statement SMS in the outbox, counted per number.
type StatementSmsPerNumber = Vec<(String, i64)>;

/// Every (number, month) whose statement is queued, and the statement SMS in the outbox per number.
fn statements(directory: &Path) -> (QueuedStatements, StatementSmsPerNumber) {
    let connection = open(directory);
    let mut sends = connection.prepare("SELECT msisdn, month FROM statement_sends ORDER BY month").unwrap();
    let sends = sends.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect();
    let mut outbox = connection
        .prepare(
            "SELECT destination, COUNT(*) FROM outbox_sms WHERE outbox_id IN (SELECT outbox_id FROM statement_sends)
             GROUP BY destination ORDER BY destination",
        )
        .unwrap();
    let outbox = outbox.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect();
    (sends, outbox)
}

/// Waits until the statements queued are `expected`; fails after 10 s.
async fn wait_for(directory: &Path, expected: &[(&str, &str)]) {
    let expected: Vec<(String, String)> =
        expected.iter().map(|(number, month)| ((*number).to_owned(), (*month).to_owned())).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while statements(directory).0 != expected {
        assert!(std::time::Instant::now() < deadline, "queued {:?}, expected {expected:?}", statements(directory));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the latest month the schedule recorded as finished is `month`; fails after 10 s.
async fn wait_for_finished(directory: &Path, month: &str) {
    let finished = || {
        open(directory)
            .query_row("SELECT MAX(month) FROM statement_schedule_months", [], |row| row.get::<_, Option<String>>(0))
            .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while finished().as_deref() != Some(month) {
        assert!(std::time::Instant::now() < deadline, "finished {:?}, expected {month}", finished());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_schedule_sends_each_month_once_after_its_day_across_restarts() {
    let directory = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::starting_at(local("2026-12-04", 23, 0)));
    let first = start(directory.path(), clock.clone()).await;
    charge(directory.path(), "pay-nov", NOVEMBER_NUMBER, local("2026-11-15", 10, 0));
    charge(directory.path(), "pay-dec", DECEMBER_NUMBER, local("2026-12-02", 10, 0));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(statements(directory.path()).0, vec![], "the 5th has not begun in UTC+8");

    clock.advance(Duration::from_secs(3600));
    wait_for(directory.path(), &[(NOVEMBER_NUMBER, "2026-11")]).await;
    wait_for_finished(directory.path(), "2026-11").await;
    first.stop().await;

    // Down from December 5 to February 10: December's statements (due January 5) and January's (due February 5)
    // are both sent when the platform starts again, November's not again.
    clock.advance(Duration::from_secs((local("2027-02-10", 9, 0) - local("2026-12-05", 0, 0)) as u64));
    let second = start(directory.path(), clock.clone()).await;
    wait_for(directory.path(), &[(NOVEMBER_NUMBER, "2026-11"), (DECEMBER_NUMBER, "2026-12")]).await;
    wait_for_finished(directory.path(), "2027-01").await;
    second.stop().await;

    let third = start(directory.path(), clock.clone()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (sends, outbox) = statements(directory.path());
    assert_eq!(sends.len(), 2, "a restart sends nothing twice: {sends:?}");
    assert_eq!(outbox, vec![(DECEMBER_NUMBER.to_owned(), 1), (NOVEMBER_NUMBER.to_owned(), 1)], "one SMS each");
    third.stop().await;
}
