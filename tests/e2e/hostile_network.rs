//! The box on a hostile network: someone on the path between a box and the platform rewrites the code it is
//! offered, strips TLS or terminates it with their own certificate. None of it gets the box to show a code the
//! platform did not issue to that box; the attack this closes had a stranger's number pay for the attacker's box.

use crate::helpers::{next_event, Process, System, FLOW_TIMEOUT};
use crate::relay_proxy::{self, Rewrite};
use crate::signed_client::HandMadeTerminal;
use numbind_wire::activation_offer::{ActivationOffer, OfferExpectation};
use numbind_wire::api::ActivationResponse;
use numbind_wire::request_signing::HEADER_NONCE;
use numbind_wire::statement::{PinnedPlatformKeys, PlatformPublicKey};
use serde_json::Value;
use std::sync::Arc;
use tokio::time::Instant;

/// The attacker's own box asks the platform for a code, as any box may: the genuine answer, and its code.
async fn attackers_own_offer(system: &System) -> (Vec<u8>, ActivationOffer) {
    let attacker = HandMadeTerminal::new(system);
    assert_eq!(attacker.register().await.0, 200);
    let path = format!("/v1/terminals/{}/activations", attacker.terminal_id);
    let request = attacker.sign(reqwest::Method::POST, &path, b"{}");
    let (status, body) = attacker.send(&request).await;
    assert_eq!(status, 200, "{body}");
    let nonce = request.headers.iter().find(|(name, _)| *name == HEADER_NONCE).map(|(_, value)| value.clone());
    let response: ActivationResponse = serde_json::from_value(body.clone()).unwrap();
    let key = std::fs::read_to_string(&system.platform_key_file).unwrap();
    let pinned = PinnedPlatformKeys::new(vec![PlatformPublicKey::parse(&key).unwrap()]);
    let expectation = OfferExpectation {
        terminal_id: &attacker.terminal_id,
        in_reply_to: nonce.as_deref().unwrap(),
        now_unix_seconds: crate::signed_client::now_unix_seconds(),
    };
    let offer = pinned.verify_offer(&response.offer, expectation).expect("the attacker's own offer is genuine");
    (serde_json::to_vec(&body).unwrap(), offer)
}

/// A box (`numbind agent run`, state in `state`) whose platform URL is `url`.
fn a_box(system: &System, state: &str, url: &str, ca_file: &std::path::Path) -> Process {
    let mut command = crate::helpers::numbind();
    command
        .arg("agent")
        .arg("--state-dir")
        .arg(system.path(state))
        .args(["--platform-url", url, "--request-timeout-seconds", "2", "--platform-key-file"])
        .arg(&system.platform_key_file)
        .arg("--platform-ca-file")
        .arg(ca_file)
        .args(["--json-events", "run"]);
    Process::spawn(&format!("agent-{state}"), command, system.directory.path())
}

/// The victim's box.
fn victim_box(system: &System, url: &str, ca_file: &std::path::Path) -> Process {
    a_box(system, "victim", url, ca_file)
}

/// Reads the box's events until it has reported `refusals` failed attempts; returns every event read. Fails
/// if the box shows a code meanwhile.
async fn retries_without_a_code(agent: &mut Process, refusals: usize) -> Vec<Value> {
    let deadline = Instant::now() + FLOW_TIMEOUT;
    let mut events = Vec::new();
    while events.iter().filter(|event: &&Value| event["event"] == "retrying").count() < refusals {
        let line = agent.next_line_before(deadline).await.unwrap_or_else(|| {
            panic!("the box neither retried {refusals} times nor showed a code in time\n{}", agent.stderr())
        });
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        assert_ne!(event["event"], "activation", "the box showed a code the platform did not offer it: {event}");
        events.push(event);
    }
    events
}

fn causes(events: &[Value]) -> Vec<String> {
    events.iter().filter_map(|event| event["cause"].as_str().map(str::to_owned)).collect()
}

