//! The console in Chinese and in English: every page rendered in each language shows no text of the other (IDs,
//! codes and data aside); the choice comes from `Accept-Language` until the operator switches, and then sticks.

use crate::console::{Browser, Page};
use crate::payment_helpers::{spawn_payment_app, PaymentApp, BOUND_NUMBER};
use numbind_platform::OperatorRole;
use serde_json::json;

/// Words that are names or codes in both languages: the product, formats, the time zone, query values.
const SAME_IN_BOTH: &[&str] = &["numbind", "UTC", "CSV", "JSON", "Lines", "hours", "days", "NB", "ID", "CNY"];

/// Removes each `<code>…</code>`: commands, event kinds and IDs, the same in both languages.
fn without_code(body: &str) -> String {
    let mut rest = body;
    let mut kept = String::with_capacity(body.len());
    while let Some(start) = rest.find("<code") {
        kept.push_str(&rest[..start]);
        rest = rest[start..].find("</code>").map_or("", |end| &rest[start + end + "</code>".len()..]);
    }
    kept.push_str(rest);
    kept
}

/// The page's visible text, codes left out: tags removed, entities decoded enough for words to be seen.
fn visible_text(body: &str) -> String {
    let body = without_code(body);
    let mut text = String::with_capacity(body.len());
    let mut in_tag = false;
    for character in body.chars() {
        match character {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(character),
            _ => {}
        }
    }
    text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
}

/// English words on a page: runs of two or more ASCII letters standing alone (not part of an ID, a code or a
/// number such as `bnd-pay-1`, `operator_unbound` or `138****8000`), other than `allowed` data.
fn english_words(body: &str, allowed: &[&str]) -> Vec<String> {
    visible_text(body)
        .split(|character: char| character.is_whitespace() || "()[]{},.:;·/=!?\"'|（）：，。；".contains(character))
        .filter(|token| token.len() >= 2 && token.chars().all(|character| character.is_ascii_alphabetic()))
        .filter(|token| !SAME_IN_BOTH.contains(token) && !allowed.contains(token))
        .map(str::to_owned)
        .collect()
}

fn chinese_characters(body: &str) -> Vec<char> {
    visible_text(body).chars().filter(|character| ('\u{4e00}'..='\u{9fff}').contains(character)).collect()
}

/// A browser whose language is chosen by the console's own cookie.
fn choose(browser: &mut Browser<'_>, code: &str) {
    let session = browser.cookie.take().unwrap_or_default();
    browser.cookie = Some(format!("{session}; numbind_console_language={code}"));
}

