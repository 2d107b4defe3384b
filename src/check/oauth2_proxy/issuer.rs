//! The identity provider's issuer as oauth2-proxy 7.15.3 reads it (`--oidc-issuer-url`).

use super::effective_args;
use crate::check::go_syntax::parse_bool;
use crate::check::{Ctx, HelpExt};
use crate::diag::Code;
use crate::spec::Authorizer;
use std::collections::HashSet;

pub(super) fn check_issuer(ctx: &mut Ctx, i: usize, a: &Authorizer, seen: &mut HashSet<usize>) {
    let Some(name) = a.identity_provider.as_deref() else {
        return;
    };
    let Some(p) = ctx
        .spec
        .identity_providers
        .iter()
        .position(|p| p.name == name)
    else {
        return; // dangling: reported by the reference checks
    };
    if !seen.insert(p) {
        return;
    }
    let args = effective_args(ctx, a);
    let on = |k: &str| args.get(k).and_then(|v| parse_bool(v)).unwrap_or(false);
    let discovery = !on("skip-oidc-discovery");
    let verify = !on("insecure-oidc-skip-issuer-verification");
    let issuer = &ctx.spec.identity_providers[p].issuer;
    let ptr = format!("/identityProviders/{p}/issuer");
    match issuer_finding(issuer, discovery, verify) {
        None => {}
        Some(IssuerFinding::Http) => {
            ctx.report(
                Code::Oauth2ProxyIssuerHttp,
                &ptr,
                format!("issuer `{issuer}` of identity provider `{name}` is plain http: oauth2-proxy fetches its discovery document and signing keys without TLS, so anyone on the path can substitute keys"),
            )
            .with_help("use the provider's https URL if it has one (the issuer must still equal the discovery document's `issuer`); keep http only for traffic that never leaves the cluster");
            let _ = i;
        }
        Some(IssuerFinding::Invalid { problem, help }) => {
            ctx.report(
                Code::Oauth2ProxyIssuerInvalid,
                &ptr,
                format!("oauth2-proxy exits at start with issuer `{issuer}` of identity provider `{name}`: {problem}"),
            )
            .with_help(help);
        }
    }
}

/// What is wrong with an issuer for oauth2-proxy.
enum IssuerFinding {
    /// oauth2-proxy exits at start: discovery fails, or its `issuer` differs.
    Invalid { problem: String, help: String },
    /// It runs over plain http.
    Http,
}

/// oauth2-proxy requests `<issuer minus a trailing />/.well-known/openid-configuration` and,
/// unless `insecure-oidc-skip-issuer-verification`, requires the document's `issuer` to equal the
/// configured string byte for byte (`pkg/providers/oidc/provider.go` `NewProvider`, v7.15.3).
/// Paths (Keycloak `/realms/x`, Entra ID `/<tenant>/v2.0`, Okta `/oauth2/<id>`, Cognito
/// `/<pool>`, Dex `/dex`) and trailing slashes (Auth0, Azure AD v1, Hydra) are legitimate: only
/// the provider knows its issuer. kexpose knows it for SAP Cloud Identity Services hosts, which
/// publish exactly `https://<host>`. An issuer that is not an absolute http(s) URL at all is
/// `identity-provider-issuer-invalid` (reference checks), for every provider.
fn issuer_finding(issuer: &str, discovery: bool, verify: bool) -> Option<IssuerFinding> {
    let (scheme, rest) = issuer.split_once("://")?;
    if !matches!(scheme, "http" | "https") || issuer.contains(char::is_whitespace) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.is_empty() {
        return None;
    }
    let invalid = |problem: &str, help: String| {
        Some(IssuerFinding::Invalid {
            problem: problem.to_string(),
            help,
        })
    };
    if discovery && issuer.contains(char::is_control) {
        return invalid(
            "it contains a control character, which Go's URL parser refuses",
            "remove the control character".into(),
        );
    }
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = match host_port.rfind(':') {
        Some(c) if !host_port[c..].contains(']') => &host_port[..c],
        _ => host_port,
    };
    if discovery && host.is_empty() {
        return invalid(
            "it has no host",
            "write the provider's issuer URL, e.g. `https://login.example.com`".into(),
        );
    }
    // Go's resolver (net `isDomainName`) accepts letters, digits, `-`, `_` and `.` only; an IP
    // literal needs no resolving. Any other host can never be reached.
    let ip_literal = host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok();
    if discovery
        && !ip_literal
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return invalid(
            "its host is not a name Go's resolver accepts (letters, digits, `-`, `_`, `.`), so discovery cannot reach it",
            "write the provider's issuer URL exactly as its discovery document states it".into(),
        );
    }
    let ias = ["accounts.ondemand.com", "accounts.cloud.sap"]
        .iter()
        .any(|s| {
            host.to_ascii_lowercase()
                .strip_suffix(s)
                .and_then(|h| h.strip_suffix('.'))
                .is_some_and(|t| !t.is_empty())
        });
    if ias && discovery && verify {
        let expected = format!("https://{}", host.to_ascii_lowercase());
        return (issuer != expected).then(|| IssuerFinding::Invalid {
            problem: "SAP Cloud Identity Services publishes exactly `https://<host>` as its issuer, and oauth2-proxy compares it byte for byte".into(),
            help: format!("write `issuer: {expected}`"),
        });
    }
    if discovery && authority.contains('@') {
        return invalid(
            "it has user information before the host, which the discovery document's `issuer` never has",
            "remove the `user@` part".into(),
        );
    }
    if discovery && (tail.starts_with('?') || tail.contains(['?', '#'])) {
        return invalid(
            "it has a query or fragment: oauth2-proxy appends `/.well-known/openid-configuration` to the issuer, which then lands in the query or fragment, so discovery fails",
            "remove the `?...` or `#...` part; write the issuer exactly as the provider's discovery document states it".into(),
        );
    }
    (scheme == "http").then_some(IssuerFinding::Http)
}
