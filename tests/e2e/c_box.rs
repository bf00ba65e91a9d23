//! The C example (`device-agent-ffi/examples/box.c`, compiled with gcc against the agent's static library) binds
//! a box through the real SMS path, draws the QR code itself, buys on the bound number through a real merchant,
//! and reports the same events as the Rust CLI for the same flows.
//! `NUMBIND_C_BOX_WRAPPER` (such as `valgrind --leak-check=full --error-exitcode=1`) runs the C box under a tool.

use crate::helpers::{next_event, Process, System, SHORT_CODE};
use crate::purchases::{buy_on, confirmation_number_of, merchant_credentials, FILM, MERCHANT};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::time::Instant;

const CLI_PAYER: &str = "13800138000";
const C_PAYER: &str = "13800138001";

/// The static library cargo built for this test run, next to the test binary in `<target>/<profile>/deps` (cargo
/// names libraries with a C crate type without a hash).
fn static_library() -> PathBuf {
    let library = std::env::current_exe().unwrap().parent().unwrap().join("libnumbind_agent.a");
    assert!(library.exists(), "{} was built (numbind dev-depends on numbind-device-agent-ffi)", library.display());
    library
}

/// Compiles `box.c` with gcc, warnings as errors, into `directory`.
pub(crate) async fn compile_box_example(directory: &Path) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("device-agent-ffi");
    let binary = directory.join("box");
    let output = Command::new("gcc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-I"])
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("examples/box.c"))
        .arg(static_library())
        .args(["-lpthread", "-ldl", "-lm", "-o"])
        .arg(&binary)
        .output()
        .await
        .expect("gcc runs");
    assert!(output.status.success(), "gcc failed: {}", String::from_utf8_lossy(&output.stderr));
    binary
}

/// The C box's stdout up to its `bound` event: the JSON events, and the QR drawings between `QR BEGIN`/`QR END`.
async fn read_until_bound(process: &mut Process, deadline: Instant) -> (Vec<Value>, Vec<Vec<String>>) {
    let (mut events, mut drawings, mut drawing): (Vec<Value>, Vec<Vec<String>>, Option<Vec<String>>) =
        (Vec::new(), Vec::new(), None);
    loop {
        let line = process
            .next_line_before(deadline)
            .await
            .unwrap_or_else(|| panic!("the C box gave no bound event in time\n{}", process.stderr()));
        match (line.as_str(), drawing.as_mut()) {
            ("QR BEGIN", _) => drawing = Some(Vec::new()),
            ("QR END", _) => drawings.extend(drawing.take()),
            (_, Some(rows)) => rows.push(line),
            (_, None) => {
                let event: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line:?}"));
                let bound = event["event"] == "bound";
                events.push(event);
                if bound {
                    return (events, drawings);
                }
            }
        }
    }
}

/// Decodes a drawing of two characters per module (`##` dark).
fn decode_drawing(rows: &[String]) -> String {
    const PIXELS_PER_MODULE: usize = 4;
    let modules: Vec<Vec<bool>> =
        rows.iter().map(|row| row.as_bytes().chunks(2).map(|cell| cell == b"##").collect()).collect();
    let side = modules.len();
    assert!(modules.iter().all(|row| row.len() == side), "the drawing is square");
    let pixels = side * PIXELS_PER_MODULE;
    let luma = |x: usize, y: usize| if modules[y / PIXELS_PER_MODULE][x / PIXELS_PER_MODULE] { 0 } else { 255 };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(pixels, pixels, luma);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the drawing");
    grids[0].decode().expect("the drawing decodes").1
}

/// The C box's command line for `command` on the state `c-box` (under `NUMBIND_C_BOX_WRAPPER` when set), and how
/// many times slower than plain it may run.
fn c_box_command(system: &System, box_binary: &Path, command_name: &str) -> (Command, u64) {
    let wrapper = std::env::var("NUMBIND_C_BOX_WRAPPER").unwrap_or_default();
    let mut words: Vec<String> = wrapper.split_whitespace().map(str::to_owned).collect();
    words.push(box_binary.display().to_string());
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]).arg(command_name).arg(&system.platform_url).arg(&system.platform_key_file);
    command.arg(&system.ca_file).arg(system.path("c-box")).kill_on_drop(true);
    (command, if wrapper.is_empty() { 1 } else { 10 })
}

