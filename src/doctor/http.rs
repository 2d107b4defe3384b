//! The one HTTP client of kexpose: ureq 3 on rustls with the ring provider (no OpenSSL, no
//! cmake). Timeouts on every request, `ALL_PROXY`/`HTTPS_PROXY`/`HTTP_PROXY` and `NO_PROXY`
//! honoured (ureq's `Proxy::try_from_env`), Mozilla's roots or the CAs of `--ca-file`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// Bodies larger than this are refused (a discovery document or JWKS is a few KiB).
pub const MAX_BODY: u64 = 1024 * 1024;

/// How a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No HTTP answer: DNS, connection, TLS, proxy or timeout (exit 2).
    Network(String),
    /// An answer that is not usable (too large, not UTF-8).
    Body(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Network(m) | Failure::Body(m) => f.write_str(m),
        }
    }
}

/// An HTTP answer: status and body text.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Body (UTF-8, at most [`MAX_BODY`] bytes).
    pub body: String,
}

/// A configured client.
pub struct Client {
    agent: ureq::Agent,
}

/// Client settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Whole-request timeout.
    pub timeout: Option<Duration>,
    /// PEM text of the only CAs to trust (`--ca-file`); `None`: Mozilla's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Connect to this address instead of resolving the URL's host (TLS server name and
    /// `Host` stay the URL's): `--connect-to` for probes through a gateway's address.
    pub connect_to: Option<SocketAddr>,
}

/// Parse the certificates of a PEM bundle.
pub fn parse_ca(pem: &[u8]) -> Result<Vec<Certificate<'static>>, String> {
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item.map_err(|e| format!("not a PEM file: {e}"))? {
            PemItem::Certificate(c) => certs.push(c),
            _ => continue,
        }
    }
    if certs.is_empty() {
        return Err("no CERTIFICATE block in it".into());
    }
    Ok(certs)
}

/// A resolver that sends every name to one address (`--connect-to`).
///
/// ureq's resolver trait is outside its semver guarantee ("unversioned"); Cargo.lock pins
/// the version, and this is the only use of it.
#[derive(Debug)]
struct ConnectTo(SocketAddr);

impl ureq::unversioned::resolver::Resolver for ConnectTo {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let mut out = self.empty();
        out.push(self.0);
        Ok(out)
    }
}

impl Client {
    /// A client with these settings.
    pub fn new(settings: &Settings) -> Result<Client, String> {
        let mut tls = TlsConfig::builder();
        if let Some(pem) = &settings.ca_pem {
            tls = tls.root_certs(RootCerts::Specific(Arc::new(parse_ca(pem)?)));
        }
        let config = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .timeout_global(settings.timeout)
            // Status codes are data here (a 401 is an answer, not an error).
            .http_status_as_error(false)
            // Every answer is reported as given: a redirect is a finding, not followed.
            .max_redirects(0)
            .user_agent(concat!("kexpose-doctor/", env!("CARGO_PKG_VERSION")))
            .build();
        let agent = match settings.connect_to {
            Some(addr) => ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::default(),
                ConnectTo(addr),
            ),
            None => ureq::Agent::new_with_config(config),
        };
        Ok(Client { agent })
    }

    /// GET with extra headers.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, Failure> {
        let mut req = self.agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.call())
    }

    /// HEAD with extra headers.
    pub fn head(&self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, Failure> {
        let mut req = self.agent.head(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.call())
    }

    /// POST an `application/x-www-form-urlencoded` body.
    pub fn post_form(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        form: &[(&str, &str)],
    ) -> Result<Answer, Failure> {
        let mut req = self.agent.post(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send_form(form.iter().copied()))
    }
}

fn answer(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Answer, Failure> {
    let mut resp = result.map_err(|e| Failure::Network(describe(&e)))?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                Failure::Body(format!("the answer is larger than {MAX_BODY} bytes"))
            }
            other => Failure::Body(format!("cannot read the answer: {}", describe(&other))),
        })?;
    Ok(Answer { status, body })
}

/// A network error in words (ureq's own text, which names the cause).
fn describe(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timed out (see --timeout)".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        other => other.to_string(),
    }
}
