//! The HTTP load generator: raw HTTP/1.1 connections (plain, or TLS through rustls as a box's client would), a
//! fixed count, closed loop (one request in flight per connection), every latency recorded; connections kept
//! alive, or a new one (with its handshake) per request. Used identically against numbind and its baselines.

use crate::latency::LatencyRecorder;
use anyhow::Context;
use numbind_process::tls::TlsConnector;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

/// Where load goes: an address, over TLS when a connector is given.
#[derive(Clone)]
pub struct Target {
    pub address: SocketAddr,
    pub tls: Option<TlsConnector>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Target").field("address", &self.address).field("tls", &self.tls.is_some()).finish()
    }
}

impl From<SocketAddr> for Target {
    fn from(address: SocketAddr) -> Target {
        Target { address, tls: None }
    }
}

/// A byte stream a request can travel on: TCP or TLS over TCP.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<Stream: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for Stream {}

/// How a connection is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Keep-alive: one connection (and one handshake) for the whole run.
    KeepAlive,
    /// A new connection, with its handshake, for every request.
    NewConnectionPerRequest,
}

/// Builds the bytes of the next request of connection `index` (signing happens here, outside the timing).
pub type RequestFactory = Arc<dyn Fn(usize) -> Vec<u8> + Send + Sync>;

/// What one closed-loop run measured.
#[derive(Debug, Default)]
pub struct LoadResult {
    pub succeeded: u64,
    pub failed: u64,
    pub elapsed: Duration,
    pub latencies: LatencyRecorder,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.succeeded as f64 / seconds
        } else {
            0.0
        }
    }
}

/// A parsed response: status and body.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `connections` keep-alive connections, each sending its next request as soon as the last one is answered,
/// for `duration` after all are connected.
pub async fn closed_loop(
    target: impl Into<Target>,
    connections: usize,
    duration: Duration,
    make_request: RequestFactory,
) -> anyhow::Result<LoadResult> {
    closed_loop_with(target.into(), Reuse::KeepAlive, connections, duration, make_request).await
}