fn sorted_keys(event: &Value) -> Vec<String> {
    let mut keys: Vec<String> = event.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn masked(msisdn: &str) -> String {
    format!("{}****{}", &msisdn[..3], &msisdn[7..])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_c_box_binds_through_the_sms_path_draws_its_qr_code_and_reports_what_the_cli_reports() {
    let system = System::start().await;
    let box_binary = compile_box_example(system.directory.path()).await;

    let mut cli = system.agent("cli-box", &["run"]);
    let mut cli_events = vec![next_event(&mut cli, &["activation"]).await];
    system.phone_sends(CLI_PAYER, cli_events[0]["sms_text"].as_str().unwrap()).await;
    cli_events.push(next_event(&mut cli, &["bound", "denied", "expired", "retrying"]).await);

    let (mut command, slow) = c_box_command(&system, &box_binary, "run");
    command.arg("Skyworth E900");
    let mut c_box = Process::spawn("c-box", command, system.directory.path());
    let deadline = Instant::now() + Duration::from_secs(30 * slow);
    let activation = next_event(&mut c_box, &["activation"]).await;
    system.phone_sends(C_PAYER, activation["sms_text"].as_str().unwrap()).await;
    let (mut rest, drawings) = read_until_bound(&mut c_box, deadline).await;
    let mut c_events = vec![activation];
    c_events.append(&mut rest);
    let exit = c_box.wait_exit(Duration::from_secs(60 * slow)).await;
    assert_eq!(exit, Some(0), "the C box ends bound and frees everything\n{}", c_box.stderr());

    let names = |events: &[Value]| events.iter().map(|event| event["event"].clone()).collect::<Vec<_>>();
    assert_eq!(names(&c_events), names(&cli_events), "the same events in the same order");
    for (c_event, cli_event) in c_events.iter().zip(&cli_events) {
        assert_eq!(sorted_keys(c_event), sorted_keys(cli_event), "the same fields: {c_event} / {cli_event}");
    }
    let (c_activation, cli_activation) = (&c_events[0], &cli_events[0]);
    for activation in [c_activation, cli_activation] {
        let code = activation["code"].as_str().unwrap();
        let sms_text = activation["sms_text"].as_str().unwrap();
        assert_eq!(sms_text, format!("BIND {}", code.replace('-', "")));
        assert_eq!(activation["short_code"], SHORT_CODE);
        assert_eq!(activation["qr_payload"].as_str().unwrap(), format!("SMSTO:{SHORT_CODE}:{sms_text}"));
    }
    assert_eq!(c_activation["code"].as_str().unwrap().len(), cli_activation["code"].as_str().unwrap().len());
    assert_ne!(c_activation["terminal_id"], cli_activation["terminal_id"], "two boxes, two identities");
    assert_eq!(drawings.len(), 1, "one QR drawing for one code");
    assert_eq!(decode_drawing(&drawings[0]), c_activation["qr_payload"].as_str().unwrap());
    assert_eq!(cli_events[1]["msisdn_masked"], masked(CLI_PAYER));
    assert_eq!(c_events[1]["msisdn_masked"], masked(C_PAYER));
    assert!(c_events[1]["binding_id"].as_str().is_some_and(|id| !id.is_empty()));

    // The flag the C box wrote reads as bound through the library, as the CLI's does through the CLI.
    let output = Command::new(&box_binary)
        .arg("status")
        .arg(&system.platform_url)
        .arg(&system.platform_key_file)
        .arg(&system.ca_file)
        .arg(system.path("c-box"))
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "bound", "{}", String::from_utf8_lossy(&output.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_c_box_buys_on_its_bound_number_and_reports_what_the_cli_reports() {
    let system = System::start().await;
    let box_binary = compile_box_example(system.directory.path()).await;
    system.bind_a_box("cli-box", CLI_PAYER).await;
    // One state format: the CLI binds the state directory the C box then buys with.
    system.bind_a_box("c-box", C_PAYER).await;
    let credentials = merchant_credentials(&system).await;

    let mut cli = buy_on(&system, "cli-box", &credentials, "50.00");
    let cli_events = follow_purchase(&system, &mut cli, CLI_PAYER, &credentials, 1).await;
    assert_eq!(cli.wait_exit(Duration::from_secs(30)).await, Some(0), "the CLI exits 0 once paid");

    let (mut command, slow) = c_box_command(&system, &box_binary, "buy");
    command.args([MERCHANT, "film-4412", FILM, "5000"]);
    let mut c_box = Process::spawn_with_stdin("c-box-buy", command, system.directory.path(), Stdio::piped());
    let c_events = follow_purchase(&system, &mut c_box, C_PAYER, &credentials, slow).await;
    let exit = c_box.wait_exit(Duration::from_secs(60 * slow)).await;
    assert_eq!(exit, Some(0), "the C box exits 0 once paid and frees everything\n{}", c_box.stderr());

    // `processing` lasts as long as the OSS takes to charge: a long-poll may see it or not, so it is not compared.
    let names = |events: &[Value]| {
        let lasting = events.iter().filter(|event| event["stage"] != "processing");
        lasting.map(|event| format!("{} {}", event["event"], event["stage"])).collect::<Vec<_>>()
    };
    assert_eq!(names(&c_events), names(&cli_events), "the same events in the same order");
    let started = json!({"event": "purchase_started", "merchant_id": MERCHANT, "item_id": "film-4412",
                         "amount_minor_units": 5000, "currency": "CNY"});
    assert_eq!((&c_events[0], &cli_events[0]), (&started, &started));
    for (c_event, cli_event) in c_events.iter().zip(&cli_events) {
        assert_eq!(sorted_keys(c_event), sorted_keys(cli_event), "the same fields: {c_event} / {cli_event}");
    }
    let (c_outcome, cli_outcome) = (c_events.last().unwrap(), cli_events.last().unwrap());
    assert_eq!((&c_outcome["outcome"], &cli_outcome["outcome"]), (&json!("succeeded"), &json!("succeeded")));
    let receipt_number = c_outcome["payment_id"].as_str().unwrap();
    assert_ne!(receipt_number, cli_outcome["payment_id"].as_str().unwrap(), "two purchases, two payments");
    system.wait_for_sms(C_PAYER, &format!("收据号 {receipt_number}")).await;
}

/// Reads a buying agent's events to the outcome, playing the merchant when the box hands it a signed intent (the
/// C box's `MERCHANT` line: submitted to the platform with the merchant's token, then `taken` on its stdin) and
/// the bound phone `payer` when it must confirm.
async fn follow_purchase(
    system: &System,
    agent: &mut Process,
    payer: &str,
    credentials: &Path,
    slow: u64,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30 * slow);
    let mut events = Vec::new();
    loop {
        let line = agent
            .next_line_before(deadline)
            .await
            .unwrap_or_else(|| panic!("{} gave no purchase outcome in time\n{}", agent.name, agent.stderr()));
        if let Some(handed) = line.strip_prefix("MERCHANT ") {
            submit_as_merchant(system, credentials, &serde_json::from_str(handed).expect("the channel's JSON")).await;
            let stdin = agent.child.stdin.as_mut().expect("the C box's stdin is piped");
            stdin.write_all(b"taken\n").await.expect("the C box reads its channel");
            continue;
        }
        let Ok(event) = serde_json::from_str::<Value>(&line) else { continue };
        if event["stage"] == "waiting_for_confirmation" {
            let number = confirmation_number_of(system, payer).await;
            system.phone_sends(payer, &format!("Y {number}")).await;
        }
        let done = event["event"] == "purchase_outcome";
        events.push(event);
        if done {
            return events;
        }
    }
}

/// The merchant's backend: `POST /v1/payments` with the signed intent the box handed over, as the CLI's merchant
/// client sends it.
async fn submit_as_merchant(system: &System, credentials: &Path, handed: &Value) {
    let credentials: Value = serde_json::from_slice(&std::fs::read(credentials).unwrap()).unwrap();
    let intent_nonce = handed["intent_nonce"].as_str().expect("intent_nonce");
    let response = system
        .http
        .post(format!("{}/v1/payments", system.platform_url))
        .bearer_auth(credentials["token"].as_str().expect("token"))
        .header("idempotency-key", format!("c-box-{intent_nonce}"))
        .json(&json!({"signed_intent": handed["signed_intent"], "reference_code": format!("order-{intent_nonce}")}))
        .send()
        .await
        .expect("the platform answers the merchant");
    let status = response.status();
    assert!(
        status.is_success(),
        "the platform took the payment: {status} {}",
        response.text().await.unwrap_or_default()
    );
}
