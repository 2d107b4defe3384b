//! `kexpose doctor`: check the live identity providers, and a real token, against the spec.
//! The only part of kexpose that uses the network.
//!
//! 1. Identity providers: the discovery document, fetched as oauth2-proxy 7.15.3 does
//!    (`pkg/providers/oidc/provider.go`, `NewProvider`), compared with the spec; both JWKS.
//! 2. A real token (credentials only from `KEXPOSE_CLIENT_ID`/`KEXPOSE_CLIENT_SECRET`): a
//!    client-credentials request, the signature, then each oauth2-proxy authorizer and each
//!    sample request of `explain`'s access table ([`samples`]) judged as its verifier judges
//!    it ([`evaluate`]), on the mesh evaluation `explain` prints.
//! 3. `--probe`: the same sample requests sent with and without the token, compared with
//!    `explain`'s prediction and the token's judgement.
//!
//! The library never prints: [`run`] returns a [`Report`]; [`report`] renders it.

pub mod evaluate;
pub mod http;
pub mod jwt;
pub mod probe;
pub mod report;

use crate::diag::{Code, Diagnostic, Severity};
use crate::mesh::eval::Verdict;
use crate::source::SourceFile;
use crate::spec::{AuthorizerType, IdentityProvider, Spec};
use crate::yaml::PointerTable;
use evaluate::{Decision, Model, ProxyContext, ProxyFlags};
use http::{Client, Failure};
use jwt::{Keys, Token};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The environment variables the client credentials are read from (never a flag, never the
/// spec).
pub const ENV_CLIENT_ID: &str = "KEXPOSE_CLIENT_ID";
/// See [`ENV_CLIENT_ID`].
pub const ENV_CLIENT_SECRET: &str = "KEXPOSE_CLIENT_SECRET";

/// OAuth client credentials. The secret never reaches any output ([`Report::mask`]).
#[derive(Clone)]
pub struct Credentials {
    /// Client ID (not secret; shown).
    pub client_id: String,
    /// Client secret (never shown).
    pub client_secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"****")
            .finish()
    }
}

/// What `doctor` does.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// HTTP settings for the identity providers.
    pub http: http::Settings,
    /// Credentials, when a token is to be requested.
    pub credentials: Option<Credentials>,
    /// Which identity provider issues the token (needed when the spec uses several).
    pub identity_provider: Option<String>,
    /// `scope` of the token request.
    pub scope: Option<String>,
    /// Further form parameters of the token request (e.g. `resource`, `audience`).
    pub token_params: Vec<(String, String)>,
    /// Request the exposed URLs (`--probe`).
    pub probe: bool,
    /// Send probes to this address (`--connect-to`).
    pub connect_to: Option<std::net::SocketAddr>,
}

/// One identity provider as found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderReport {
    /// Spec name.
    pub name: String,
    /// Spec issuer.
    pub issuer: String,
    /// What uses it: oauth2-proxy authorizers and/or rules.
    pub used_by: Vec<String>,
    /// The URL fetched.
    pub discovery_url: String,
    /// Facts found, one line each.
    pub facts: Vec<String>,
}

/// The token obtained (claims only; the token itself is never shown).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenReport {
    /// Identity provider name.
    pub provider: String,
    /// Client ID the token was requested for.
    pub client_id: String,
    /// Header `alg`.
    pub alg: String,
    /// Header `kid`.
    pub kid: Option<String>,
    /// `iss`.
    pub iss: Option<String>,
    /// `aud`.
    pub aud: Vec<String>,
    /// Scope claims present (`scp`, `scope`, `scopes`) with their values.
    pub scopes: BTreeMap<String, Value>,
    /// `exp` (UTC).
    pub expires: Option<String>,
    /// Key sets whose keys verify the signature.
    pub verified_with: Vec<String>,
}

/// One verdict on the token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Judgement {
    /// `authorizer` or `rule`.
    pub kind: String,
    /// Authorizer name, or `METHODS PATH` (the rule's methods with this verdict, its path).
    pub subject: String,
    /// Host (rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The sample request path judged (rules): one of the paths `explain` samples the rule with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// What `explain` prints for this request (rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<String>,
    /// `allowed`, `denied` or `unknown`.
    pub decision: String,
    /// Expected status with the token (denied: the status the verifier answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why.
    pub reason: String,
}

/// One probe request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
    /// Sent with the token?
    pub with_token: bool,
    /// What the model predicts: `passes`, `denied (401)`, …
    pub expected: String,
    /// The live status (absent: no answer).
    pub status: Option<u16>,
    /// Does it agree?
    pub agrees: bool,
    /// Network error, when no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything `doctor` found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Identity providers checked.
    pub providers: Vec<ProviderReport>,
    /// The token, when credentials were given and one was obtained.
    pub token: Option<TokenReport>,
    /// Verdicts per oauth2-proxy authorizer, then per host and rule.
    pub judgements: Vec<Judgement>,
    /// Probes (with `--probe`).
    pub probes: Vec<ProbeReport>,
    /// Findings at spec locations.
    pub diagnostics: Vec<Diagnostic>,
    /// Notes (what was skipped and why).
    pub notes: Vec<String>,
    /// A request got no answer (exit 2).
    pub network_error: bool,
    secrets: Vec<String>,
}

