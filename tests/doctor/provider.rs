//! A small OpenID provider and mesh stand-in for `kexpose doctor` tests, on 127.0.0.1 over
//! HTTPS (a CA made at test time with rcgen; `--ca-file` trusts it).
//!
//! What it serves:
//! - `/.well-known/openid-configuration`: issuer, token_endpoint, jwks_uri, grant types and
//!   signing algorithms, each configurable to reproduce a broken provider;
//! - `/jwks` (and `/jwks-other`): the public key of the test signing key (RS256, kid
//!   `test-key`), or another key;
//! - `/token`: the client-credentials grant with HTTP Basic client authentication; the
//!   token's `aud`, scopes and lifetime are configurable;
//! - any other path, for a Host other than 127.0.0.1: the mesh stand-in for `--probe`. It
//!   answers as the Istio sidecar and oauth2-proxy would for the test spec's rules:
//!   `/public` 200 always; `/api/...` 403 without a token, 200 with a token that has the scope
//!   `orders.read`; `/admin/...` 401 without a token, 200 with one. It decodes the token's
//!   claims without verifying the signature: the probe compares statuses, not cryptography.
//!   `open_api` makes `/api/...` answer 200 without a token (a cluster that does not enforce
//!   the spec).
//!
//! The signing key `TEST-ONLY-signing-key.pem` is a key made for these tests only; it
//! protects nothing.
#![allow(dead_code)]

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The test-only RSA key (never used outside these tests).
pub const TEST_KEY: &[u8] = include_bytes!("TEST-ONLY-signing-key.pem");
pub const CLIENT_ID: &str = "kexpose-test-client";
/// A value that must never appear in any output.
pub const CLIENT_SECRET: &str = "s3cr3t-Zq8vX1-never-print-me";

/// How the provider behaves.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// `issuer` in discovery: `None` = the base URL exactly.
    pub discovery_issuer: Option<String>,
    /// `jwks_uri` path in discovery.
    pub discovery_jwks_path: String,
    /// `grant_types_supported`.
    pub grant_types: Vec<String>,
    /// `id_token_signing_alg_values_supported`.
    pub algs: Vec<String>,
    /// `aud` of issued tokens.
    pub aud: Value,
    /// `scope` of issued tokens (absent when `None`).
    pub scope: Option<String>,
    /// `exp` relative to now, seconds.
    pub lifetime: i64,
    /// `/jwks-other` serves a different key than the signing key.
    pub other_jwks_differs: bool,
    /// The mesh stand-in lets `/api/...` through without a token.
    pub open_api: bool,
    /// `/jwks` serves `{"keys": []}`.
    pub empty_jwks: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            discovery_issuer: None,
            discovery_jwks_path: "/jwks".into(),
            grant_types: vec!["client_credentials".into(), "authorization_code".into()],
            algs: vec!["RS256".into()],
            aud: json!([CLIENT_ID, "orders-api"]),
            scope: Some("orders.read orders.write".into()),
            lifetime: 3600,
            other_jwks_differs: false,
            open_api: false,
            empty_jwks: false,
        }
    }
}

