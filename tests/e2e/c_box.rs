//! The C example (`device-agent-ffi/examples/box.c`, compiled with gcc against the agent's static library) binds
//! a box through the real SMS path, draws the QR code itself, and reports the same events as the Rust CLI.
//! `NUMBIND_C_BOX_WRAPPER` (such as `valgrind --leak-check=full --error-exitcode=1`) runs the C box under a tool.

use crate::helpers::{next_event, Process, System, SHORT_CODE};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
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

    let wrapper = std::env::var("NUMBIND_C_BOX_WRAPPER").unwrap_or_default();
    let mut words: Vec<String> = wrapper.split_whitespace().map(str::to_owned).collect();
    words.push(box_binary.display().to_string());
    let mut command = Command::new(&words[0]);
    command.args(&words[1..]).arg("run").arg(&system.platform_url).arg(&system.platform_key_file);
    command.arg(&system.ca_file).arg(system.path("c-box")).arg("Skyworth E900").kill_on_drop(true);
    let mut c_box = Process::spawn("c-box", command, system.directory.path());
    let slow = if wrapper.is_empty() { 1 } else { 10 };
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
