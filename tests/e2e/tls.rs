//! TLS on every link, as its clients see it: a box and the OSS refuse a platform whose certificate has expired or
//! comes from an authority they did not pin, say why, and bind nothing meanwhile.

use crate::helpers::{PlatformCertificate, System, SystemOptions, FLOW_TIMEOUT};
use tokio::time::Instant;

async fn system_whose_platform_serves(certificate: PlatformCertificate) -> System {
    System::start_with(SystemOptions { platform_certificate: certificate, ..SystemOptions::default() }).await
}

/// The box's `status` fails naming `reason`; the OSS cannot redeem a user's SMS at the platform and logs
/// `reason`; the user's box is not bound.
async fn the_box_and_the_oss_refuse_the_platform(system: &System, reason: &str) {
    let mut status = system.agent("box", &["status"]);
    assert_eq!(status.wait_exit(FLOW_TIMEOUT).await, Some(1), "{}", status.stderr());
    assert!(status.stderr().contains(reason), "the box says why: {}", status.stderr());

    system.phone_sends("13800138000", "BIND BCDFGHJK").await;
    let deadline = Instant::now() + FLOW_TIMEOUT;
    let oss = &system.processes[crate::helpers::Component::Oss as usize];
    while !oss.stderr().contains(reason) {
        assert!(Instant::now() < deadline, "the oss did not refuse the platform's certificate:\n{}", oss.stderr());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let inbox = system.inbox("13800138000").await;
    assert!(inbox.is_empty(), "no answer was made up while the platform could not be trusted: {inbox:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_and_the_oss_refuse_a_platform_whose_certificate_has_expired() {
    let system = system_whose_platform_serves(PlatformCertificate::Expired).await;
    the_box_and_the_oss_refuse_the_platform(&system, "invalid peer certificate: certificate expired").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_box_and_the_oss_refuse_a_platform_certificate_from_another_authority() {
    let system = system_whose_platform_serves(PlatformCertificate::FromAnotherAuthority).await;
    the_box_and_the_oss_refuse_the_platform(&system, "invalid peer certificate: UnknownIssuer").await;
}
