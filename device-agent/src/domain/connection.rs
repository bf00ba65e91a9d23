//! `ConnectionFailure`: why a request to the platform got no answer, in the few kinds a screen can explain.

/// Why the platform could not be reached. The box's screen names it, with what to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionFailure {
    /// Nothing listens at the address (the platform is down, or the port is wrong).
    ConnectionRefused,
    /// The platform's host name does not resolve.
    NameNotFound,
    /// The TLS handshake failed: a certificate the box does not trust, or not TLS at all.
    TlsRefused,
    /// No answer in the time allowed.
    TimedOut,
    /// The connection was made, then cut before the answer (the platform restarted).
    ConnectionCut,
    /// Any other failure to connect (no route, network down).
    Unreachable,
}

impl ConnectionFailure {
    /// Classifies a failed request from `reqwest`'s error and its sources.
    pub(crate) fn of_request_error(error: &reqwest::Error) -> ConnectionFailure {
        let mut chain_text = String::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        let mut refused = false;
        while let Some(cause) = source {
            if let Some(io_error) = cause.downcast_ref::<std::io::Error>() {
                refused |= io_error.kind() == std::io::ErrorKind::ConnectionRefused;
            }
            chain_text.push_str(&cause.to_string().to_ascii_lowercase());
            chain_text.push('\n');
            source = cause.source();
        }
        // The TLS handshake belongs to connecting: an error after it (even one that names TLS, such as a missing
        // close_notify when the platform dies) means the connection was made and then cut.
        if error.is_timeout() {
            ConnectionFailure::TimedOut
        } else if !error.is_connect() {
            ConnectionFailure::ConnectionCut
        } else if refused || chain_text.contains("connection refused") {
            ConnectionFailure::ConnectionRefused
        } else if chain_text.contains("dns error") || chain_text.contains("lookup address") {
            ConnectionFailure::NameNotFound
        } else if ["certificate", "tls", "handshake", "invalidcontenttype", "corrupt message"]
            .iter()
            .any(|word| chain_text.contains(word))
        {
            ConnectionFailure::TlsRefused
        } else {
            ConnectionFailure::Unreachable
        }
    }

    /// A stable lowercase name (`connection_refused`), for machines.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionFailure::ConnectionRefused => "connection_refused",
            ConnectionFailure::NameNotFound => "name_not_found",
            ConnectionFailure::TlsRefused => "tls_refused",
            ConnectionFailure::TimedOut => "timed_out",
            ConnectionFailure::ConnectionCut => "connection_cut",
            ConnectionFailure::Unreachable => "unreachable",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    async fn failure_of(url: String, authority_pem: Option<&[u8]>) -> ConnectionFailure {
        let mut builder = reqwest::Client::builder().timeout(std::time::Duration::from_secs(5));
        if let Some(pem) = authority_pem {
            builder = builder
                .tls_built_in_root_certs(false)
                .add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap());
        }
        let error = builder.build().unwrap().get(url).send().await.unwrap_err();
        ConnectionFailure::of_request_error(&error)
    }

    #[tokio::test]
    async fn a_closed_port_is_a_refused_connection() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        assert_eq!(failure_of(format!("http://{address}/"), None).await, ConnectionFailure::ConnectionRefused);
    }

    #[tokio::test]
    async fn a_connection_closed_before_the_answer_is_a_cut() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (connection, _) = listener.accept().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            drop(connection);
        });
        assert_eq!(failure_of(format!("http://{address}/"), None).await, ConnectionFailure::ConnectionCut);
    }

    #[tokio::test]
    async fn a_server_that_does_not_speak_tls_is_a_refused_tls_handshake() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut connection, _) = listener.accept().await.unwrap();
            let _ = connection.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
        });
        assert_eq!(failure_of(format!("https://{address}/"), None).await, ConnectionFailure::TlsRefused);
    }
}
