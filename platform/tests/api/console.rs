//! The operator web console: sign-in and cookie sessions, CSRF, roles, escaping, masking, unbinding and exports.

use crate::helpers::{spawn_app, TestApp, TestTerminal};
use numbind_platform::{create_operator_token, OperatorRole};
use serde_json::json;

const NUMBER: &str = "13800138000";
const MASKED: &str = "138****8000";
const HOSTILE: &str = "<script>alert('x')</script>";

/// A browser without redirects followed, so tests see each 303 and its cookie.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    pub(crate) cookie: Option<String>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) set_cookie: Option<String>,
    pub(crate) body: String,
}

impl Page {
    /// The CSRF token in the page's first form that carries one.
    pub(crate) fn csrf_token(&self) -> String {
        let marker = "name=\"csrf_token\" value=\"";
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { app, http, cookie: None }
    }

    async fn page(&self, builder: reqwest::RequestBuilder) -> Page {
        let builder = match &self.cookie {
            Some(cookie) => builder.header("cookie", cookie),
            None => builder,
        };
        let response = builder.send().await.unwrap();
        let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
        let (location, set_cookie) = (header("location"), header("set-cookie"));
        Page { status: response.status().as_u16(), location, set_cookie, body: response.text().await.unwrap() }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        self.page(self.http.get(format!("{}{path}", self.app.address))).await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).unwrap();
        let request = self
            .http
            .post(format!("{}{path}", self.app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.page(request).await
    }

    /// Signs in with a new token of `role`; keeps the session cookie.
    pub(crate) async fn signed_in(app: &'a TestApp, name: &str, role: OperatorRole) -> Browser<'a> {
        let token = create_operator_token(&app.database_path(), name, role).unwrap();
        let mut browser = Browser::new(app);
        let answer = browser.post("/console/sign-in", &[("token", &token)]).await;
        assert_eq!(answer.status, 303, "{}", answer.body);
        let set_cookie = answer.set_cookie.unwrap();
        browser.cookie = Some(set_cookie.split(';').next().unwrap().to_owned());
        browser
    }

    pub(crate) async fn csrf_token(&self) -> String {
        self.get("/console").await.csrf_token()
    }
}

fn terminal_page_path(app: &TestApp) -> String {
    format!("/console/terminals/{}", app.terminal.terminal_id)
}

#[tokio::test]
async fn signing_in_with_a_bad_token_is_refused() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    for token in ["nbo_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a token", ""] {
        let answer = browser.post("/console/sign-in", &[("token", token)]).await;
        assert_eq!(answer.status, 401, "{token}");
        assert!(answer.set_cookie.is_none());
        assert!(answer.body.contains("not recognised"), "{}", answer.body);
    }
    let malformed = browser.post("/console/sign-in", &[]).await;
    assert_eq!(malformed.status, 401);
    let unauthenticated = browser.get("/console").await;
    assert_eq!((unauthenticated.status, unauthenticated.location.as_deref()), (303, Some("/console/sign-in")));
}

#[tokio::test]
async fn signing_in_sets_a_session_cookie_that_is_not_the_token() {
    let app = spawn_app().await;
    let token = create_operator_token(&app.database_path(), "alice", OperatorRole::Auditor).unwrap();
    let browser = Browser::new(&app);
    let answer = browser.post("/console/sign-in", &[("token", &token)]).await;
    assert_eq!((answer.status, answer.location.as_deref()), (303, Some("/console")));
    let cookie = answer.set_cookie.unwrap();
    assert!(cookie.starts_with("numbind_console="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(!cookie.contains(&token) && !cookie.contains(&token[4..]));
    let signed_in = Browser { cookie: Some(cookie.split(';').next().unwrap().to_owned()), ..Browser::new(&app) };
    let home = signed_in.get("/console").await;
    assert_eq!(home.status, 200, "{}", home.body);
    assert!(home.body.contains("<svg") && home.body.contains("alice (auditor)"));
    let forged = Browser { cookie: Some("numbind_console=forged".to_owned()), ..Browser::new(&app) };
    assert_eq!(forged.get("/console").await.status, 303);
    let kinds: Vec<String> = app.store.audit_events().unwrap().into_iter().map(|event| event.kind).collect();
    assert!(kinds.contains(&"console_signed_in".to_owned()));
}

#[tokio::test]
async fn signing_out_or_revoking_the_token_ends_the_session() {
    let app = spawn_app().await;
    let browser = Browser::signed_in(&app, "bob", OperatorRole::Admin).await;
    let csrf = browser.csrf_token().await;
    assert_eq!(browser.post("/console/sign-out", &[("csrf_token", "wrong")]).await.status, 403);
    assert_eq!(browser.get("/console").await.status, 200);
    let answer = browser.post("/console/sign-out", &[("csrf_token", &csrf)]).await;
    assert_eq!((answer.status, answer.location.as_deref()), (303, Some("/console/sign-in")));
    assert!(answer.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(browser.get("/console").await.status, 303);

    let other = Browser::signed_in(&app, "carol", OperatorRole::Auditor).await;
    assert_eq!(other.get("/console").await.status, 200);
    numbind_platform::revoke_operator_token(&app.database_path(), "carol").unwrap();
    assert_eq!(other.get("/console").await.status, 303);
}

#[tokio::test]
async fn an_unbind_form_without_the_session_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let admin = Browser::signed_in(&app, "bob", OperatorRole::Admin).await;
    let unbind_path = format!("{}/unbind", terminal_page_path(&app));
    for form in [vec![("reason", "moved")], vec![("reason", "moved"), ("csrf_token", "forged")]] {
        let answer = admin.post(&unbind_path, &form).await;
        assert_eq!(answer.status, 403, "{}", answer.body);
    }
    let other_session = Browser::signed_in(&app, "bob2", OperatorRole::Admin).await.csrf_token().await;
    assert_eq!(admin.post(&unbind_path, &[("reason", "moved"), ("csrf_token", &other_session)]).await.status, 403);
    assert!(app.store.active_binding(&app.terminal.terminal_id).unwrap().is_some());
}

#[tokio::test]
async fn an_admin_unbinds_with_a_reason_and_sees_the_audit_event() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let admin = Browser::signed_in(&app, "bob", OperatorRole::Admin).await;
    let terminal_page = admin.get(&terminal_page_path(&app)).await;
    assert!(terminal_page.body.contains("id=\"unbind\""), "{}", terminal_page.body);
    let csrf = terminal_page.csrf_token();
    let unbind_path = format!("{}/unbind", terminal_page_path(&app));
    assert_eq!(admin.post(&unbind_path, &[("reason", "  "), ("csrf_token", &csrf)]).await.status, 400);
    let answer = admin.post(&unbind_path, &[("reason", "customer moved"), ("csrf_token", &csrf)]).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert!(app.store.active_binding(&app.terminal.terminal_id).unwrap().is_none());
    let after = admin.get(answer.location.as_deref().unwrap()).await;
    assert_eq!(after.status, 200);
    assert!(after.body.contains("operator_unbound") && after.body.contains("customer moved"), "{}", after.body);
    assert!(after.body.contains("id=\"unbound-notice\""));
    let again = admin.post(&unbind_path, &[("reason", "twice"), ("csrf_token", &csrf)]).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn an_auditor_cannot_unbind() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let auditor = Browser::signed_in(&app, "audrey", OperatorRole::Auditor).await;
    let terminal_page = auditor.get(&terminal_page_path(&app)).await;
    assert_eq!(terminal_page.status, 200);
    assert!(!terminal_page.body.contains("id=\"unbind\""));
    let csrf = terminal_page.csrf_token();
    let answer =
        auditor.post(&format!("{}/unbind", terminal_page_path(&app)), &[("reason", "x"), ("csrf_token", &csrf)]).await;
    assert_eq!(answer.status, 403);
    assert!(answer.body.contains("<!DOCTYPE html>") && answer.body.contains("may not"));
    assert!(app.store.active_binding(&app.terminal.terminal_id).unwrap().is_some());
    let reveal = auditor.post("/console/bindings/reveal", &[("reason", "curious"), ("csrf_token", &csrf)]).await;
    assert_eq!(reveal.status, 403);
}

#[tokio::test]
async fn hostile_values_are_escaped_in_every_page() {
    let app = spawn_app().await;
    let hostile_terminal = TestTerminal::new();
    let body = json!({
        "terminal_id": hostile_terminal.terminal_id,
        "public_key": hostile_terminal.key_pair.public_key().to_string(),
        "device_model": HOSTILE,
    });
    let request =
        app.sign_as(&hostile_terminal, reqwest::Method::POST, "/v1/terminals", body.to_string().as_bytes(), app.now());
    assert_eq!(app.send(&request).await.0, 200);
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let admin = Browser::signed_in(&app, HOSTILE, OperatorRole::Admin).await;
    let csrf = admin.csrf_token().await;
    let unbind_path = format!("{}/unbind", terminal_page_path(&app));
    assert_eq!(admin.post(&unbind_path, &[("reason", HOSTILE), ("csrf_token", &csrf)]).await.status, 303);
    let pages = [
        admin.get("/console").await,
        admin.get(&format!("/console/terminals/{}", hostile_terminal.terminal_id)).await,
        admin.get(&terminal_page_path(&app)).await,
        admin.get("/console/bindings").await,
        admin.get(&format!("/console/bindings?msisdn={}", urlencode(HOSTILE))).await,
        admin.get(&format!("/console/terminals/{}", urlencode(HOSTILE))).await,
    ];
    for page in &pages {
        assert!(!page.body.contains("<script>"), "unescaped: {}", page.body);
        assert!(page.body.contains("&lt;script&gt;") || page.status == 400, "{}", page.body);
    }
    assert!(pages[1].body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_eq!((pages[4].status, pages[5].status), (400, 400));
}

fn urlencode(text: &str) -> String {
    serde_urlencoded::to_string([("v", text)]).unwrap()[2..].to_owned()
}

#[tokio::test]
async fn an_auditor_never_sees_a_full_number() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let auditor = Browser::signed_in(&app, "audrey", OperatorRole::Auditor).await;
    let terminal = app.terminal.terminal_id.to_string();
    for path in [
        "/console".to_owned(),
        "/console/bindings".to_owned(),
        format!("/console/bindings?msisdn={NUMBER}"),
        format!("/console/bindings?msisdn=%2B86+{NUMBER}&state=active"),
        format!("/console/bindings?terminal_id={terminal}"),
        format!("/console/terminals/{terminal}"),
        "/console/exports/bindings.csv".to_owned(),
        "/console/exports/bindings.jsonl".to_owned(),
        "/console/exports/audit-events.csv".to_owned(),
        "/console/exports/audit-events.jsonl".to_owned(),
    ] {
        let page = auditor.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(!page.body.contains(NUMBER), "{path} leaked the number: {}", page.body);
        assert!(page.body.contains(MASKED) || path == "/console", "{path}: {}", page.body);
    }
}

#[tokio::test]
async fn a_number_typed_into_an_unbind_reason_reaches_the_auditor_masked() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let admin = Browser::signed_in(&app, "bob", OperatorRole::Admin).await;
    let csrf = admin.get(&terminal_page_path(&app)).await.csrf_token();
    let unbind_path = format!("{}/unbind", terminal_page_path(&app));
    let answer = admin.post(&unbind_path, &[("reason", "caller 13800138001 asked"), ("csrf_token", &csrf)]).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let auditor = Browser::signed_in(&app, "audrey", OperatorRole::Auditor).await;
    for path in [terminal_page_path(&app), "/console/exports/audit-events.csv".to_owned()] {
        let page = auditor.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(!page.body.contains("13800138001"), "{path} shows the typed number: {}", page.body);
        assert!(page.body.contains("caller 138****8001 asked"), "{path}: {}", page.body);
    }
}

#[tokio::test]
async fn an_admin_reveals_numbers_only_with_a_reason_that_is_audited() {
    let app = spawn_app().await;
    app.bind_test_terminal(NUMBER, "bnd-1").await;
    let admin = Browser::signed_in(&app, "bob", OperatorRole::Admin).await;
    let search = admin.get(&format!("/console/bindings?msisdn={NUMBER}")).await;
    // Masked in the results; the full number only in the admin's hidden reveal field.
    assert!(search.body.contains(MASKED) && search.body.matches(NUMBER).count() == 1);
    assert!(search.body.contains(&format!("name=\"msisdn\" value=\"{NUMBER}\"")));
    let csrf = search.csrf_token();
    let fields = [("msisdn", NUMBER), ("terminal_id", ""), ("state", ""), ("cursor", ""), ("csrf_token", &csrf)];
    let without_reason = admin.post("/console/bindings/reveal", &fields).await;
    assert_eq!(without_reason.status, 400);
    let mut with_reason = fields.to_vec();
    with_reason.push(("reason", "subscriber on the phone"));
    let revealed = admin.post("/console/bindings/reveal", &with_reason).await;
    assert_eq!(revealed.status, 200, "{}", revealed.body);
    assert!(revealed.body.contains(NUMBER));
    let reveals: Vec<String> = app
        .store
        .audit_events()
        .unwrap()
        .into_iter()
        .filter(|event| event.kind == "numbers_revealed")
        .filter_map(|event| event.detail)
        .collect();
    assert_eq!(reveals.len(), 1);
    assert!(reveals[0].contains("subscriber on the phone") && !reveals[0].contains(NUMBER));
    assert!(reveals[0].contains("bnd-1") && reveals[0].contains(&format!("msisdn={MASKED}")), "{}", reveals[0]);
}

#[tokio::test]
async fn bad_input_renders_an_error_page_never_a_server_error() {
    let app = spawn_app().await;
    let auditor = Browser::signed_in(&app, "audrey", OperatorRole::Auditor).await;
    for (path, status) in [
        ("/console/terminals/%3Cb%3E", 400),
        ("/console/bindings?state=gone", 400),
        ("/console/bindings?cursor=-4", 400),
        ("/console?period=weeks", 400),
        ("/console/exports/secrets.txt", 404),
        ("/console/no-such-page", 404),
    ] {
        let page = auditor.get(path).await;
        assert_eq!(page.status, status, "{path}: {}", page.body);
        assert!(page.body.contains("<!DOCTYPE html>"), "{path}");
    }
    let unknown = auditor.get(&format!("/console/terminals/{}", app.terminal.terminal_id)).await;
    assert_eq!(unknown.status, 404);
    let response = reqwest::get(format!("{}/console/sign-in", app.address)).await.unwrap();
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let stylesheet = auditor.get("/console/console.css").await;
    assert_eq!(stylesheet.status, 200);
    assert!(!stylesheet.body.contains("http://") && !stylesheet.body.contains("https://"));
}

#[tokio::test]
async fn the_chart_counts_activations_issued_today() {
    let app = spawn_app().await;
    app.registered_with_activation().await;
    let auditor = Browser::signed_in(&app, "audrey", OperatorRole::Auditor).await;
    for period in ["", "?period=days"] {
        let home = auditor.get(&format!("/console{period}")).await;
        assert_eq!(home.status, 200);
        assert!(home.body.contains("1 activation(s) issued, 0 refusal(s)"), "{}", home.body);
    }
}

#[tokio::test]
async fn a_refused_form_leaves_the_kept_alive_connection_usable() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let form = format!("csrf_token=forged&reason={}", "x".repeat(20_000));
    let refused = format!(
        "POST /console/terminals/NB-0000000000000000/unbind HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/x-www-form-urlencoded\r\n\
         content-length: {}\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(refused.as_bytes()).await.unwrap();
    // Read the refusal before reusing the connection, as a browser does.
    let mut first = vec![0u8; 4096];
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut first)).await.unwrap().unwrap();
    let mut answers = String::from_utf8_lossy(&first[..read]).into_owned();
    let follow_up = format!("GET /console/sign-in HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n");
    let _ = stream.write_all(follow_up.as_bytes()).await;
    let mut rest = String::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_string(&mut rest)).await;
    answers.push_str(&rest);
    let statuses: Vec<&str> = answers.lines().filter(|line| line.starts_with("HTTP/1.1 ")).collect();
    assert_eq!(statuses.len(), 2, "both requests were answered on one connection: {statuses:?}");
    assert!(statuses[1].starts_with("HTTP/1.1 200"), "{statuses:?}");
}

