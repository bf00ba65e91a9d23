//! The console's reconciliation page against the real processes: one-sided entries injected straight into the OSS's
//! and the SMS centre's SQLite databases are named on the page of the day (by kind, record, masked number), each
//! repaired with the button the page offers for it, and the page comes out clean; the operator API's
//! `GET /v1/operator/payment-differences` agrees; with the OSS stopped the page names the OSS and gives no verdict.

use crate::helpers::{Component, System, FLOW_TIMEOUT};
use crate::reconcile_payments::{billing_day, bound_box_with_purchases, PAYER};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A browser signed in to the console: its client (no redirects followed) and session cookie.
struct Browser {
    http: reqwest::Client,
    cookie: String,
    console: String,
}

impl Browser {
    async fn sign_in(system: &System, token: &str) -> Browser {
        let http = numbind_process::tls::http_client_builder(Some(&system.ca_file))
            .unwrap()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let console = format!("{}/console", system.platform_url);
        let signed_in = http.post(format!("{console}/sign-in")).form(&[("token", token)]).send().await.unwrap();
        assert_eq!(signed_in.status(), 303);
        let cookie = signed_in.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        Browser { http, cookie, console }
    }

    async fn reconciliation_page(&self, day: &str) -> String {
        let url = format!("{}/reconciliation?day={day}", self.console);
        let response = self.http.get(url).header("cookie", &self.cookie).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Presses the repair button of `record_id` in the differences section, as the page offers it.
    async fn press_repair(&self, page: &str, day: &str, record_id: &str, action: &str) {
        let row =
            difference_row(page, record_id, action).unwrap_or_else(|| panic!("no {action} of {record_id}: {page}"));
        let marker = "name=\"csrf_token\" value=\"";
        let csrf = row[row.find(marker).expect("a csrf field") + marker.len()..].split('"').next().unwrap();
        let mut form = vec![("csrf_token", csrf), ("day", day), ("record_id", record_id), ("action", action)];
        if action == "adjust" {
            let kind = row.split("name=\"difference\" value=\"").nth(1).unwrap().split('"').next().unwrap();
            form.extend([("difference", kind), ("reason", "billing corrected the amount by hand, ticket 4811")]);
        }
        let url = format!("{}/reconciliation/repair", self.console);
        let answer = self.http.post(url).header("cookie", &self.cookie).form(&form).send().await.unwrap();
        assert_eq!(answer.status(), 303, "{action} {record_id}: {}", answer.text().await.unwrap());
        assert_eq!(answer.headers()["location"], format!("/console/reconciliation?day={day}").as_str());
    }
}

/// The row of the differences table that names `record_id` and offers `action`.
fn difference_row<'page>(page: &'page str, record_id: &str, action: &str) -> Option<&'page str> {
    let section = page.split("<section id=\"differences\">").nth(1)?.split("</section>").next()?;
    let record = format!("name=\"record_id\" value=\"{record_id}\"");
    let action = format!("name=\"action\" value=\"{action}\"");
    section.split("<tr>").find(|row| row.contains(&record) && row.contains(&action))
}

async fn page_until(browser: &Browser, day: &str, marker: &str) -> String {
    let deadline = Instant::now() + FLOW_TIMEOUT;
    loop {
        let page = browser.reconciliation_page(day).await;
        if page.contains(marker) {
            return page;
        }
        assert!(Instant::now() < deadline, "the page never showed {marker}: {page}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn differences_json(system: &System, token: &str, day: &str) -> (u16, Value) {
    let url = format!("{}/v1/operator/payment-differences?day={day}", system.platform_url);
    let response = system.http.get(url).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn open(system: &System, name: &str) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(system.path(name)).expect("open a component's database");
    connection.busy_timeout(Duration::from_secs(10)).expect("busy timeout");
    connection
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_names_each_one_sided_entry_repairs_it_and_then_shows_the_day_clean() {
    let (mut system, _credentials, payments) = bound_box_with_purchases(&["1.00", "2.00", "3.00"]).await;
    let (token, day) = (system.admin_token().await, billing_day());
    let browser = Browser::sign_in(&system, &token).await;
    page_until(&browser, &day, "id=\"reconciliation-clean\"").await;

    let oss = open(&system, "oss.db");
    oss.execute("DELETE FROM charges WHERE payment_id = ?1", [&payments[0]]).expect("delete a bill line");
    oss.execute("UPDATE charges SET amount_fen = amount_fen + 1 WHERE payment_id = ?1", [&payments[1]]).unwrap();
    let smsc = open(&system, "smsc.db");
    smsc.execute("DELETE FROM messages WHERE client_reference = 'rcpt-' || ?1", [&payments[2]]).unwrap();

    let page = browser.reconciliation_page(&day).await;
    let expected = [
        (&payments[0], "redrive_billing", "on the platform only"),
        (&payments[1], "adjust", "amounts differ"),
        (&payments[2], "resend_receipt", "charged but no receipt delivered"),
    ];
    for (record_id, action, label) in expected {
        let row = difference_row(&page, record_id, action).unwrap_or_else(|| panic!("{record_id} {action}: {page}"));
        assert!(row.contains(label) && row.contains("138****8000"), "kind and masked number: {row}");
    }
    assert!(page.contains("3 difference(s)"), "nothing else: {page}");
    assert!(!page.contains(PAYER), "no full number on the page");
    let (status, listed) = differences_json(&system, &token, &day).await;
    assert_eq!((status, listed["differences"].as_array().map(Vec::len)), (200, Some(3)), "{listed}");

    for (record_id, action, _) in expected {
        browser.press_repair(&page, &day, record_id, action).await;
    }
    page_until(&browser, &day, "id=\"reconciliation-clean\"").await;
    let (status, listed) = differences_json(&system, &token, &day).await;
    assert_eq!((status, listed["differences"].as_array().map(Vec::len)), (200, Some(0)), "{listed}");

    system.kill(Component::Oss).await;
    let page = browser.reconciliation_page(&day).await;
    assert!(page.contains("id=\"reconciliation-incomplete\"") && page.contains("OSS"), "the OSS named: {page}");
    assert!(!page.contains("id=\"reconciliation-clean\""), "no verdict without the OSS");
    let (status, refused) = differences_json(&system, &token, &day).await;
    assert_eq!((status, refused["code"].as_str()), (502, Some("reconciliation_side_unreadable")), "{refused}");
}
