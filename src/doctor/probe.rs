//! `--probe`: request the exposed URLs with and without the token and compare each answer
//! with the model's prediction. Only safe methods (GET, HEAD) are sent: a probe must not
//! change anything in the workload.

use super::http::{Client, Failure};
use super::jwt::Token;
use super::rules::{Access, Model};
use super::{Judgement, Options, Places, ProbeReport, Report, groups, sample_path};
use crate::diag::{Code, Diagnostic};
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

/// The model's prediction for a request without a token.
fn without_token(model: &Model, access: &Access) -> Option<(Expect, String)> {
    match access {
        Access::Public => Some((Expect::Passes, "public rule".into())),
        // RequestAuthentication lets a request without a token through; the ALLOW policy
        // needs a request principal: 403 `RBAC: access denied`.
        Access::Jwt { .. } => Some((
            Expect::Denied(403),
            "jwt rule: no token, no request principal (RBAC: access denied)".into(),
        )),
        Access::ExtAuth { authorizers, .. } => {
            // The CUSTOM check comes first: oauth2-proxy with `login-url: static://401`
            // answers 401 without a session.
            let proxy_401 = authorizers.iter().any(|a| {
                model
                    .authorizers
                    .get(a)
                    .and_then(|i| i.flags.as_ref())
                    .and_then(|f| f.get("login-url"))
                    .is_some_and(|u| u == "static://401")
            });
            if proxy_401 {
                Some((
                    Expect::Denied(401),
                    "extAuth: oauth2-proxy answers 401 without a token (login-url static://401)"
                        .into(),
                ))
            } else {
                None
            }
        }
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
    for g in groups(model) {
        // GET if the rule allows it, else HEAD; other methods are not sent.
        let Some(&index) = g
            .iter()
            .find(|&&j| model.entries[j].method == "GET")
            .or_else(|| g.iter().find(|&&j| model.entries[j].method == "HEAD"))
        else {
            let e = &model.entries[g[0]];
            rep.notes.push(format!(
                "not probed: {} {} on {} (only GET and HEAD are sent)",
                g.iter()
                    .map(|&j| model.entries[j].method.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                e.path,
                e.host
            ));
            continue;
        };
        let e = &model.entries[index];
        let Some(path) = sample_path(model, index) else {
            rep.notes.push(format!(
                "not probed: {} {} on {}: every sample path is taken by an earlier rule",
                e.method, e.path, e.host
            ));
            continue;
        };
        let host = match e.host.strip_prefix("*.") {
            Some(rest) => format!("kexpose-probe.{rest}"),
            None => e.host.clone(),
        };
        let url = format!("https://{host}{path}");
        let methods: Vec<&str> = g
            .iter()
            .map(|&j| model.entries[j].method.as_str())
            .collect();
        let subject = format!("{} {}", methods.join(","), e.path);
        let mut cases: Vec<(bool, Option<(Expect, String)>)> =
            vec![(false, without_token(model, &e.access))];
        if let Some(t) = token {
            let j = judgements.iter().find(|j| {
                j.kind == "rule" && j.subject == subject && j.host.as_ref() == Some(&e.host)
            });
            let expect = j.and_then(|j| match (j.decision.as_str(), j.status) {
                ("allowed", _) => Some((Expect::Passes, format!("token allowed: {}", j.reason))),
                ("denied", Some(s)) => {
                    Some((Expect::Denied(s), format!("token denied: {}", j.reason)))
                }
                _ => None,
            });
            let _ = t;
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
            let result = if e.method == "HEAD" {
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
                            places.rule(&e.apirule, &e.path, &e.method),
                            format!(
                                "{} {url} {how}: the model predicts {x} ({why}), the live answer is {s}",
                                e.method
                            ),
                        )
                        .label("probed rule")
                        .help("the cluster does not enforce what the spec says: check that the rendered output is applied and synced, and what answered (gateway, sidecar, workload)"),
                    );
                }
                (None, Some(m)) => {
                    rep.diagnostics.push(Diagnostic::new(
                        Code::DoctorUnreachable,
                        places.rule(&e.apirule, &e.path, &e.method),
                        format!("{} {url} {how}: no answer: {m}", e.method),
                    ).help("is the host's DNS set? --connect-to sends probes to the gateway's address"));
                }
                _ => {}
            }
            rep.probes.push(ProbeReport {
                method: e.method.clone(),
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