#[tokio::test]
async fn the_reconciliation_page_lists_the_days_ledger_and_its_resend_button_queues_a_new_receipt() {
    let payments = crate::payment_helpers::spawn_payment_app().await;
    let token = payments.merchant("demo-films");
    let signed = payments.signed(&payments.intent("demo-films", 500));
    let (status, body) = payments.pay(&token, "order-recon-1", &signed).await;
    assert_eq!(status, 201, "{body}");
    let payment_id = body["payment_id"].as_str().unwrap().to_owned();
    let app = &payments.app;
    let day = numbind_process::civil_date::CivilDate::of(app.now(), 8 * 3600).to_string();
    let browser = Browser::signed_in(app, "rita", OperatorRole::Admin).await;
    let page = browser.get(&format!("/console/reconciliation?day={day}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&payment_id) && page.body.contains(MASKED) && !page.body.contains(NUMBER));
    assert!(page.body.contains("id=\"money-chart\"") && page.body.contains("500 fen charged"), "{}", page.body);
    assert!(page.body.contains(&format!("rcpt-{payment_id}")), "the receipt's outbox ID is shown");

    let csrf = page.csrf_token();
    let form = [
        ("csrf_token", csrf.as_str()),
        ("day", day.as_str()),
        ("record_id", &payment_id),
        ("action", "resend_receipt"),
    ];
    let answer = browser.post("/console/reconciliation/repair", &form).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let again = browser.get(&format!("/console/reconciliation?day={day}")).await;
    assert!(again.body.contains(&format!("rcpt-{payment_id}-2")), "a second receipt is queued: {}", again.body);
    let adjust = [
        ("csrf_token", csrf.as_str()),
        ("day", day.as_str()),
        ("record_id", "pay-0000000000000000000000ee"),
        ("action", "adjust"),
        ("difference", "billing_only"),
        ("reason", ""),
    ];
    assert_eq!(
        browser.post("/console/reconciliation/repair", &adjust).await.status,
        400,
        "an adjustment needs a reason"
    );
    let auditor = Browser::signed_in(app, "ann", OperatorRole::Auditor).await;
    let auditor_page = auditor.get(&format!("/console/reconciliation?day={day}")).await;
    assert!(!auditor_page.body.contains("Re-send receipt"), "only admins see repair buttons");
    let bad_day = browser.get("/console/reconciliation?day=2026-02-30").await;
    assert_eq!(bad_day.status, 400);
}
