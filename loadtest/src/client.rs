//! A lean HTTP/1.1 client: one keep-alive connection per simulated user and
//! host, as a Locust user's `requests` session keeps.
//!
//! A pooled client (reqwest, hyper-util's legacy client) looks the
//! connection up in a shared pool on every request. Here each user owns its
//! connection outright, which keeps the generator's cost per request low on
//! a machine it shares with the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where requests go: an `http://host:port` base URL.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    addr: SocketAddr,
    host: HeaderValue,
    base: String,
}

impl Endpoint {
    /// Parses `http://IP:PORT` (loopback in practice; names are resolved
    /// once here).
    pub(crate) fn parse(url: &str) -> anyhow::Result<Arc<Self>> {
        let rest = url
            .trim_end_matches('/')
            .strip_prefix("http://")
            .with_context(|| format!("{url:?}: only http:// URLs are supported"))?;
        let authority = rest.split('/').next().unwrap_or(rest);
        let addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
            .with_context(|| format!("resolving {authority}"))?
            .next()
            .with_context(|| format!("{authority} resolves to nothing"))?;
        Ok(Arc::new(Endpoint {
            addr,
            host: HeaderValue::from_str(authority)
                .with_context(|| format!("{authority:?} is not a valid Host header"))?,
            base: rest
                .strip_prefix(authority)
                .unwrap_or("")
                .trim_end_matches('/')
                .to_owned(),
        }))
    }

    /// The same endpoint at `addr`.
    pub(crate) fn from_addr(addr: SocketAddr) -> Arc<Self> {
        Arc::new(Endpoint {
            addr,
            host: HeaderValue::from_str(&addr.to_string())
                .unwrap_or(HeaderValue::from_static("localhost")),
            base: String::new(),
        })
    }

    /// `http://…` form, for reports.
    pub(crate) fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.base)
    }
}

/// Why a request failed, in the words reports use.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// The TCP connection could not be made.
    #[error("connect")]
    Connect,
    /// The connection broke while sending or receiving.
    #[error("io")]
    Io,
    /// No answer within the request timeout.
    #[error("timeout")]
    Timeout,
    /// An answer with another status than expected.
    #[error("status {0}")]
    Status(u16),
    /// The right status with the wrong content.
    #[error("{0}")]
    Body(&'static str),
}

impl Failure {
    /// The failure kind, as counted in reports.
    pub(crate) fn kind(&self) -> String {
        self.to_string()
    }
}

/// A response read whole.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<HeaderValue>,
    pub(crate) body: Bytes,
}

/// One keep-alive connection to one endpoint, reopened when the server
/// closes it.
pub(crate) struct Conn {
    endpoint: Arc<Endpoint>,
    sender: Option<SendRequest<Full<Bytes>>>,
    timeout: Duration,
}

impl Conn {
    /// A connection that opens on first use.
    pub(crate) fn new(endpoint: Arc<Endpoint>, timeout: Duration) -> Self {
        Conn {
            endpoint,
            sender: None,
            timeout,
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let stream = TcpStream::connect(self.endpoint.addr)
            .await
            .map_err(|_| Failure::Connect)?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|_| Failure::Connect)?;
        tokio::spawn(async move {
            // Ends when the server closes or the sender is dropped.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// A ready sender: the open connection, or a new one when the server
    /// closed the previous one between requests (as any client pool does).
    async fn ready(&mut self) -> Result<&mut SendRequest<Full<Bytes>>, Failure> {
        let alive = match &mut self.sender {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !alive {
            self.sender = None;
            self.sender = Some(self.connect().await?);
        }
        self.sender.as_mut().ok_or(Failure::Connect)
    }

    /// Sends one request and reads the whole answer.
    pub(crate) async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&'static str>,
        body: Bytes,
    ) -> Result<Answer, Failure> {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.send_inner(method, path, content_type, body)).await
        {
            Ok(result) => {
                if result.is_err() {
                    self.sender = None;
                }
                result
            }
            Err(_) => {
                self.sender = None;
                Err(Failure::Timeout)
            }
        }
    }

    async fn send_inner(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&'static str>,
        body: Bytes,
    ) -> Result<Answer, Failure> {
        let uri = if self.endpoint.base.is_empty() {
            path.to_owned()
        } else {
            format!("{}{path}", self.endpoint.base)
        };
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, self.endpoint.host.clone());
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|_| Failure::Body("request could not be built"))?;
        let sender = self.ready().await?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| Failure::Io)?;
        let status = response.status();
        let location = response.headers().get(header::LOCATION).cloned();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|_| Failure::Io)?
            .to_bytes();
        Ok(Answer {
            status,
            location,
            body,
        })
    }
}

/// Waits until `url` answers 200 (a service's `/readyz`), at most `limit`.
pub(crate) async fn wait_ready(endpoint: &Arc<Endpoint>, limit: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut conn = Conn::new(endpoint.clone(), Duration::from_secs(2));
        if let Ok(answer) = conn.send(Method::GET, "/readyz", None, Bytes::new()).await
            && answer.status == StatusCode::OK
        {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("{} did not become ready within {limit:?}", endpoint.url());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let e = Endpoint::parse("http://127.0.0.1:8443/").unwrap();
        assert_eq!(e.addr, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(e.url(), "http://127.0.0.1:8443");
        let e = Endpoint::parse("http://127.0.0.1:80/prefix").unwrap();
        assert_eq!(e.base, "/prefix");
        assert!(Endpoint::parse("https://127.0.0.1:1").is_err());
    }
}
