//! The baselines numbind is measured against: a bare hyper server answering a fixed body, a hyper server that
//! holds every request, an SMPP echo answering each submit_sm at once (and one that first makes each window
//! durable with one flush), and a loop of single-row SQLite commits.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use numbind_smpp::{CommandStatus, Connection, Pdu, PduBody, ReadOutcome};
use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Answers every request with `body` (the ceiling of the HTTP path on this machine).
pub async fn serve_fixed_body(listener: TcpListener, body: Bytes) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let body = body.clone();
                async move {
                    let mut response = hyper::Response::new(Full::new(body));
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Holds every request forever except `GET /metrics`, which answers `waiting_terminals N` like the platform.
pub async fn serve_holding(listener: TcpListener) -> anyhow::Result<()> {
    let waiting = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, _) = listener.accept().await?;
        let waiting = waiting.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let waiting = waiting.clone();
                async move {
                    if request.uri().path() == "/metrics" || request.uri().path() == "/healthz" {
                        let text = format!("waiting_terminals {}\n", waiting.load(Ordering::Relaxed));
                        return Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from(text))));
                    }
                    let _guard = WaitingGuard::enter(waiting);
                    std::future::pending::<()>().await;
                    Ok(hyper::Response::new(Full::new(Bytes::new())))
                }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

struct WaitingGuard(Arc<AtomicUsize>);

impl WaitingGuard {
    fn enter(counter: Arc<AtomicUsize>) -> WaitingGuard {
        counter.fetch_add(1, Ordering::Relaxed);
        WaitingGuard(counter)
    }
}

impl Drop for WaitingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An SMPP peer doing no work: binds anyone, answers each submit_sm with a submit_sm_resp at once.
pub async fn serve_smpp_echo(listener: TcpListener) -> anyhow::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let mut connection = Connection::new(stream);
            while let Ok(Some(ReadOutcome::Pdu(request))) = connection.read_pdu().await {
                let (answer, last) = echo_answer(request);
                if connection.write_pdu(&answer).await.is_err() || last {
                    break;
                }
            }
        });
    }
}

/// The echo's answer to `request`, and whether the session ends with it.
pub(crate) fn echo_answer(request: Pdu) -> (Pdu, bool) {
    let (body, last) = match request.body {
        PduBody::BindTransmitter(_) => (PduBody::BindTransmitterResp { system_id: "echo".into() }, false),
        PduBody::SubmitSm(_) => {
            (PduBody::SubmitSmResp { message_id: "00000000-0000-4000-8000-000000000000".into() }, false)
        }
        PduBody::EnquireLink => (PduBody::EnquireLinkResp, false),
        PduBody::Unbind => (PduBody::UnbindResp, true),
        _ => (PduBody::GenericNack, false),
    };
    (Pdu { command_status: CommandStatus::EsmeRok, sequence_number: request.sequence_number, body }, last)
}

/// Single-row commits per second in `directory` with numbind's settings (WAL, synchronous=FULL), for `duration`.
pub fn sqlite_commits_per_second(directory: &Path, duration: Duration) -> anyhow::Result<f64> {
    let connection = rusqlite::Connection::open(directory.join("baseline-commits.db"))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.execute_batch("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")?;
    let mut statement = connection.prepare("INSERT INTO rows (payload) VALUES (?1)")?;
    let started = Instant::now();
    let mut commits = 0u64;
    while started.elapsed() < duration {
        statement.execute(["a row of about the size of an activation event"])?;
        commits += 1;
    }
    Ok(commits as f64 / started.elapsed().as_secs_f64())
}