pub struct Provider {
    pub addr: SocketAddr,
    pub ca_pem: String,
    pub behaviour: Arc<Mutex<Behaviour>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Provider {
    pub fn base(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn start(behaviour: Behaviour) -> Provider {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // A CA and a server certificate for 127.0.0.1 and the test hosts.
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kexpose test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_params = rcgen::CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "orders.example.com".to_string(),
        ])
        .unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), ca.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let (s, b) = (stop.clone(), behaviour.clone());
        let base = format!("https://127.0.0.1:{}", addr.port());
        let handle = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let (config, b, base) = (config.clone(), b.clone(), base.clone());
                std::thread::spawn(move || {
                    let _ = serve(tcp, config, &b, &base);
                });
            }
        });
        Provider {
            addr,
            ca_pem: ca.pem(),
            behaviour,
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn jwks(other: bool) -> Value {
    let key = if other {
        // A different key: the public half of a freshly made EC key.
        let kp = rcgen::KeyPair::generate().unwrap();
        let ek = EncodingKey::from_ec_der(&kp.serialize_der());
        let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&ek, Algorithm::ES256).unwrap();
        jwk.common.key_id = Some("other-key".into());
        jwk
    } else {
        let ek = EncodingKey::from_rsa_pem(TEST_KEY).unwrap();
        let mut jwk = jsonwebtoken::jwk::Jwk::from_encoding_key(&ek, Algorithm::RS256).unwrap();
        jwk.common.key_id = Some("test-key".into());
        jwk
    };
    json!({ "keys": [key] })
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn read_request(r: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        if headers.len() > 100 {
            return None;
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(64 * 1024);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn serve(
    tcp: TcpStream,
    config: Arc<rustls::ServerConfig>,
    b: &Mutex<Behaviour>,
    base: &str,
) -> std::io::Result<()> {
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let req = {
        let mut reader = BufReader::new(&mut tls);
        read_request(&mut reader)
    };
    let Some(req) = req else { return Ok(()) };
    let behaviour = b.lock().unwrap().clone();
    let (status, body) = answer(&req, &behaviour, base);
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(resp.as_bytes())?;
    tls.flush()?;
    tls.conn.send_close_notify();
    let _ = tls.flush();
    Ok(())
}

fn answer(req: &Request, b: &Behaviour, base: &str) -> (u16, String) {
    let host = req.header("host").unwrap_or("");
    if !host.starts_with("127.0.0.1") {
        return mesh(req, b);
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/.well-known/openid-configuration") => (
            200,
            json!({
                "issuer": b.discovery_issuer.clone().unwrap_or_else(|| base.to_string()),
                "token_endpoint": format!("{base}/token"),
                "jwks_uri": format!("{base}{}", b.discovery_jwks_path),
                "grant_types_supported": b.grant_types,
                "id_token_signing_alg_values_supported": b.algs,
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
            })
            .to_string(),
        ),
        ("GET", "/jwks") if b.empty_jwks => (200, json!({"keys": []}).to_string()),
        ("GET", "/jwks") => (200, jwks(false).to_string()),
        ("GET", "/jwks-other") => (200, jwks(b.other_jwks_differs).to_string()),
        ("POST", "/token") => token(req, b, base),
        _ => (404, "{}".into()),
    }
}

fn token(req: &Request, b: &Behaviour, base: &str) -> (u16, String) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if req.header("authorization") != Some(expected.as_str()) {
        return (
            401,
            json!({"error": "invalid_client", "error_description": "client authentication failed"})
                .to_string(),
        );
    }
    if !req
        .body
        .split('&')
        .any(|p| p == "grant_type=client_credentials")
    {
        return (400, json!({"error": "unsupported_grant_type"}).to_string());
    }
    let mut claims = json!({
        "iss": base,
        "sub": CLIENT_ID,
        "aud": b.aud,
        "iat": now(),
        "exp": now() + b.lifetime,
    });
    if let Some(s) = &b.scope {
        claims["scope"] = json!(s);
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("test-key".into());
    let jwt = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(TEST_KEY).unwrap(),
    )
    .unwrap();
    (
        200,
        json!({"access_token": jwt, "token_type": "Bearer", "expires_in": b.lifetime}).to_string(),
    )
}

/// The mesh stand-in (see the module comment).
fn mesh(req: &Request, b: &Behaviour) -> (u16, String) {
    let claims: Option<Value> = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| t.split('.').nth(1))
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let path = req.path.split('?').next().unwrap_or("");
    if path == "/public" {
        return (200, "{}".into());
    }
    if path.starts_with("/api/") {
        return match claims {
            None if b.open_api => (200, "{}".into()),
            None => (403, "RBAC: access denied".into()),
            Some(c)
                if c["scope"]
                    .as_str()
                    .is_some_and(|s| s.split(' ').any(|x| x == "orders.read")) =>
            {
                (200, "{}".into())
            }
            Some(_) => (403, "RBAC: access denied".into()),
        };
    }
    if path.starts_with("/admin/") {
        return match claims {
            None => (401, "{}".into()),
            Some(_) => (200, "{}".into()),
        };
    }
    (404, "{}".into())
}
