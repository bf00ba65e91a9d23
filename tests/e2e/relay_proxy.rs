//! A man in the middle for attack tests: an HTTP/1.1 proxy in front of the platform that forwards every request
//! unchanged and, on binding-status answers, swaps the platform's genuine statement for one it was given.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Starts the proxy; returns its base URL. It lives as long as the test's runtime.
pub(crate) async fn start(platform_url: String, substitute_statement: serde_json::Value) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let http = reqwest::Client::new();
        while let Ok((stream, _)) = listener.accept().await {
            let (http, platform_url, statement) = (http.clone(), platform_url.clone(), substitute_statement.clone());
            tokio::spawn(async move {
                let _ = relay_one(stream, &http, &platform_url, &statement).await;
            });
        }
    });
    format!("http://{address}")
}

async fn relay_one(
    stream: TcpStream,
    http: &reqwest::Client,
    platform_url: &str,
    statement: &serde_json::Value,
) -> std::io::Result<()> {
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

    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut forward = http.request(method, format!("{platform_url}{path}")).body(body);
    for (name, value) in &headers {
        forward = forward.header(name.as_str(), value.as_str());
    }
    let answer = forward.send().await.map_err(std::io::Error::other)?;
    let status = answer.status().as_u16();
    let mut answer_body = answer.bytes().await.map_err(std::io::Error::other)?.to_vec();
    if status == 200 && path.ends_with("/binding") {
        answer_body = serde_json::to_vec(&serde_json::json!({ "statement": statement })).unwrap();
    }
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        answer_body.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&answer_body).await?;
    stream.shutdown().await
}
