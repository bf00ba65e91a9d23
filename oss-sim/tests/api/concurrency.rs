//! SMS commands of different numbers are worked on at once; one number's commands never overlap.

use crate::helpers::{spawn_app_with, AppOptions};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A platform that reads each request and never answers: every redemption sent to it stays in flight.
async fn silent_platform() -> (String, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (requests, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut held: Vec<TcpStream> = Vec::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 16 * 1024];
            let mut length = 0;
            // Headers and a small JSON body arrive together or soon after; read until the body's closing brace.
            while !String::from_utf8_lossy(&buffer[..length]).trim_end().ends_with('}') {
                match stream.read(&mut buffer[length..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(read) => length += read,
                }
            }
            let _ = requests.send(String::from_utf8_lossy(&buffer[..length]).into_owned());
            held.push(stream);
        }
    });
    (url, received)
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_of_different_numbers_run_at_once_and_one_numbers_never_overlap() {
    let (platform_url, mut requests) = silent_platform().await;
    let app = spawn_app_with(AppOptions {
        seed_demo: true,
        sms_centre: Some(false),
        adjust_oss: Some(Box::new(move |config| {
            config.platform_url = platform_url;
            // One hung redemption would hold a one-at-a-time worker for a minute.
            config.platform_request_timeout = Duration::from_secs(60);
        })),
        ..AppOptions::default()
    })
    .await;
    app.phone_sends("13800138000", "BIND BCDFGHJK").await;
    app.phone_sends("13800138000", "BIND CDFGHJKL").await;
    app.phone_sends("13800138001", "BIND DFGHJKLM").await;
    let mut in_flight = Vec::new();
    for _ in 0..2 {
        let request = tokio::time::timeout(Duration::from_secs(20), requests.recv()).await;
        in_flight.push(request.expect("two redemptions in flight at once").unwrap());
    }
    let from_first = in_flight.iter().filter(|request| request.contains("13800138000")).count();
    let from_second = in_flight.iter().filter(|request| request.contains("13800138001")).count();
    assert_eq!((from_first, from_second), (1, 1), "one redemption per number in flight: {in_flight:?}");
    // The first number's second SMS is stored and due, but must not start while its first is in flight. Proving a
    // request does not come needs an event after which it would have come: two more numbers texting, one after the
    // other. The worker starts due rows in arrival order on each poll, so a second request of the first number
    // would be started in the poll that starts the third number's (or an earlier one), and would have arrived by
    // the time the fourth number's request, started only after the third's arrived, does.
    for number in ["13800138002", "13800138003"] {
        app.phone_sends(number, "BIND FGHJKLMN").await;
        loop {
            let request = tokio::time::timeout(Duration::from_secs(20), requests.recv()).await;
            let request = request.expect("the next number's redemption starts").unwrap();
            let is_the_new_number = request.contains(number);
            in_flight.push(request);
            if is_the_new_number {
                break;
            }
        }
    }
    let from_first = in_flight.iter().filter(|request| request.contains("13800138000")).count();
    assert_eq!(from_first, 1, "the first number's second SMS waited for its first: {in_flight:?}");
    assert_eq!(in_flight.len(), 4, "one redemption per number: {in_flight:?}");
    // Which of the number's two SMS is stored first is the SMS centre's delivery order (its deliver_sm run
    // concurrently in a window); the OSS then runs them one at a time in the order it stored them.
    let first_numbers_codes = ["BCDFGHJK", "CDFGHJKL"];
    let first_numbers_request = in_flight.iter().find(|request| request.contains("13800138000")).unwrap();
    assert!(first_numbers_codes.iter().any(|code| first_numbers_request.contains(code)), "{first_numbers_request}");
    app.stop().await;
}
