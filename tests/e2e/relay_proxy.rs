//! A man in the middle for attack tests: a plain HTTP/1.1 proxy in front of the platform that forwards every
//! request unchanged and rewrites the answers it is told to (a box reaches it over loopback `http://`, as a box
//! on a hostile network would reach an attacker who stripped or broke TLS).

use numbind_process::tls::TlsAcceptor;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// What the proxy does to an answer: from the request's method and path and the platform's status and body, the
/// body the box gets.
pub(crate) type Rewrite = Arc<dyn Fn(&str, &str, u16, Vec<u8>) -> Vec<u8> + Send + Sync>;

/// Answers every binding-status check with `statement` (a genuine one, for another box).
pub(crate) fn substitute_statement(statement: serde_json::Value) -> Rewrite {
    Arc::new(move |_method: &str, path: &str, status: u16, body: Vec<u8>| {
        if status == 200 && path.ends_with("/binding") {
            serde_json::to_vec(&serde_json::json!({ "statement": statement })).unwrap()
        } else {
            body
        }
    })
}

/// A running proxy: its base URL and how many requests it relayed to the platform.
pub(crate) struct Proxy {
    pub(crate) url: String,
    pub(crate) relayed: Arc<AtomicUsize>,
}

/// Starts the proxy in front of `platform_url` (reached with `http`), speaking plain HTTP to the box. It lives as
/// long as the test's runtime.
pub(crate) async fn start(platform_url: String, http: reqwest::Client, rewrite: Rewrite) -> String {
    start_with(platform_url, http, rewrite, None).await.url
}

/// Starts the proxy; with `tls`, it terminates TLS towards the box with that (attacker's) certificate.
pub(crate) async fn start_with(
    platform_url: String,
    http: reqwest::Client,
    rewrite: Rewrite,
    tls: Option<TlsAcceptor>,
) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let relayed = Arc::new(AtomicUsize::new(0));
    let scheme = if tls.is_some() { "https" } else { "http" };
    let counter = relayed.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let relay = Relay { http: http.clone(), platform_url: platform_url.clone(), rewrite: rewrite.clone() };
            let (tls, counter) = (tls.clone(), counter.clone());
            tokio::spawn(async move {
                let _ = match tls {
                    None => relay.one(stream, &counter).await,
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(stream) => relay.one(stream, &counter).await,
                        Err(error) => Err(error),
                    },
                };
            });
        }
    });
    Proxy { url: format!("{scheme}://{address}"), relayed }
}

struct Relay {
    http: reqwest::Client,
    platform_url: String,
    rewrite: Rewrite,
}

impl Relay {
    /// Relays one request (the box's connection is closed after it).
    async fn one<Stream>(&self, stream: Stream, relayed: &AtomicUsize) -> std::io::Result<()>
    where
        Stream: AsyncRead + AsyncWrite + Unpin,
    {
        relay_one(stream, &self.http, &self.platform_url, &self.rewrite, relayed).await
    }
}

async fn relay_one<Stream>(
    stream: Stream,
    http: &reqwest::Client,
    platform_url: &str,
    rewrite: &Rewrite,
    relayed: &AtomicUsize,
) -> std::io::Result<()>
where
    Stream: AsyncRead + AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).await?;
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or("GET").to_owned(), parts.next().unwrap_or("/").to_owned());
    let mut headers = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
            if name == "content-length" {
                content_length = value.parse().unwrap_or(0);
            }
            if name.starts_with("x-numbind-") || name == "content-type" {
                headers.push((name, value));
            }
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body).await?;
    if !request_line.starts_with(method.as_str()) || !path.starts_with('/') {
        return Err(std::io::Error::other("not an http request"));
    }
    relayed.fetch_add(1, Ordering::SeqCst);

    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut forward = http.request(method.clone(), format!("{platform_url}{path}")).body(body);
    for (name, value) in &headers {
        forward = forward.header(name.as_str(), value.as_str());
    }
    let answer = forward.send().await.map_err(std::io::Error::other)?;
    let status = answer.status().as_u16();
    let answer_body = answer.bytes().await.map_err(std::io::Error::other)?.to_vec();
    let answer_body = rewrite(method.as_str(), &path, status, answer_body);
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        answer_body.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&answer_body).await?;
    stream.shutdown().await
}