impl Report {
    /// Replace every secret (client secret, access token) in a text with `****`. Every
    /// rendered output passes through this, whatever the format.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in self.secrets.iter().filter(|s| s.len() >= 4) {
            out = out.replace(s.as_str(), "****");
            // As JSON writes it (a secret with `"` or a backslash is escaped there).
            let escaped = serde_json::to_string(s).unwrap_or_default();
            let escaped = escaped.trim_matches('"');
            if escaped != s {
                out = out.replace(escaped, "****");
            }
            // As the markdown table writes it.
            let piped = s.replace('|', "\\|");
            if piped != *s {
                out = out.replace(&piped, "****");
            }
        }
        out
    }

    /// Any error or warning?
    pub fn has_findings(&self) -> bool {
        !self.diagnostics.is_empty()
    }
}

/// Where things are in the spec.
struct Places<'a> {
    spec: &'a Spec,
    ptrs: &'a PointerTable,
}

impl Places<'_> {
    fn at(&self, ptr: &str) -> Option<crate::source::Span> {
        self.ptrs.value_span(ptr)
    }

    fn idp(&self, i: usize, field: &str) -> Option<crate::source::Span> {
        let p = format!("/identityProviders/{i}/{field}");
        if self.ptrs.get(&p).is_some() {
            self.at(&p)
        } else {
            self.at(&format!("/identityProviders/{i}/issuer"))
        }
    }

    fn authorizer(&self, name: &str, field: &str) -> Option<crate::source::Span> {
        let i = self.spec.authorizers.iter().position(|a| a.name == name)?;
        let p = format!("/authorizers/{i}/{field}");
        if self.ptrs.get(&p).is_some() {
            self.at(&p)
        } else {
            self.at(&format!("/authorizers/{i}/name"))
        }
    }

    /// The spec rule behind a route: workload by APIRule `namespace/name`, rule by
    /// path and method.
    fn rule(&self, apirule: &str, path: &str, method: &str) -> Option<crate::source::Span> {
        let (ns, name) = apirule.split_once('/')?;
        let w = self
            .spec
            .workloads
            .iter()
            .position(|w| w.namespace == ns && w.name == name)?;
        let r = self.spec.workloads[w]
            .rules
            .iter()
            .position(|r| r.path == path && r.methods.iter().any(|m| m == method))
            .or_else(|| {
                self.spec.workloads[w]
                    .rules
                    .iter()
                    .position(|r| r.path == path)
            })?;
        self.at(&format!("/workloads/{w}/rules/{r}/path"))
    }
}

/// The parts of a discovery document kexpose reads.
#[derive(Debug, Clone, Default)]
struct Discovery {
    issuer: String,
    token_endpoint: Option<String>,
    jwks_uri: Option<String>,
    grant_types: Option<Vec<String>>,
    algs: Vec<String>,
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect()
    })
}

/// `<issuer>/.well-known/openid-configuration` with one trailing `/` removed first: Go's
/// `strings.TrimSuffix(issuerURL, "/")` in oauth2-proxy 7.15.3 `NewProvider`.
pub fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.strip_suffix('/').unwrap_or(issuer)
    )
}

/// oauth2-proxy 7.15.3's start-up error chain around a provider-verifier error: `main.go`
/// (`Failed to initialise OAuth2 Proxy`), `oauthproxy.go` (`error initialising provider`),
/// `providers/providers.go` (`could not create provider data`, `error building OIDC
/// ProviderVerifier`), `pkg/providers/oidc/provider_verifier.go` (`could not get verifier
/// builder`).
fn crashloop(inner: &str) -> String {
    format!(
        "ERROR: Failed to initialise OAuth2 Proxy: error initialising provider: could not create provider data: error building OIDC ProviderVerifier: could not get verifier builder: {inner}"
    )
}

