//! Wire attacks against the real processes: each threat of docs/SECURITY.md that crosses a socket.

use crate::helpers::{next_event, System, FLOW_TIMEOUT};
use crate::signed_client::{now_unix_seconds, HandMadeTerminal};
use numbind_wire::request_signing::TerminalKeyPair;
use reqwest::Method;
use ring::rand::SystemRandom;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_stale_or_wrongly_signed_request_is_refused() {
    let system = System::start().await;
    let terminal = HandMadeTerminal::new(&system);
    assert_eq!(terminal.register().await.0, 200);
    let status_path = format!("/v1/terminals/{}/binding", terminal.terminal_id);

    let genuine = terminal.sign(Method::GET, &status_path, b"");
    assert_eq!(terminal.send(&genuine).await.0, 200, "a genuine request is answered");
    let (status, body) = terminal.send(&genuine).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("replayed_request")), "the same request again");

    let stale = terminal.sign_with(&terminal.key_pair, Method::GET, &status_path, b"", now_unix_seconds() - 3600);
    let (status, body) = terminal.send(&stale).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("stale_timestamp")));

    let (intruder_key, _) = TerminalKeyPair::generate(&SystemRandom::new()).unwrap();
    let forged = terminal.sign_with(&intruder_key, Method::GET, &status_path, b"", now_unix_seconds());
    let (status, body) = terminal.send(&forged).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthenticated")), "signed with another terminal's key");

    let mut tampered = terminal.sign(Method::GET, &status_path, b"");
    tampered.path = format!("/v1/terminals/{}/binding?x=1", terminal.terminal_id);
    assert_eq!(terminal.send(&tampered).await.0, 401, "a path changed after signing");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_box_cannot_read_another_boxs_state() {
    let system = System::start().await;
    let victim = HandMadeTerminal::new(&system);
    let attacker = HandMadeTerminal::new(&system);
    assert_eq!(victim.register().await.0, 200);
    assert_eq!(attacker.register().await.0, 200);
    let request = attacker.sign(Method::GET, &format!("/v1/terminals/{}/binding", victim.terminal_id), b"");
    let (status, body) = attacker.send(&request).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("terminal_mismatch")));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oss_call_with_a_wrong_secret_is_refused() {
    let system = System::start().await;
    let body = br#"{"code":"BCDFGHJK","msisdn":"13800138000","sms_message_id":"forged-1"}"#;
    let request = numbind_wire::component_auth::ComponentRequest {
        client: "oss",
        method: "POST",
        path_and_query: "/v1/oss/redemptions",
        timestamp_unix_seconds: now_unix_seconds(),
        body,
    };
    let wrong_secret =
        numbind_wire::component_auth::ComponentSecret::parse("not-the-secret-not-the-secret-000").unwrap();
    for authorization in [Some(request.authorization(&wrong_secret)), None] {
        let mut builder = system
            .http
            .post(format!("{}/v1/oss/redemptions", system.platform_url))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(value) = authorization {
            builder = builder.header("authorization", value);
        }
        let response = builder.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401);
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["code"], "unauthenticated");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_smpp_submit_before_bind_is_refused() {
    let system = System::start().await;
    let smpp_address = system.smpp_address.clone();
    let mut stream = tokio::net::TcpStream::connect(&smpp_address).await.unwrap();
    // submit_sm (0x00000004), sequence 7, minimal body: service_type "", source ton/npi/addr, dest, flags, text "hi".
    let mut body = vec![0u8, 1, 1];
    body.extend_from_slice(b"10658000\0");
    body.extend_from_slice(&[1, 1]);
    body.extend_from_slice(b"13800138000\0");
    body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    body.extend_from_slice(b"hi");
    let mut pdu = Vec::new();
    pdu.extend_from_slice(&((16 + body.len()) as u32).to_be_bytes());
    pdu.extend_from_slice(&4u32.to_be_bytes());
    pdu.extend_from_slice(&0u32.to_be_bytes());
    pdu.extend_from_slice(&7u32.to_be_bytes());
    pdu.extend_from_slice(&body);
    stream.write_all(&pdu).await.unwrap();
    let mut header = [0u8; 16];
    tokio::time::timeout(FLOW_TIMEOUT, stream.read_exact(&mut header)).await.unwrap().unwrap();
    let command_id = u32::from_be_bytes(header[4..8].try_into().unwrap());
    let command_status = u32::from_be_bytes(header[8..12].try_into().unwrap());
    let sequence = u32::from_be_bytes(header[12..16].try_into().unwrap());
    assert!(command_id == 0x8000_0004 || command_id == 0x8000_0000, "submit_sm_resp or generic_nack");
    assert_eq!(command_status, 0x04, "ESME_RINVBNDSTS");
    assert_eq!(sequence, 7);
    assert!(system.inbox("13800138000").await.is_empty(), "nothing was delivered");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_pinned_to_another_platform_key_never_flips_its_flag() {
    let system = System::start().await;
    // The box shows its code (pinned to the genuine key, so the signed offer verifies), the user texts it and the
    // platform binds it for real: from now on the platform answers every status check with a genuine "bound".
    let mut booting = system.agent("box", &["run"]);
    let activation = next_event(&mut booting, &["activation"]).await;
    booting.child.start_kill().expect("SIGKILL");
    assert_eq!(booting.wait_exit(FLOW_TIMEOUT).await, None, "killed before it could read the outcome");
    assert_ne!(read_bound_flag(&system), Some(true), "not bound before the SMS");
    system.phone_sends("13800138000", activation["sms_text"].as_str().unwrap()).await;
    system.wait_for_sms("13800138000", "已绑定").await;

    // The same box, now pinning a key that is not the platform's: the genuine statement is a forgery to it.
    let other_key_file = system.path("other.pub");
    let (other, _) = numbind_wire::statement::PlatformSigningKey::generate(&SystemRandom::new()).unwrap();
    std::fs::write(&other_key_file, format!("{}\n", other.public_key())).unwrap();
    let flag_before = std::fs::read(system.path("box").join("binding.json")).ok();
    let mut wrong_key = status_check(&system, &other_key_file, "agent-wrong-key");
    let exit = wrong_key.wait_exit(FLOW_TIMEOUT).await;
    let stderr = wrong_key.stderr();
    assert_eq!(exit, Some(1), "a statement that does not verify ends the status check with an error:\n{stderr}");
    let refusal = format!(
        "Error: status check failed: platform statement refused: statement is signed with key \"{}\"",
        genuine_key_id(&system)
    );
    assert!(stderr.contains(&refusal), "the refusal names the unpinned key; stderr:\n{stderr}");
    let flag_after = std::fs::read(system.path("box").join("binding.json")).ok();
    assert_eq!(flag_after, flag_before, "the flag file is left exactly as it was");
    assert_ne!(read_bound_flag(&system), Some(true), "the flag stays off");

    // The control: pinned to the genuine key, the same status check does turn the flag on, so the refusal above
    // is the pinning at work and not a platform that had nothing to say.
    let mut genuine = status_check(&system, &system.platform_key_file, "agent-genuine-key");
    assert_eq!(genuine.wait_exit(FLOW_TIMEOUT).await, Some(0), "{}", genuine.stderr());
    assert_eq!(read_bound_flag(&system), Some(true));
}

/// `numbind agent status` on the state directory `box`, pinning the keys in `key_file`.
fn status_check(system: &System, key_file: &std::path::Path, name: &str) -> crate::helpers::Process {
    let mut command = crate::helpers::numbind();
    command
        .arg("agent")
        .arg("--state-dir")
        .arg(system.path("box"))
        .args(["--platform-url", &system.platform_url, "--platform-key-file"])
        .arg(key_file)
        .arg("--platform-ca-file")
        .arg(&system.ca_file)
        .args(["--json-events", "status"]);
    crate::helpers::Process::spawn(name, command, system.directory.path())
}

/// The `bound` field of the box's flag file, or `None` when there is no readable flag.
fn read_bound_flag(system: &System) -> Option<bool> {
    let bytes = std::fs::read(system.path("box").join("binding.json")).ok()?;
    serde_json::from_slice::<serde_json::Value>(&bytes).ok()?["bound"].as_bool()
}

/// The key ID (`pk-...`) of the platform's genuine signing key, as pinned by well-behaved boxes.
fn genuine_key_id(system: &System) -> String {
    let text = std::fs::read_to_string(&system.platform_key_file).unwrap();
    text.trim().split(':').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_phones_texting_one_code_at_the_same_moment_bind_exactly_one() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let text = activation["sms_text"].as_str().unwrap();
    let (first, second) = ("13800138000", "13800138001");
    tokio::join!(system.phone_sends(first, text), system.phone_sends(second, text));
    let bound = next_event(&mut agent, &["bound"]).await;
    let (winner, loser) = if bound["msisdn_masked"] == "138****8000" { (first, second) } else { (second, first) };
    system.wait_for_sms(winner, "已绑定").await;
    let loser_inbox = system.wait_for_sms(loser, "已被使用").await;
    assert!(loser_inbox.iter().all(|text| !text.contains("已绑定")), "the loser was not bound: {loser_inbox:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_genuine_statement_for_another_box_relayed_by_a_man_in_the_middle_is_refused() {
    let system = System::start().await;
    // Box B is bound for real: its flag file holds a statement genuinely signed by the platform.
    let mut other_box = system.agent("other", &["run"]);
    let activation = next_event(&mut other_box, &["activation"]).await;
    system.phone_sends("13800138000", activation["sms_text"].as_str().unwrap()).await;
    next_event(&mut other_box, &["bound"]).await;
    let flag: serde_json::Value =
        serde_json::from_slice(&std::fs::read(system.path("other").join("binding.json")).unwrap()).unwrap();
    let stolen_statement = flag["statement"].clone();
    assert!(stolen_statement.is_object(), "the bound flag keeps its signed statement: {flag}");

    // Box A talks to the platform through a proxy that answers its status checks with B's statement.
    let rewrite = crate::relay_proxy::substitute_statement(stolen_statement);
    let proxy_url = crate::relay_proxy::start(system.platform_url.clone(), system.http.clone(), rewrite).await;
    let mut command = crate::helpers::numbind();
    command
        .arg("agent")
        .arg("--state-dir")
        .arg(system.path("victim"))
        .args(["--platform-url", &proxy_url, "--platform-key-file"])
        .arg(&system.platform_key_file)
        .args(["--json-events", "status"]);
    let mut victim = crate::helpers::Process::spawn("agent-victim", command, system.directory.path());
    assert_ne!(victim.wait_exit(FLOW_TIMEOUT).await, Some(0), "a statement for another terminal is an error");
    let flag = std::fs::read(system.path("victim").join("binding.json")).ok();
    let bound =
        flag.and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok()).map(|v| v["bound"] == true);
    assert_ne!(bound, Some(true), "the victim's flag never turned on");
    assert!(
        victim.stderr().contains("another terminal") || victim.stderr().contains("WrongTerminal"),
        "{}",
        victim.stderr()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_outside_the_required_manifest_is_refused_and_a_listed_one_is_served() {
    let system = System::start_with(crate::helpers::SystemOptions {
        require_manifest: true,
        ..crate::helpers::SystemOptions::default()
    })
    .await;
    // The manufacturer lists the listed box's ID and key; the stray box is not listed.
    let mut identity = system.agent("listed", &["show-identity"]);
    let listed = next_event(&mut identity, &["identity"]).await;
    let manifest = system.path("manifest.csv");
    let line =
        format!("{},{},Skyworth E900", listed["terminal_id"].as_str().unwrap(), listed["public_key"].as_str().unwrap());
    std::fs::write(&manifest, format!("terminal_id,public_key,device_model\n{line}\n")).unwrap();
    let import = crate::helpers::numbind()
        .args(["manifest", "import", "--data-dir"])
        .arg(system.directory.path())
        .arg(&manifest)
        .output()
        .await
        .unwrap();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));

    let mut stray = system.agent("stray", &["status"]);
    assert_ne!(stray.wait_exit(FLOW_TIMEOUT).await, Some(0), "a box outside the manifest is refused");
    assert!(stray.stderr().contains("manifest"), "the refusal says why: {}", stray.stderr());
    let mut listed_box = system.agent("listed", &["run"]);
    next_event(&mut listed_box, &["activation"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_number_guessing_codes_is_locked_and_then_even_the_right_code_is_refused() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let guesser = "13800138000";
    for guess in ["BCDFGHJK", "BCDFGHJL", "BCDFGHJM", "BCDFGHJN", "BCDFGHJP", "BCDFGHJQ"] {
        system.phone_sends(guesser, &format!("BIND {guess}")).await;
    }
    system.wait_for_sms(guesser, "次数过多").await;
    system.phone_sends(guesser, activation["sms_text"].as_str().unwrap()).await;
    let deadline = tokio::time::Instant::now() + FLOW_TIMEOUT;
    loop {
        let inbox = system.inbox(guesser).await;
        if inbox.iter().filter(|text| text.contains("次数过多")).count() >= 2 {
            assert!(inbox.iter().all(|text| !text.contains("已绑定")), "a locked number bound a box: {inbox:?}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the right code was not refused during the lock: {inbox:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut status = system.agent("box", &["status"]);
    assert_eq!(next_event(&mut status, &["status"]).await["state"], "unbound");
}
