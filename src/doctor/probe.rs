//! `--probe`: send `explain`'s sample requests with and without the token and compare each
//! answer with `explain`'s prediction for the same request. Only safe methods (GET, HEAD)
//! are sent: a probe must not change anything in the workload.

use super::evaluate::Model;
use super::http::{Client, Failure};
use super::jwt::Token;
use super::{Judgement, Options, Places, ProbeReport, Report, samples};
use crate::diag::{Code, Diagnostic};
use crate::mesh::eval::{Evaluation, Verdict};
use crate::spec::Spec;

/// What a request should get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Reaches the workload: any status but 401/403.
    Passes,
    /// Refused by the mesh with this status.
    Denied(u16),
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Passes => f.write_str("passes (any status but 401/403)"),
            Expect::Denied(s) => write!(f, "denied with {s}"),
        }
    }
}

/// The status `explain`'s verdict predicts for a request without a token: the sidecar
/// asks the CUSTOM providers first (oauth2-proxy with `login-url: static://401` answers 401
/// without a session), then RBAC needs a request principal for every non-public grant
/// (`RBAC: access denied`, 403). `None`: kexpose cannot tell (another authorizer decides).
fn without_token(model: &Model, e: &Evaluation<'_>, path: &str) -> Option<Expect> {
    if crate::mesh::explain::passes_via_proxy(&model.open_authorizers, e, path) {
        return Some(Expect::Passes);
    }
    if crate::mesh::explain::static_denied_via_proxy(&model.open_authorizers, e, path) {
        // oauth2-proxy's file server answers 404 or 301, which Envoy returns as the denial:
        // neither 401/403 nor a pass of the workload, so the probe makes no claim.
        return None;
    }
    let proxy_401 = |a: &str| {
        model
            .authorizers
            .get(a)
            .and_then(|i| i.flags.as_ref())
            .and_then(|f| f.get("login-url"))
            .is_some_and(|u| u == "static://401")
    };
    if !e.custom.is_empty() {
        if e.custom.iter().any(|(_, a)| proxy_401(a)) {
            return Some(Expect::Denied(401));
        }
        return None;
    }
    match &e.verdict {
        Verdict::NotFound => Some(Expect::Passes),
        Verdict::Forbidden => Some(Expect::Denied(403)),
        Verdict::Allowed { grants, .. } if grants.iter().any(|g| g.is_public()) => {
            Some(Expect::Passes)
        }
        Verdict::Allowed { .. } => Some(Expect::Denied(403)),
    }
}

fn classify(status: u16) -> Expect {
    match status {
        401 | 403 => Expect::Denied(status),
        _ => Expect::Passes,
    }
}

/// How the token is sent for rules of the token's provider: `fromHeaders` / `fromParams`
/// of the spec (the prefix copied verbatim, as the controller does), else
/// `Authorization: Bearer`.
fn token_placement(spec: &Spec, token: &Token) -> (String, String, Option<String>) {
    let iss = token.string("iss").unwrap_or("");
    let idp = spec.identity_providers.iter().find(|p| p.issuer == iss);
    if let Some(h) = idp
        .and_then(|p| p.from_headers.as_ref())
        .and_then(|h| h.first())
    {
        let prefix = h.prefix.clone().unwrap_or_default();
        let sep = if prefix.is_empty() || prefix.ends_with(' ') {
            ""
        } else {
            " "
        };
        return (
            h.name.clone(),
            format!("{prefix}{sep}{}", token.raw()),
            None,
        );
    }
    if let Some(p) = idp
        .and_then(|p| p.from_params.as_ref())
        .and_then(|p| p.first())
    {
        return (String::new(), String::new(), Some(p.clone()));
    }
    (
        "Authorization".into(),
        format!("Bearer {}", token.raw()),
        None,
    )
}