/// Every kind of console page an admin and an auditor can reach, with a bound terminal, an unbinding, a payment
/// and a refund behind them, and the refusals a console shows.
async fn every_page(code: &str) -> Vec<(String, Page)> {
    let payments = spawn_payment_app().await;
    let app = &payments.app;
    let token = payments.merchant("demo-films");
    let (status, paid) =
        payments.pay(&token, "order-0001", &payments.signed(&payments.intent("demo-films", 500))).await;
    assert_eq!(status, 201, "{paid}");
    let payment_id = paid["payment_id"].as_str().unwrap().to_owned();
    let terminal = format!("/console/terminals/{}", app.terminal.terminal_id);

    let mut signed_out = Browser::new(app);
    choose(&mut signed_out, code);
    let mut admin = Browser::signed_in(app, "bob", OperatorRole::Admin).await;
    choose(&mut admin, code);
    let mut auditor = Browser::signed_in(app, "audrey", OperatorRole::Auditor).await;
    choose(&mut auditor, code);
    let csrf = admin.csrf_token().await;
    let mut pages = vec![
        ("sign-in".to_owned(), signed_out.get("/console/sign-in").await),
        ("refused sign-in".to_owned(), signed_out.post("/console/sign-in", &[("token", "nb_op_wrong")]).await),
        ("overview".to_owned(), admin.get("/console").await),
        ("overview by day".to_owned(), admin.get("/console?period=days").await),
        ("bindings".to_owned(), admin.get("/console/bindings").await),
        ("no bindings".to_owned(), admin.get("/console/bindings?state=revoked").await),
        ("terminal, bound".to_owned(), admin.get(&terminal).await),
        ("terminal, auditor".to_owned(), auditor.get(&terminal).await),
        ("payments".to_owned(), admin.get("/console/payments").await),
    ];
    let refund = admin
        .post(
            &format!("/console/payments/{payment_id}/refund"),
            &[("amount", "100"), ("reason", "退款"), ("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(refund.status, 303, "{}", refund.body);
    pages.push(("payment".to_owned(), admin.get(&format!("/console/payments/{payment_id}")).await));
    pages.push(("payment, auditor".to_owned(), auditor.get(&format!("/console/payments/{payment_id}")).await));
    pages.extend(money_pages(&payments, &admin, &auditor, &payment_id, &csrf).await);
    let reveal = admin.post("/console/bindings/reveal", &[("reason", "核对"), ("csrf_token", &csrf)]).await;
    pages.push(("revealed".to_owned(), reveal));
    let unbound = admin.post(&format!("{terminal}/unbind"), &[("reason", "用户要求"), ("csrf_token", &csrf)]).await;
    assert_eq!(unbound.status, 303, "{}", unbound.body);
    pages.push(("terminal, unbound".to_owned(), admin.get(unbound.location.as_deref().unwrap()).await));
    pages.push(("terminal, no binding".to_owned(), admin.get(&terminal).await));
    pages.push(("bad request".to_owned(), admin.get("/console/bindings?state=gone").await));
    pages.push((
        "bad reason".to_owned(),
        admin.post(&format!("{terminal}/unbind"), &[("reason", " "), ("csrf_token", &csrf)]).await,
    ));
    pages.push(("not found".to_owned(), admin.get("/console/no-such-page").await));
    pages.push((
        "forbidden".to_owned(),
        auditor.post(&format!("{terminal}/unbind"), &[("reason", "x"), ("csrf_token", &csrf)]).await,
    ));
    pages.push((
        "expired form".to_owned(),
        admin.post(&format!("{terminal}/unbind"), &[("reason", "x"), ("csrf_token", "old")]).await,
    ));
    pages
}

/// The money pages: open disputes (admin and auditor), a day's reconciliation with its chart and repair forms, and
/// their refusals.
async fn money_pages(
    payments: &PaymentApp,
    admin: &Browser<'_>,
    auditor: &Browser<'_>,
    payment_id: &str,
    csrf: &str,
) -> Vec<(String, Page)> {
    let dispute = json!({ "msisdn": BOUND_NUMBER, "payment_id": payment_id, "sms_message_id": "mo-dispute-1" });
    let (status, opened) = payments.app.oss_post("/v1/oss/disputes", &dispute).await;
    assert_eq!(status, 200, "{opened}");
    let dispute_id = opened["dispute_id"].as_str().unwrap().to_owned();
    let day = numbind_process::civil_date::CivilDate::of(
        payments.app.now(),
        numbind_process::clock::CHINA_STANDARD_TIME_OFFSET_SECONDS,
    );
    let repair = |action: &'static str| {
        let day = day.to_string();
        let record = payment_id.to_owned();
        let csrf = csrf.to_owned();
        async move {
            let form = [
                ("day", day.as_str()),
                ("record_id", record.as_str()),
                ("action", action),
                ("csrf_token", csrf.as_str()),
            ];
            admin.post("/console/reconciliation/repair", &form).await
        }
    };
    vec![
        ("disputes".to_owned(), admin.get("/console/disputes").await),
        ("disputes, auditor".to_owned(), auditor.get("/console/disputes").await),
        (
            "dispute, bad reason".to_owned(),
            admin
                .post(&format!("/console/disputes/{dispute_id}/reject"), &[("reason", " "), ("csrf_token", csrf)])
                .await,
        ),
        ("dispute, unknown".to_owned(), admin.post("/console/disputes/dsp-none/refund", &[("csrf_token", csrf)]).await),
        ("reconciliation".to_owned(), admin.get(&format!("/console/reconciliation?day={day}")).await),
        ("reconciliation, auditor".to_owned(), auditor.get(&format!("/console/reconciliation?day={day}")).await),
        ("reconciliation, bad day".to_owned(), admin.get("/console/reconciliation?day=2026-13-01").await),
        ("repair, bad action".to_owned(), repair("delete").await),
    ]
}

#[tokio::test]
async fn every_console_page_in_chinese_has_no_english_text_left() {
    for (name, page) in every_page("zh").await {
        assert!(page.body.contains("<html lang=\"zh-CN\">"), "{name}: {}", page.body);
        let english = english_words(&page.body, &["bob", "audrey", "x", "English", "Skyworth"]);
        assert!(english.is_empty(), "{name} shows English {english:?}:\n{}", visible_text(&page.body));
        assert!(page.body.contains(">English</a>"), "{name} has the switch to English");
    }
}

#[tokio::test]
async fn every_console_page_in_english_has_no_chinese_text_left() {
    for (name, page) in every_page("en").await {
        assert!(page.body.contains("<html lang=\"en\">"), "{name}: {}", page.body);
        // The reasons typed in Chinese are data the page shows back, as typed.
        let shown: String = chinese_characters(&page.body).into_iter().collect();
        let data = ["退款", "核对", "用户要求"];
        let mut rest = shown.clone();
        for typed in data {
            rest = rest.replace(typed, "");
        }
        let switch: String = "中文".to_owned();
        let rest = rest.replacen(&switch, "", 1);
        assert!(rest.is_empty(), "{name} shows Chinese {rest:?}:\n{}", visible_text(&page.body));
        assert!(page.body.contains(">中文</a>"), "{name} has the switch to Chinese");
    }
}

#[tokio::test]
async fn the_browser_language_chooses_until_the_operator_switches() {
    let app = crate::helpers::spawn_app().await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let sign_in = format!("{}/console/sign-in", app.address);
    let chinese = http.get(&sign_in).header("accept-language", "zh-CN,zh;q=0.9,en;q=0.8").send().await.unwrap();
    assert!(chinese.text().await.unwrap().contains("运营令牌"));
    let english = http.get(&sign_in).header("accept-language", "en-GB,en;q=0.9").send().await.unwrap();
    assert!(english.text().await.unwrap().contains("Operator token"));

    let switch = format!("{}/console/language/en?back=%2Fconsole%2Fsign-in", app.address);
    let switched = http.get(&switch).header("accept-language", "zh-CN").send().await.unwrap();
    assert_eq!(switched.status(), 303);
    assert_eq!(switched.headers()["location"], "/console/sign-in");
    let cookie = switched.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(cookie, "numbind_console_language=en");
    let chosen = http.get(&sign_in).header("accept-language", "zh-CN").header("cookie", &cookie).send().await.unwrap();
    assert!(chosen.text().await.unwrap().contains("Operator token"), "the choice wins over the browser");

    let elsewhere = http.get(format!("{}/console/language/zh?back=https%3A%2F%2Fevil.example", app.address));
    let elsewhere = elsewhere.send().await.unwrap();
    assert_eq!(elsewhere.headers()["location"], "/console", "a switch never leads off the console");
    let unknown = http.get(format!("{}/console/language/fr", app.address)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
}
