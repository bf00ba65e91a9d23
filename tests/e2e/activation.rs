//! The activation flow as a user lives it: the box shows a code and a QR code, the phone texts it, the box is bound.

use crate::helpers::{next_event, System, FLOW_TIMEOUT, SHORT_CODE};
use std::path::Path;
use std::time::Duration;

const PAYER: &str = "13800138000";

fn decode_qr_png(path: &Path) -> String {
    let decoder = png::Decoder::new(std::fs::File::open(path).expect("open qr png"));
    let mut reader = decoder.read_info().expect("png header");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).expect("png frame");
    let channels = frame.color_type.samples();
    let (width, height) = (frame.width as usize, frame.height as usize);
    let luma = |x: usize, y: usize| buffer[(y * width + x) * channels];
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "exactly one QR code in the PNG");
    grids[0].decode().expect("QR decodes").1
}

async fn wait_for_file(path: &Path) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !path.exists() {
        assert!(tokio::time::Instant::now() < deadline, "{} was never written", path.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unbound_box_shows_a_code_the_user_texts_it_and_the_box_ends_bound_durably() {
    let system = System::start().await;
    let qr_path = system.path("qr.png");
    let mut agent = system.agent("box", &["run", "--qr-png", qr_path.to_str().unwrap()]);

    let activation = next_event(&mut agent, &["activation"]).await;
    let code = activation["code"].as_str().unwrap().to_owned();
    let sms_text = activation["sms_text"].as_str().unwrap().to_owned();
    assert_eq!(sms_text, format!("BIND {}", code.replace('-', "")));
    assert_eq!(activation["short_code"], SHORT_CODE);
    let expected_qr = format!("SMSTO:{SHORT_CODE}:{sms_text}");
    assert_eq!(activation["qr_payload"], expected_qr.as_str());
    wait_for_file(&qr_path).await;
    assert_eq!(decode_qr_png(&qr_path), expected_qr, "the QR code opens the SMS composer with the exact text");

    // The user texts the code exactly as the QR code's composer would send it.
    system.phone_sends(PAYER, &sms_text).await;
    let bound = next_event(&mut agent, &["bound"]).await;
    assert_eq!(bound["msisdn_masked"], "138****8000");
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0), "the agent exits 0 once bound");

    let confirmations = system.wait_for_sms(PAYER, "已绑定").await;
    let confirmation = confirmations.iter().find(|text| text.contains("已绑定")).unwrap();
    assert!(confirmation.contains("Skyworth E900"), "the confirmation names the device: {confirmation}");
    assert!(confirmation.contains("解绑"), "the confirmation says how to undo: {confirmation}");

    // The flag survives a restart of the agent, and the platform agrees.
    let mut status = system.agent("box", &["status"]);
    let state = next_event(&mut status, &["status"]).await;
    assert_eq!(state["state"], "bound");
    assert_eq!(state["binding_id"], bound["binding_id"]);
    assert_eq!(status.wait_exit(FLOW_TIMEOUT).await, Some(0));
    let flag: serde_json::Value =
        serde_json::from_slice(&std::fs::read(system.path("box").join("binding.json")).unwrap()).unwrap();
    assert_eq!(flag["bound"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_user_may_type_the_code_in_chinese_lower_case_with_a_dash() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    let code = activation["code"].as_str().unwrap().to_lowercase();
    system.phone_sends(PAYER, &format!("绑定 {code}")).await;
    next_event(&mut agent, &["bound"]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bound_box_says_so_on_its_next_boot_without_a_new_code() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    system.phone_sends(PAYER, activation["sms_text"].as_str().unwrap()).await;
    next_event(&mut agent, &["bound"]).await;
    assert_eq!(agent.wait_exit(FLOW_TIMEOUT).await, Some(0));

    assert!(system.path("box").join("session.json").exists(), "the first boot opened a platform session");
    let registrations_before = answered_on(&system, "/v1/terminals").await;
    let signed_checks_before = answered_on(&system, "/v1/terminals/{terminal_id}/binding").await;
    let mut reboot = system.agent("box", &["run"]);
    let event = next_event(&mut reboot, &["already_bound", "activation"]).await;
    assert_eq!(event["event"], "already_bound", "a bound box must not show a new code");
    assert_eq!(reboot.wait_exit(FLOW_TIMEOUT).await, Some(0));
    assert_eq!(answered_on(&system, "/v1/terminals").await, registrations_before, "no registration on reboot");
    let signed_checks_after = answered_on(&system, "/v1/terminals/{terminal_id}/binding").await;
    assert_eq!(signed_checks_after, signed_checks_before, "the reboot checked over its session, not signed");
    assert_eq!(answered_on(&system, "/v1/terminals/{terminal_id}/binding-check").await, 1);
}

/// Requests the platform answered on `route` (any status), from its Prometheus `/metrics`.
async fn answered_on(system: &System, route: &str) -> u64 {
    let text = system.http.get(format!("{}/metrics", system.platform_url)).send().await.unwrap().text().await.unwrap();
    let label = format!("route=\"{route}\"");
    text.lines()
        .filter(|line| line.starts_with("http_requests_total{") && line.contains(&label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn unbind_by_sms_clears_the_box_flag_at_its_next_status_check() {
    let system = System::start().await;
    let mut agent = system.agent("box", &["run"]);
    let activation = next_event(&mut agent, &["activation"]).await;
    system.phone_sends(PAYER, activation["sms_text"].as_str().unwrap()).await;
    next_event(&mut agent, &["bound"]).await;

    system.phone_sends(PAYER, "解绑").await;
    system.wait_for_sms(PAYER, "已解除").await;
    let mut status = system.agent("box", &["status"]);
    let state = next_event(&mut status, &["status"]).await;
    assert_eq!(state["state"], "unbound");
    let flag: serde_json::Value =
        serde_json::from_slice(&std::fs::read(system.path("box").join("binding.json")).unwrap()).unwrap();
    assert_eq!(flag["bound"], false);
}