fn truncate(s: &str, n: usize) -> String {
    let t: String = s.chars().take(n).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// Run every check. `Err` is a usage error (exit 2).
pub fn run(source: &SourceFile, model: &Model, options: &Options) -> Result<Report, String> {
    let checked = crate::check::check(source);
    let spec = checked
        .spec
        .as_ref()
        .filter(|_| !checked.diagnostics.iter().any(Diagnostic::is_error))
        .ok_or("the spec has errors; run `kexpose validate` first")?;
    let places = Places {
        spec,
        ptrs: &checked.pointers,
    };
    let client = Client::new(&options.http).map_err(|e| format!("--ca-file: {e}"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut rep = Report::default();
    if let Some(c) = &options.credentials {
        rep.secrets.push(c.client_secret.clone());
    }

    // Which providers are used, and by what.
    let proxies: Vec<&crate::spec::Authorizer> = spec
        .authorizers
        .iter()
        .filter(|a| a.kind == AuthorizerType::Oauth2Proxy)
        .collect();
    let rule_issuers: BTreeSet<&str> = model.issuers();
    let mut used: Vec<(usize, &IdentityProvider, Vec<String>)> = Vec::new();
    for (i, idp) in spec.identity_providers.iter().enumerate() {
        let mut by: Vec<String> = proxies
            .iter()
            .filter(|a| a.identity_provider.as_deref() == Some(idp.name.as_str()))
            .map(|a| format!("authorizer {}", a.name))
            .collect();
        if rule_issuers.contains(idp.issuer.as_str()) {
            by.push("jwt rules".into());
        }
        if by.is_empty() {
            rep.notes.push(format!(
                "identity provider {} is not used by any authorizer or rule: not checked",
                idp.name
            ));
        } else {
            used.push((i, idp, by));
        }
    }

    // The token's provider.
    let token_idp: Option<&IdentityProvider> = match (&options.credentials, &options.identity_provider) {
        (_, Some(name)) => Some(
            spec.identity_providers
                .iter()
                .find(|p| &p.name == name)
                .ok_or_else(|| {
                    format!(
                        "--identity-provider {name}: the spec has no identity provider of that name (it has {})",
                        spec.identity_providers
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?,
        ),
        (Some(_), None) => match used.as_slice() {
            [(_, one, _)] => Some(*one),
            [] => None,
            several => {
                return Err(format!(
                    "the spec uses {} identity providers ({}); name the one that issues the token with --identity-provider",
                    several.len(),
                    several
                        .iter()
                        .map(|(_, p, _)| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        },
        (None, None) => None,
    };
    if options.credentials.is_none() {
        rep.notes.push(format!(
            "no token checked: set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET} to request one"
        ));
    }

    // 1. Identity providers.
    let mut discovered: BTreeMap<String, Discovery> = BTreeMap::new();
    // Key sets by URL, each fetched once.
    let mut keys = KeyCache {
        client: &client,
        cache: BTreeMap::new(),
        network_error: false,
    };
    for (i, idp, by) in &used {
        let i = *i;
        let url = discovery_url(&idp.issuer);
        let mut pr = ProviderReport {
            name: idp.name.clone(),
            issuer: idp.issuer.clone(),
            used_by: by.clone(),
            discovery_url: url.clone(),
            facts: Vec::new(),
        };
        let my_proxies: Vec<&&crate::spec::Authorizer> = proxies
            .iter()
            .filter(|a| a.identity_provider.as_deref() == Some(idp.name.as_str()))
            .collect();
        let proxy_flags = |a: &crate::spec::Authorizer| {
            model
                .authorizers
                .get(&a.name)
                .and_then(|info| info.flags.clone())
                .unwrap_or_default()
        };
        let discovering: Vec<(&str, indexmap::IndexMap<String, String>)> = my_proxies
            .iter()
            .map(|a| (a.name.as_str(), proxy_flags(a)))
            .filter(|(_, f)| ProxyFlags(f).discovers())
            .collect();
        let crash_note = |what: &str| {
            if discovering.is_empty() {
                String::new()
            } else {
                format!(
                    "; oauth2-proxy ({}) exits at start (CrashLoopBackOff): `{}`",
                    discovering
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                    crashloop(&format!(
                        "error while discovery OIDC configuration: failed to discover OIDC configuration: {what}"
                    ))
                )
            }
        };
        let doc = match client.get(&url, &[("Accept", "application/json")]) {
            Err(Failure::Network(e)) => {
                rep.network_error = true;
                rep.diagnostics.push(
                    Diagnostic::new(
                        Code::DoctorUnreachable,
                        places.idp(i, "issuer"),
                        format!("cannot reach identity provider {}: GET {url}: {e}", idp.name),
                    )
                    .label("discovery fetched from here")
                    .help("check the issuer URL, DNS, HTTPS_PROXY/NO_PROXY, and --ca-file for a private CA"),
                );
                None
            }
            Err(e) => {
                rep.diagnostics.push(Diagnostic::new(
                    Code::DoctorDiscoveryFailed,
                    places.idp(i, "issuer"),
                    format!("GET {url}: {e}{}", crash_note(&e.to_string())),
                ));
                None
            }
            Ok(a) if a.status != 200 => {
                // requests.Result.getBodyForUnmarshal: only 200 is read.
                let what = format!(
                    "unexpected status \"{}\": {}",
                    a.status,
                    truncate(a.body.trim(), 200)
                );
                rep.diagnostics.push(
                    Diagnostic::new(
                        Code::DoctorDiscoveryFailed,
                        places.idp(i, "issuer"),
                        format!("GET {url} answers {}{}", a.status, crash_note(&what)),
                    )
                    .help("the issuer must be the URL whose /.well-known/openid-configuration the provider serves"),
                );
                None
            }
            Ok(a) => match serde_json::from_str::<Value>(&a.body) {
                Ok(v) if v.is_object() => Some(Discovery {
                    issuer: v
                        .get("issuer")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    token_endpoint: v
                        .get("token_endpoint")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    jwks_uri: v
                        .get("jwks_uri")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    grant_types: strings(v.get("grant_types_supported")),
                    algs: strings(v.get("id_token_signing_alg_values_supported"))
                        .unwrap_or_default(),
                }),
                Ok(_) | Err(_) => {
                    let e = serde_json::from_str::<serde_json::Map<String, Value>>(&a.body)
                        .err()
                        .map_or_else(String::new, |e| e.to_string());
                    rep.diagnostics.push(Diagnostic::new(
                        Code::DoctorDiscoveryFailed,
                        places.idp(i, "issuer"),
                        format!(
                            "GET {url}: the answer is not a JSON object ({e}){}",
                            crash_note(&format!("error unmarshalling body: {e}"))
                        ),
                    ));
                    None
                }
            },
        };
        let spec_jwks = crate::spec::resolve::jwks_uri(idp);
        if let Some(doc) = &doc {
            pr.facts.push(format!(
                "discovery: 200, issuer {}",
                evaluate::go_quote(&doc.issuer)
            ));
            // Byte-equal, as oauth2-proxy compares (`p.Issuer != issuerURL`).
            for (name, flags) in &discovering {
                let f = ProxyFlags(flags);
                let expected = f.issuer().unwrap_or(&idp.issuer);
                if !f.skips_issuer_check() && doc.issuer != expected {
                    rep.diagnostics.push(
                        Diagnostic::new(
                            Code::DoctorIssuerMismatch,
                            places.idp(i, "issuer"),
                            format!(
                                "the provider's discovery document says issuer {} but authorizer {name} is configured with {}: oauth2-proxy exits at start (CrashLoopBackOff): `{}`",
                                evaluate::go_quote(&doc.issuer),
                                evaluate::go_quote(expected),
                                crashloop(&format!(
                                    "error while discovery OIDC configuration: oidc: issuer did not match the issuer returned by provider, expected {} got {}",
                                    evaluate::go_quote(expected),
                                    evaluate::go_quote(&doc.issuer)
                                ))
                            ),
                        )
                        .label("not byte-equal to the discovered issuer")
                        .help(format!(
                            "set `issuer` to exactly {} (every byte counts, a trailing `/` too), or correct the provider",
                            evaluate::go_quote(&doc.issuer)
                        )),
                    );
                }
            }
            if discovering.is_empty()
                && doc.issuer != idp.issuer
                && !my_proxies
                    .iter()
                    .any(|a| ProxyFlags(&proxy_flags(a)).skips_issuer_check())
            {
                rep.diagnostics.push(
                    Diagnostic::new(
                        Code::DoctorIssuerMismatch,
                        places.idp(i, "issuer"),
                        format!(
                            "the provider's discovery document says issuer {} but the spec says {}: its tokens carry the discovered `iss`, which verifiers configured with the spec's issuer refuse (Istio: 401 `Jwt issuer is not configured`)",
                            evaluate::go_quote(&doc.issuer),
                            evaluate::go_quote(&idp.issuer)
                        ),
                    )
                    .label("not byte-equal to the discovered issuer")
                    .help(format!("set `issuer` to exactly {}", evaluate::go_quote(&doc.issuer))),
                );
            }
            // The JWKS oauth2-proxy uses (discovered) and the one Istio uses (spec).
            match &doc.jwks_uri {
                None => rep.diagnostics.push(Diagnostic::new(
                    Code::DoctorJwksUnavailable,
                    places.idp(i, "issuer"),
                    format!("the discovery document at {url} has no `jwks_uri`"),
                )),
                Some(found) => {
                    let found_keys = keys.get(found);
                    match &found_keys {
                        Ok(k) if k.keys.is_empty() => rep.diagnostics.push(Diagnostic::new(
                            Code::DoctorJwksUnavailable,
                            places.idp(i, "issuer"),
                            format!(
                                "the JWKS at {found} (discovered `jwks_uri`) holds no signing key{}: no token of {} can be verified",
                                if k.skipped > 0 { format!(" ({} entries not usable)", k.skipped) } else { String::new() },
                                idp.name
                            ),
                        )),
                        Ok(k) => pr.facts.push(format!(
                            "jwks_uri {found}: {} key(s): {}",
                            k.keys.len(),
                            k.kids().into_iter().collect::<Vec<_>>().join(", ")
                        )),
                        Err(e) => rep.diagnostics.push(Diagnostic::new(
                            Code::DoctorJwksUnavailable,
                            places.idp(i, "issuer"),
                            format!("the discovered JWKS cannot be used: {e}"),
                        )),
                    }
                    if let Some(mine) = &spec_jwks
                        && mine != found
                    {
                        let theirs = keys.get(mine);
                        let same = matches!((&found_keys, &theirs), (Ok(a), Ok(b)) if a.kids() == b.kids());
                        let mut d = Diagnostic::new(
                            Code::DoctorJwksUriMismatch,
                            places.idp(i, "jwksUri"),
                            format!(
                                "the discovery document names jwks_uri {found}, the spec {} {mine}: Istio verifies rule tokens with {mine}, oauth2-proxy with {found}; {}",
                                if idp.jwks_uri.is_some() { "says" } else { "derives" },
                                if same {
                                    "both serve the same key IDs today".to_string()
                                } else {
                                    "their keys differ, so a token valid for one verifier fails the other".to_string()
                                }
                            ),
                        )
                        .label("differs from the discovered jwks_uri")
                        .help(format!("set `jwksUri: {found}`"));
                        if !same {
                            d.severity = Severity::Error;
                        }
                        rep.diagnostics.push(d);
                        if let Err(e) = &theirs {
                            rep.diagnostics.push(Diagnostic::new(
                                Code::DoctorJwksUnavailable,
                                places.idp(i, "jwksUri"),
                                format!("the spec's JWKS cannot be used: {e}"),
                            ));
                        }
                    }
                }
            }
            // Signing algorithms.
            let verifiable: Vec<&String> = doc
                .algs
                .iter()
                .filter(|a| evaluate::verifiable(a))
                .collect();
            if !doc.algs.is_empty() && verifiable.is_empty() {
                rep.diagnostics.push(
                    Diagnostic::new(
                        Code::DoctorNoCommonAlgorithm,
                        places.idp(i, "issuer"),
                        format!(
                            "the provider signs ID tokens only with {} (id_token_signing_alg_values_supported); oauth2-proxy and Istio verify with a JWKS only {}",
                            evaluate::go_slice(&doc.algs),
                            jwt::VERIFIABLE_ALGS.join(", ")
                        ),
                    )
                    .help("configure the client at the provider to sign with RS256 (or another asymmetric algorithm)"),
                );
            }
            for (name, flags) in &discovering {
                let configured = ProxyFlags(flags).enabled_algs();
                if let Err(e) = evaluate::proxy_algs(&doc.algs, &configured) {
                    rep.diagnostics.push(
                        Diagnostic::new(
                            Code::DoctorNoCommonAlgorithm,
                            places.authorizer(name, "extraArgs"),
                            format!(
                                "authorizer {name}: oauth2-proxy exits at start (CrashLoopBackOff): `{}`",
                                crashloop(&format!("error while determining supported signing algorithms: {e}"))
                            ),
                        )
                        .help("make `oidc-enabled-signing-alg` name an algorithm the provider lists"),
                    );
                }
            }
            if let Some(t) = &doc.token_endpoint {
                pr.facts.push(format!("token_endpoint {t}"));
            }
            discovered.insert(idp.name.clone(), doc.clone());
        } else if let Some(mine) = &spec_jwks {
            // No discovery, but Istio still fetches the spec's JWKS.
            if let Err(e) = keys.get(mine) {
                rep.diagnostics.push(Diagnostic::new(
                    Code::DoctorJwksUnavailable,
                    places.idp(i, "jwksUri"),
                    format!("the spec's JWKS cannot be used: {e}"),
                ));
            }
        }
        rep.providers.push(pr);
    }

    // 2. The token.
    let mut token: Option<Token> = None;
    let mut token_ok_from: Option<String> = None;
    if let (Some(creds), Some(idp)) = (&options.credentials, token_idp) {
        let i = spec
            .identity_providers
            .iter()
            .position(|p| p.name == idp.name)
            .unwrap_or(0);
        match discovered
            .get(&idp.name)
            .and_then(|d| d.token_endpoint.clone())
        {
            None => rep.notes.push(format!(
                "no token requested: the discovery document of {} {}",
                idp.name,
                if discovered.contains_key(&idp.name) {
                    "has no token_endpoint"
                } else {
                    "could not be read"
                }
            )),
            Some(endpoint) => {
                if let Some(t) =
                    request_token(&client, &endpoint, creds, options, &mut rep, &places, i)
                {
                    rep.secrets.push(t.raw().to_string());
                    token_ok_from = Some(idp.name.clone());
                    token = Some(t);
                }
            }
        }
    }
    // A provider that issued a client-credentials token supports the grant, whatever its
    // discovery document lists.
    for (i, idp, _) in &used {
        if let Some(doc) = discovered.get(&idp.name)
            && token_ok_from.as_deref() != Some(idp.name.as_str())
            && !doc
                .grant_types
                .as_ref()
                .is_some_and(|g| g.iter().any(|t| t == "client_credentials"))
        {
            rep.diagnostics.push(
                Diagnostic::new(
                    Code::DoctorGrantTypeMissing,
                    places.idp(*i, "issuer"),
                    match &doc.grant_types {
                        Some(g) => format!(
                            "the provider's grant_types_supported {} has no client_credentials: the token request of the procedure may be refused",
                            evaluate::go_slice(g)
                        ),
                        None => "the discovery document has no grant_types_supported (the OpenID default is authorization_code, implicit): client_credentials is not advertised".into(),
                    },
                )
                .help(format!(
                    "enable the client-credentials grant for the client, then check with {ENV_CLIENT_ID}/{ENV_CLIENT_SECRET} set (a token obtained settles it)"
                )),
            );
        }
    }

    if let (Some(t), Some(idp)) = (&token, token_idp) {
        judge(
            t,
            idp,
            spec,
            model,
            &discovered,
            &mut keys,
            &places,
            now,
            options,
            &mut rep,
        );
    }

    // 3. Probes.
    if options.probe {
        let judgements = rep.judgements.clone();
        probe::run(
            spec,
            model,
            token.as_ref(),
            &judgements,
            options,
            &places,
            &mut rep,
        )?;
    }
    if keys.network_error {
        rep.network_error = true;
    }
    rep.diagnostics
        .sort_by_key(|d| (d.span.map_or(0, |s| s.start), d.code));
    Ok(rep)
}

/// Key sets by URL, each fetched once.
struct KeyCache<'c> {
    client: &'c Client,
    cache: BTreeMap<String, Result<Keys, String>>,
    network_error: bool,
}

impl KeyCache<'_> {
    fn get(&mut self, url: &str) -> Result<Keys, String> {
        if let Some(k) = self.cache.get(url) {
            return k.clone();
        }
        let r = match self.client.get(url, &[]) {
            Err(Failure::Network(e)) => {
                self.network_error = true;
                Err(format!("cannot reach {url}: {e}"))
            }
            Err(e) => Err(format!("{url}: {e}")),
            Ok(a) if a.status != 200 => Err(format!("{url} answers {}", a.status)),
            Ok(a) => Keys::parse(url, &a.body).map_err(|e| format!("{url}: {e}")),
        };
        self.cache.insert(url.to_string(), r.clone());
        r
    }
}

/// The client-credentials request of the procedure: `POST token_endpoint` with
/// `grant_type=client_credentials` and the client authenticated with HTTP Basic (as
/// `curl -u "$CLIENT_ID:$CLIENT_SECRET"` sends it).
fn request_token(
    client: &Client,
    endpoint: &str,
    creds: &Credentials,
    options: &Options,
    rep: &mut Report,
    places: &Places<'_>,
    i: usize,
) -> Option<Token> {
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", creds.client_id, creds.client_secret))
    );
    rep.secrets.push(basic.clone());
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if let Some(s) = &options.scope {
        form.push(("scope", s));
    }
    for (k, v) in &options.token_params {
        form.push((k, v));
    }
    let fail = |rep: &mut Report, msg: String| {
        rep.diagnostics.push(
            Diagnostic::new(Code::DoctorTokenRequest, places.idp(i, "issuer"), msg)
                .help(format!(
                    "check {ENV_CLIENT_ID}/{ENV_CLIENT_SECRET}, that the client may use the client-credentials grant, and --scope/--token-param"
                )),
        );
    };
    match client.post_form(
        endpoint,
        &[("Authorization", &basic), ("Accept", "application/json")],
        &form,
    ) {
        Err(Failure::Network(e)) => {
            rep.network_error = true;
            fail(rep, format!("token request to {endpoint}: {e}"));
            None
        }
        Err(e) => {
            fail(rep, format!("token request to {endpoint}: {e}"));
            None
        }
        Ok(a) if a.status != 200 => {
            let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
            let err = v.get("error").and_then(Value::as_str).unwrap_or("");
            let desc = v
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("");
            fail(
                rep,
                format!(
                    "the token endpoint {endpoint} answers {}{}",
                    a.status,
                    if err.is_empty() {
                        format!(": {}", truncate(a.body.trim(), 200))
                    } else {
                        format!(
                            ": {err}{}",
                            if desc.is_empty() {
                                String::new()
                            } else {
                                format!(" ({desc})")
                            }
                        )
                    }
                ),
            );
            None
        }
        Ok(a) => {
            let v: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
            let Some(raw) = v.get("access_token").and_then(Value::as_str) else {
                fail(
                    rep,
                    format!("the token endpoint {endpoint} answers 200 without an access_token"),
                );
                return None;
            };
            rep.secrets.push(raw.to_string());
            match Token::parse(raw) {
                Ok(t) => Some(t),
                Err(e) => {
                    fail(
                        rep,
                        format!("{e}: oauth2-proxy and Istio accept only JWT bearer tokens"),
                    );
                    None
                }
            }
        }
    }
}

/// Item 2: the token's signature, then every oauth2-proxy authorizer and every rule.
#[allow(clippy::too_many_arguments)]
fn judge(
    token: &Token,
    idp: &IdentityProvider,
    spec: &Spec,
    model: &Model,
    discovered: &BTreeMap<String, Discovery>,
    keys: &mut KeyCache<'_>,
    places: &Places<'_>,
    now: i64,
    options: &Options,
    rep: &mut Report,
) {
    let i = spec
        .identity_providers
        .iter()
        .position(|p| p.name == idp.name)
        .unwrap_or(0);
    let mut tr = TokenReport {
        provider: idp.name.clone(),
        client_id: options
            .credentials
            .as_ref()
            .map(|c| c.client_id.clone())
            .unwrap_or_default(),
        alg: token.alg.clone(),
        kid: token.kid.clone(),
        iss: token.string("iss").map(str::to_string),
        aud: token.audiences(),
        scopes: evaluate::SCOPE_KEYS
            .iter()
            .filter_map(|k| token.claims.get(*k).map(|v| (k.to_string(), v.clone())))
            .collect(),
        expires: token.time("exp").map(evaluate::go_time),
        verified_with: Vec::new(),
    };
    // The signature, against each JWKS a verifier of this provider uses.
    let mut urls: Vec<(String, &str)> = Vec::new();
    if let Some(u) = discovered.get(&idp.name).and_then(|d| d.jwks_uri.clone()) {
        urls.push((u, "discovered jwks_uri (oauth2-proxy)"));
    }
    if let Some(u) = crate::spec::resolve::jwks_uri(idp)
        && !urls.iter().any(|(x, _)| *x == u)
    {
        urls.push((u, "spec jwksUri (Istio)"));
    }
    for (u, what) in &urls {
        match keys.get(u).and_then(|k| token.verify(&k)) {
            Ok(kid) => tr.verified_with.push(format!("{u} (kid {kid})")),
            Err(e) => rep.diagnostics.push(
                Diagnostic::new(
                    Code::DoctorTokenSignature,
                    places.idp(
                        i,
                        if what.starts_with("spec") {
                            "jwksUri"
                        } else {
                            "issuer"
                        },
                    ),
                    format!(
                        "the token of {} does not verify against the {what}: {e}",
                        idp.name
                    ),
                )
                .help("point `jwksUri` at the provider's current key set"),
            ),
        }
    }
    rep.token = Some(tr);

    // Authorizers.
    let mut proxy_decisions: BTreeMap<String, (Decision, String)> = BTreeMap::new();
    let client_id_env = options.credentials.as_ref().map(|c| c.client_id.as_str());
    for a in spec
        .authorizers
        .iter()
        .filter(|a| a.kind == AuthorizerType::Oauth2Proxy)
    {
        let Some(aidp) = a
            .identity_provider
            .as_deref()
            .and_then(|n| spec.identity_providers.iter().find(|p| p.name == n))
        else {
            continue;
        };
        let flags = model
            .authorizers
            .get(&a.name)
            .and_then(|x| x.flags.clone())
            .unwrap_or_default();
        let doc = discovered.get(&aidp.name);
        let jwks_url = flags
            .get("oidc-jwks-url")
            .cloned()
            .filter(|_| !ProxyFlags(&flags).discovers())
            .or_else(|| doc.and_then(|d| d.jwks_uri.clone()));
        let k = jwks_url.as_deref().and_then(|u| keys.get(u).ok());
        let (client_id, assumed) = match &a.client_id {
            Some(c) => (Some(c.as_str()), false),
            None => (client_id_env, true),
        };
        let ctx = ProxyContext {
            flags: ProxyFlags(&flags),
            client_id,
            keys: k.as_ref(),
            discovered_algs: doc.map_or(&[][..], |d| d.algs.as_slice()),
        };
        let (decision, mut reason) = evaluate::oauth2_proxy(token, &ctx, now);
        if assumed && client_id.is_some() {
            reason.push_str(&format!(
                " (client ID assumed to be {ENV_CLIENT_ID}; set `clientId` so kexpose checks against the one in the Secret)"
            ));
        }
        // Only the authorizers of the token's provider are expected to accept it.
        if aidp.name == idp.name
            && let Decision::Denied(status) = decision
        {
            let field = if reason.contains("audience") {
                if a.client_id.is_some() {
                    "clientId"
                } else {
                    "audiences"
                }
            } else {
                "identityProvider"
            };
            rep.diagnostics.push(
                Diagnostic::new(
                    Code::DoctorTokenDenied,
                    places.authorizer(&a.name, field),
                    format!(
                        "authorizer {} refuses the token ({status}): {reason}",
                        a.name
                    ),
                )
                .label("oauth2-proxy denies the real token"),
            );
        }
        rep.judgements.push(judgement(
            "authorizer",
            a.name.clone(),
            None,
            &decision,
            reason.clone(),
        ));
        proxy_decisions.insert(a.name.clone(), (decision, reason));
    }

    // Rules: every sample request explain picks, judged on the same mesh evaluation
    // (`Mesh::evaluate`), so doctor and explain cannot disagree on what a request needs.
    let token_issuer = idp.issuer.clone();
    let proxy_of_idp: BTreeSet<&str> = spec
        .authorizers
        .iter()
        .filter(|a| a.identity_provider.as_deref() == Some(idp.name.as_str()))
        .map(|a| a.name.as_str())
        .collect();
    let mut jwks: BTreeMap<String, Result<Keys, String>> = BTreeMap::new();
    for u in model.jwks_uris() {
        jwks.insert(u.to_string(), keys.get(u));
    }
    for s in samples(model) {
        let e = model.mesh.evaluate(&s.host, &s.methods[0], &s.path);
        let concerns = match &e.verdict {
            Verdict::Allowed {
                authorizers,
                grants,
            } => {
                grants
                    .iter()
                    .any(|g| g.is_public() || g.issuers.contains(&token_issuer))
                    || authorizers
                        .iter()
                        .any(|a| proxy_of_idp.contains(a.as_str()))
            }
            // Denied whatever the token: `check` names why (apirule-method-shadowed).
            Verdict::Forbidden | Verdict::NotFound => false,
        };
        // Every sample is judged and shown; only the rules this provider's tokens are meant
        // for (its issuer or its oauth2-proxy authorizers, or public) are findings.
        let (decision, reason) = evaluate::request(
            token,
            model,
            &e,
            &s.path,
            &|u| jwks.get(u).cloned(),
            &|a| proxy_decisions.get(a).cloned(),
            now,
        );
        let t = &model.mesh.translations[s.translation];
        let route = &t.virtual_service.http[s.route];
        let subject = format!("{} {}", s.methods.join(","), route.path);
        if concerns && let Decision::Denied(status) = decision {
            rep.diagnostics.push(
                Diagnostic::new(
                    Code::DoctorTokenDenied,
                    places.rule(&t.apirule, &route.path, &s.methods[0]),
                    format!(
                        "{} https://{}{}: the token is denied ({status}): {reason}",
                        s.methods.join(","),
                        s.host,
                        s.path
                    ),
                )
                .label("denies the real token"),
            );
        }
        let mut j = judgement("rule", subject, Some(s.host.clone()), &decision, reason);
        j.explain = Some(s.explain(model, &e));
        j.path = Some(s.path);
        rep.judgements.push(j);
    }
}

/// One sample request: a path `explain` samples a rule with, and the rule's methods that
/// share its verdict there.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Index of the translation (APIRule) in the mesh.
    pub translation: usize,
    /// Index of the route (rule).
    pub route: usize,
    /// The Host sent.
    pub host: String,
    /// Methods, in rule order.
    pub methods: Vec<String>,
    /// The path.
    pub path: String,
}

impl Sample {
    /// The line `explain` prints for this request (after `→`).
    pub fn explain(&self, model: &Model, e: &crate::mesh::eval::Evaluation<'_>) -> String {
        crate::mesh::explain::prediction(&model.mesh, &model.open_authorizers, e, &self.path)
    }
}

/// The sample requests of `explain`'s access table ([`crate::mesh::explain::samples`]), the
/// methods of a rule that share a path and verdict merged.
pub fn samples(model: &Model) -> Vec<Sample> {
    let mut out: Vec<(Sample, Verdict)> = Vec::new();
    for rs in crate::mesh::explain::samples(&model.mesh) {
        for (v, path) in rs.samples {
            match out.iter_mut().find(|(s, w)| {
                s.translation == rs.translation && s.route == rs.route && s.path == path && *w == v
            }) {
                Some((s, _)) => s.methods.push(rs.method.clone()),
                None => out.push((
                    Sample {
                        translation: rs.translation,
                        route: rs.route,
                        host: rs.host.clone(),
                        methods: vec![rs.method.clone()],
                        path,
                    },
                    v,
                )),
            }
        }
    }
    out.into_iter().map(|(s, _)| s).collect()
}

fn judgement(
    kind: &str,
    subject: String,
    host: Option<String>,
    d: &Decision,
    reason: String,
) -> Judgement {
    let (decision, status) = match d {
        Decision::Allowed => ("allowed", None),
        Decision::Denied(s) => ("denied", Some(*s)),
        Decision::Unknown => ("unknown", None),
    };
    Judgement {
        kind: kind.into(),
        subject,
        host,
        path: None,
        explain: None,
        decision: decision.into(),
        status,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_every_written_form() {
        let r = Report {
            secrets: vec!["a\"b|c\\d".into(), "x".into()],
            ..Report::default()
        };
        let json = serde_json::to_string(&"a\"b|c\\d").unwrap();
        assert_eq!(
            r.mask(&format!("raw a\"b|c\\d, json {json}")),
            "raw ****, json \"****\""
        );
        assert_eq!(r.mask("md a\"b\\|c\\d"), "md ****");
        // Too short to mask without destroying the text.
        assert_eq!(r.mask("x"), "x");
    }

    #[test]
    fn discovery_url_trims_one_slash_as_go_trimsuffix() {
        assert_eq!(
            discovery_url("https://a.example.com/"),
            "https://a.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://a.example.com//"),
            "https://a.example.com//.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://a.example.com/realms/x"),
            "https://a.example.com/realms/x/.well-known/openid-configuration"
        );
    }
}