/// `closed_loop`, with connections reused or made anew for every request.
pub async fn closed_loop_with(
    target: Target,
    reuse: Reuse,
    connections: usize,
    duration: Duration,
    make_request: RequestFactory,
) -> anyhow::Result<LoadResult> {
    let start_line = Arc::new(Barrier::new(connections + 1));
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..connections {
        let stream = connect_to(&target).await?;
        let start_line = start_line.clone();
        let make_request = make_request.clone();
        let target = target.clone();
        tasks.spawn(async move {
            start_line.wait().await;
            let lane = Lane { target, reuse, index, make_request };
            lane.drive(stream, Instant::now() + duration).await
        });
    }
    start_line.wait().await;
    let started = Instant::now();
    let mut total = LoadResult::default();
    while let Some(finished) = tasks.join_next().await {
        let result = finished.context("a load connection panicked")?;
        total.succeeded += result.succeeded;
        total.failed += result.failed;
        total.latencies.merge(result.latencies);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// One closed-loop connection's work.
struct Lane {
    target: Target,
    reuse: Reuse,
    index: usize,
    make_request: RequestFactory,
}

impl Lane {
    async fn drive(self, first: Box<dyn ByteStream>, deadline: Instant) -> LoadResult {
        let mut result = LoadResult::default();
        let mut buffer = Vec::with_capacity(4096);
        let mut stream = Some(first);
        while Instant::now() < deadline {
            let request = (self.make_request)(self.index);
            let sent_at = Instant::now();
            let mut connection = match stream.take() {
                Some(connection) => connection,
                None => match connect_to(&self.target).await {
                    Ok(fresh) => fresh,
                    Err(_) => return result,
                },
            };
            match exchange(&mut connection, &request, &mut buffer).await {
                Ok(response) if (200..300).contains(&response.status) => {
                    result.succeeded += 1;
                    result.latencies.record(sent_at.elapsed());
                }
                Ok(_) => result.failed += 1,
                Err(_) => {
                    result.failed += 1;
                    continue;
                }
            }
            if self.reuse == Reuse::KeepAlive {
                stream = Some(connection);
            }
        }
        result
    }
}

/// Opens a connection to `target` (TCP_NODELAY; the TLS handshake done when the target is TLS).
pub async fn connect_to(target: &Target) -> anyhow::Result<Box<dyn ByteStream>> {
    let stream = connect(target.address).await?;
    match &target.tls {
        None => Ok(Box::new(stream)),
        Some(connector) => {
            let name = numbind_process::tls::server_name(&target.address.ip().to_string())?;
            Ok(Box::new(connector.connect(name, stream).await.context("tls handshake")?))
        }
    }
}

/// Opens a connection with TCP_NODELAY.
pub async fn connect(address: SocketAddr) -> anyhow::Result<TcpStream> {
    let stream = TcpStream::connect(address).await.with_context(|| format!("cannot connect to {address}"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Writes one request and reads its response (`Content-Length` bodies only, as every server here sends).
pub async fn exchange<Stream>(stream: &mut Stream, request: &[u8], buffer: &mut Vec<u8>) -> anyhow::Result<HttpResponse>
where
    Stream: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    stream.write_all(request).await?;
    read_response(stream, buffer).await
}

async fn read_response<Stream>(stream: &mut Stream, buffer: &mut Vec<u8>) -> anyhow::Result<HttpResponse>
where
    Stream: AsyncRead + Unpin + ?Sized,
{
    buffer.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(header_end) = find_header_end(buffer) {
            let (status, content_length) = parse_head(&buffer[..header_end])?;
            let wanted = header_end + content_length;
            while buffer.len() < wanted {
                let read = stream.read(&mut chunk).await?;
                anyhow::ensure!(read > 0, "connection closed inside a body");
                buffer.extend_from_slice(&chunk[..read]);
            }
            return Ok(HttpResponse { status, body: buffer[header_end..wanted].to_vec() });
        }
        let read = stream.read(&mut chunk).await?;
        anyhow::ensure!(read > 0, "connection closed before a response");
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn find_header_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(4).position(|window| window == b"\r\n\r\n").map(|position| position + 4)
}

fn parse_head(head: &[u8]) -> anyhow::Result<(u16, usize)> {
    let text = std::str::from_utf8(head).context("response head is not utf-8")?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .with_context(|| format!("bad status line {status_line:?}"))?;
    let mut content_length = 0;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse().context("bad content-length")?;
            }
        }
    }
    Ok((status, content_length))
}

/// Sends every request once over `connections` keep-alive connections; every answer must be 2xx. Returns the
/// bodies in the requests' order.
pub async fn send_all(
    target: impl Into<Target>,
    requests: Vec<Vec<u8>>,
    connections: usize,
) -> anyhow::Result<Vec<Vec<u8>>> {
    let target = target.into();
    let lane_size = requests.len().div_ceil(connections.max(1)).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    let mut requests = requests.into_iter();
    for lane in 0.. {
        let chunk: Vec<Vec<u8>> = requests.by_ref().take(lane_size).collect();
        if chunk.is_empty() {
            break;
        }
        let target = target.clone();
        tasks.spawn(async move {
            let mut stream = connect_to(&target).await?;
            let mut buffer = Vec::new();
            let mut bodies = Vec::with_capacity(chunk.len());
            for request in &chunk {
                let response = exchange(&mut stream, request, &mut buffer).await?;
                anyhow::ensure!(
                    (200..300).contains(&response.status),
                    "status {}: {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                );
                bodies.push(response.body);
            }
            Ok::<_, anyhow::Error>((lane, bodies))
        });
    }
    let mut lanes = Vec::new();
    while let Some(finished) = tasks.join_next().await {
        lanes.push(finished.context("a setup connection panicked")??);
    }
    lanes.sort_by_key(|(lane, _)| *lane);
    Ok(lanes.into_iter().flat_map(|(_, bodies)| bodies).collect())
}

/// The bytes of an HTTP/1.1 request with `headers` and `body` (keep-alive).
pub fn request_bytes(method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nhost: bench\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method != "GET" {
        text.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_response_head_gives_its_status_and_length() {
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 17\r\ncontent-type: application/json\r\n\r\n";
        assert_eq!(find_header_end(head), Some(head.len()));
        assert_eq!(parse_head(head).unwrap(), (200, 17));
    }

    #[test]
    fn a_garbled_status_line_is_an_error() {
        assert!(parse_head(b"HTTP/1.1 OK\r\n\r\n").is_err());
    }
}