/// Run the probes and record their reports and findings.
pub(super) fn run(
    spec: &Spec,
    model: &Model,
    token: Option<&Token>,
    judgements: &[Judgement],
    options: &Options,
    places: &Places<'_>,
    rep: &mut Report,
) -> Result<(), String> {
    let settings = super::http::Settings {
        connect_to: options.connect_to,
        ..options.http.clone()
    };
    let client = Client::new(&settings).map_err(|e| format!("--ca-file: {e}"))?;
    for sample in samples(model) {
        let t = &model.mesh.translations[sample.translation];
        let route = &t.virtual_service.http[sample.route];
        // GET if the rule allows it, else HEAD; other methods are not sent.
        let Some(method) = ["GET", "HEAD"]
            .into_iter()
            .find(|m| sample.methods.iter().any(|x| x == m))
        else {
            rep.notes.push(format!(
                "not probed: {} {} on {} (only GET and HEAD are sent)",
                sample.methods.join(","),
                sample.path,
                sample.host
            ));
            continue;
        };
        let e = model.mesh.evaluate(&sample.host, method, &sample.path);
        let explain = sample.explain(model, &e);
        let url = format!("https://{}{}", sample.host, sample.path);
        let subject = format!("{} {}", sample.methods.join(","), route.path);
        let mut cases: Vec<(bool, Option<(Expect, String)>)> = vec![(
            false,
            without_token(model, &e, &sample.path).map(|x| (x, format!("explain: {explain}"))),
        )];
        if token.is_some() {
            let j = judgements.iter().find(|j| {
                j.kind == "rule"
                    && j.subject == subject
                    && j.host.as_ref() == Some(&sample.host)
                    && j.path.as_ref() == Some(&sample.path)
            });
            let expect = j.and_then(|j| match (j.decision.as_str(), j.status) {
                ("allowed", _) => Some((Expect::Passes, format!("token allowed: {}", j.reason))),
                ("denied", Some(s)) => {
                    Some((Expect::Denied(s), format!("token denied: {}", j.reason)))
                }
                _ => None,
            });
            cases.push((true, expect));
        }
        for (with_token, expect) in cases {
            let mut headers: Vec<(String, String)> = Vec::new();
            let mut target = url.clone();
            if with_token && let Some(t) = token {
                let (name, value, param) = token_placement(spec, t);
                match param {
                    Some(p) => target = format!("{url}?{p}={}", t.raw()),
                    None => headers.push((name, value)),
                }
            }
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let result = if method == "HEAD" {
                client.head(&target, &h)
            } else {
                client.get(&target, &h)
            };
            let (status, error) = match result {
                Ok(a) => (Some(a.status), None),
                Err(Failure::Network(m)) => {
                    rep.network_error = true;
                    (None, Some(m))
                }
                Err(Failure::Body(m)) => (None, Some(m)),
            };
            let agrees = match (&expect, status) {
                (Some((x, _)), Some(s)) => *x == classify(s),
                (None, Some(_)) => true,
                (_, None) => false,
            };
            let expected = expect
                .as_ref()
                .map_or_else(|| "no prediction".to_string(), |(x, _)| x.to_string());
            let how = if with_token {
                "with the token"
            } else {
                "without a token"
            };
            match (status, &error) {
                (Some(s), _) if !agrees => {
                    let (x, why) = expect.clone().expect("disagreeing implies a prediction");
                    rep.diagnostics.push(
                        Diagnostic::new(
                            Code::DoctorProbeMismatch,
                            places.rule(&t.apirule, &route.path, method),
                            format!(
                                "{method} {url} {how}: explain predicts {x} ({why}), the live answer is {s}"
                            ),
                        )
                        .label("probed rule")
                        .help("the cluster does not enforce what the spec says: check that the rendered output is applied and synced, and what answered (gateway, sidecar, workload)"),
                    );
                }
                (None, Some(m)) => {
                    rep.diagnostics.push(Diagnostic::new(
                        Code::DoctorUnreachable,
                        places.rule(&t.apirule, &route.path, method),
                        format!("{method} {url} {how}: no answer: {m}"),
                    ).help("is the host's DNS set? --connect-to sends probes to the gateway's address"));
                }
                _ => {}
            }
            rep.probes.push(ProbeReport {
                method: method.to_string(),
                url: url.clone(),
                with_token,
                expected,
                status,
                agrees,
                error,
            });
        }
    }
    Ok(())
}