/// Rewrites every answer to `POST .../activations` with `replace`.
fn rewrite_activations(replace: impl Fn(Vec<u8>) -> Vec<u8> + Send + Sync + 'static) -> Rewrite {
    Arc::new(
        move |method: &str, path: &str, status: u16, body: Vec<u8>| {
            if method == "POST" && status == 200 && path.ends_with("/activations") {
                replace(body)
            } else {
                body
            }
        },
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_that_swaps_in_the_attackers_own_code_never_gets_the_box_to_show_it() {
    let system = System::start().await;
    let (attackers_answer, attackers_offer) = attackers_own_offer(&system).await;
    let rewrite = rewrite_activations(move |_| attackers_answer.clone());
    let proxy = relay_proxy::start(system.platform_url.clone(), system.http.clone(), rewrite).await;
    let mut victim = victim_box(&system, &proxy, &system.ca_file);
    let events = retries_without_a_code(&mut victim, 2).await;
    let causes = causes(&events);
    assert!(causes.iter().all(|cause| cause.contains("statement is for another terminal")), "{causes:?}");
    assert!(!victim.stderr().contains(&attackers_offer.code), "the attacker's code never reached the screen");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_that_rewrites_the_code_inside_the_signed_offer_never_gets_the_box_to_show_it() {
    let system = System::start().await;
    let (_, attackers_offer) = attackers_own_offer(&system).await;
    let attackers_code = attackers_offer.code.clone();
    let rewrite = rewrite_activations(move |body| {
        let mut answer: Value = serde_json::from_slice(&body).unwrap();
        let payload = answer["offer"]["payload"].as_str().unwrap().to_owned();
        let mut offer: Value = serde_json::from_slice(&base64_decode(&payload)).unwrap();
        offer["code"] = Value::from(attackers_code.clone());
        offer["sms_text"] = Value::from(format!("BIND {}", attackers_code.replace('-', "")));
        answer["offer"]["payload"] = Value::from(base64_encode(&serde_json::to_vec(&offer).unwrap()));
        serde_json::to_vec(&answer).unwrap()
    });
    let proxy = relay_proxy::start(system.platform_url.clone(), system.http.clone(), rewrite).await;
    let mut victim = victim_box(&system, &proxy, &system.ca_file);
    let causes = causes(&retries_without_a_code(&mut victim, 2).await);
    assert!(causes.iter().all(|cause| cause.contains("signature does not verify")), "{causes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_told_to_use_https_never_falls_back_when_the_path_strips_tls() {
    let system = System::start().await;
    // The attacker answers the platform's address with plain HTTP, relaying to the real platform.
    let passthrough: Rewrite = Arc::new(|_: &str, _: &str, _: u16, body: Vec<u8>| body);
    let proxy = relay_proxy::start_with(system.platform_url.clone(), system.http.clone(), passthrough, None).await;
    let stripped_url = proxy.url.replacen("http://", "https://", 1);
    let mut victim = victim_box(&system, &stripped_url, &system.ca_file);
    let causes = causes(&retries_without_a_code(&mut victim, 2).await);
    assert!(causes.iter().all(|cause| cause.contains("request to the platform failed")), "{causes:?}");
    assert_eq!(proxy.relayed.load(std::sync::atomic::Ordering::SeqCst), 0, "not one request went out in clear");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_refuses_a_proxy_that_terminates_tls_with_a_certificate_from_another_authority() {
    use numbind_process::local_authority::{loopback_hosts, CertificateAuthority, Validity, AUTHORITY_LIFETIME};
    let system = System::start().await;
    let stranger = CertificateAuthority::generate("attacker", Validity::from_now(AUTHORITY_LIFETIME)).unwrap();
    let certificate = stranger.issue(&loopback_hosts(), Validity::from_now(AUTHORITY_LIFETIME)).unwrap();
    let files = crate::helpers::write_certificate(system.directory.path(), "attacker", &certificate);
    let acceptor = numbind_process::tls::ServerTls::load(files).unwrap().acceptor();
    let passthrough: Rewrite = Arc::new(|_: &str, _: &str, _: u16, body: Vec<u8>| body);
    let proxy =
        relay_proxy::start_with(system.platform_url.clone(), system.http.clone(), passthrough, Some(acceptor)).await;
    let mut victim = victim_box(&system, &proxy.url, &system.ca_file);
    let causes = causes(&retries_without_a_code(&mut victim, 2).await);
    assert!(causes.iter().all(|cause| cause.contains("UnknownIssuer")), "{causes:?}");
    assert_eq!(proxy.relayed.load(std::sync::atomic::Ordering::SeqCst), 0, "the handshake failed before a request");

    // A box that trusted the attacker's authority would have been served: the refusal was the certificate.
    let attacker_ca = system.path("attacker-ca.pem");
    std::fs::write(&attacker_ca, stranger.certificate_pem()).unwrap();
    let mut fooled = a_box(&system, "fooled", &proxy.url, &attacker_ca);
    next_event(&mut fooled, &["activation"]).await;
    assert!(proxy.relayed.load(std::sync::atomic::Ordering::SeqCst) > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_refuses_plain_http_to_a_platform_that_is_not_on_its_own_machine() {
    let system = System::start().await;
    // 0.0.0.0 is not a loopback address by the agent's rule (localhost, 127.0.0.0/8, ::1), and the box refuses it
    // before connecting; were the rule ever broken, the connection would still stay on this machine.
    let mut victim = victim_box(&system, "http://0.0.0.0:9", &system.ca_file);
    let exit = victim.wait_exit(FLOW_TIMEOUT).await;
    assert_eq!(exit, Some(1), "{}", victim.stderr());
    assert!(victim.stderr().contains("plain http to a host that is not loopback"), "{}", victim.stderr());
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
