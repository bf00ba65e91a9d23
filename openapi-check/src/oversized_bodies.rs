//! Sends an oversized body to every operation an OpenAPI document describes, over a plain socket (so that the
//! exact bytes, `content-length` or chunked, are under the test's control), and lists every answer that is not a
//! JSON refusal: a too-large body must answer `413 {"code": "payload_too_large", ...}`, never plain text.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How the oversized body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `content-length` declares the size: every operation must answer 413 `payload_too_large` without reading it.
    ContentLength,
    /// Chunked, so the size shows only while reading: a 413 must be JSON `payload_too_large`, and any other
    /// refusal (the request may be refused before its body is read) must be a JSON `{code, message}` too.
    Chunked,
}

/// One answer: status, content type and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// Sends `body_bytes` bytes to every operation of `document` at `address` (`host:port`), path parameters filled
/// from `parameters` (`("{msisdn}", "13800138000")`, else `x`); returns `method path: answer` for each answer that
/// breaks the rule of `framing`. Paths under `html_prefix` may refuse with a page for a chunked body.
pub fn operations_answering_an_oversized_body_badly(
    address: &str,
    document: &Value,
    body_bytes: usize,
    framing: Framing,
    parameters: &[(&str, &str)],
    html_prefix: Option<&str>,
) -> Vec<String> {
    let mut bad = Vec::new();
    let mut operations = 0;
    for (method, path) in crate::documented_routes(document) {
        operations += 1;
        let target = fill_parameters(&path, parameters);
        let answer = send(address, &method, &target, body_bytes, framing);
        let html_page = html_prefix.is_some_and(|prefix| path.starts_with(prefix));
        if !acceptable(&answer, framing, html_page) {
            bad.push(format!("{} {path}: {answer:?}", method.to_uppercase()));
        }
    }
    assert!(operations > 0, "the document names no operation");
    bad
}

fn acceptable(answer: &Answer, framing: Framing, html_page: bool) -> bool {
    let json: Option<Value> = serde_json::from_str(&answer.body).ok();
    let code = json.as_ref().and_then(|body| body["code"].as_str().map(str::to_owned));
    let is_json_refusal = answer.content_type.starts_with("application/json")
        && code.is_some()
        && json.as_ref().is_some_and(|body| body["message"].is_string());
    match framing {
        Framing::ContentLength => {
            answer.status == 413 && is_json_refusal && code.as_deref() == Some("payload_too_large")
        }
        Framing::Chunked if answer.status == 413 => is_json_refusal && code.as_deref() == Some("payload_too_large"),
        Framing::Chunked if answer.status >= 400 => is_json_refusal || html_page,
        Framing::Chunked => answer.status != 0,
    }
}

fn fill_parameters(path: &str, parameters: &[(&str, &str)]) -> String {
    let mut filled = path.to_owned();
    for (name, value) in parameters {
        filled = filled.replace(name, value);
    }
    while let (Some(open), Some(close)) = (filled.find('{'), filled.find('}')) {
        if close < open {
            break;
        }
        filled.replace_range(open..=close, "x");
    }
    filled
}

/// One request on its own connection (`connection: close`); the answer is read to the end. Write errors are
/// ignored: a server may answer and stop reading before the whole body is sent.
fn send(address: &str, method: &str, target: &str, body_bytes: usize, framing: Framing) -> Answer {
    let mut stream = TcpStream::connect(address).unwrap_or_else(|error| panic!("connecting to {address}: {error}"));
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("read timeout");
    let framing_header = match framing {
        Framing::ContentLength => format!("content-length: {body_bytes}"),
        Framing::Chunked => "transfer-encoding: chunked".to_owned(),
    };
    let head = format!(
        "{} {target} HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n{framing_header}\r\n\
         connection: close\r\n\r\n",
        method.to_uppercase()
    );
    let _ = stream.write_all(head.as_bytes());
    let body = vec![b' '; body_bytes];
    let _ = match framing {
        Framing::ContentLength => stream.write_all(&body),
        Framing::Chunked => write_chunked(&mut stream, &body),
    };
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_answer(&String::from_utf8_lossy(&raw))
}

fn write_chunked(stream: &mut TcpStream, body: &[u8]) -> std::io::Result<()> {
    for chunk in body.chunks(16 * 1024) {
        stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())?;
        stream.write_all(chunk)?;
        stream.write_all(b"\r\n")?;
    }
    stream.write_all(b"0\r\n\r\n")
}

fn parse_answer(raw: &str) -> Answer {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let content_type = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default();
    Answer { status, content_type, body: body.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_filled_by_name_or_with_a_placeholder() {
        let filled = fill_parameters("/v1/phones/{msisdn}/x/{other}", &[("{msisdn}", "13800138000")]);
        assert_eq!(filled, "/v1/phones/13800138000/x/x");
    }

    #[test]
    fn only_a_json_payload_too_large_passes_for_a_declared_length() {
        let json = |status: u16, code: &str| Answer {
            status,
            content_type: "application/json".to_owned(),
            body: format!("{{\"code\":\"{code}\",\"message\":\"m\"}}"),
        };
        let plain = Answer { status: 413, content_type: "text/plain".to_owned(), body: "length limit exceeded".into() };
        assert!(acceptable(&json(413, "payload_too_large"), Framing::ContentLength, false));
        assert!(!acceptable(&plain, Framing::ContentLength, false));
        assert!(!acceptable(&json(401, "unauthenticated"), Framing::ContentLength, false));
        assert!(acceptable(&json(401, "unauthenticated"), Framing::Chunked, false));
        assert!(!acceptable(&plain, Framing::Chunked, true), "a plain 413 is never acceptable");
    }
}
