//! The identity provider's issuer as oauth2-proxy 7.15.3 reads it (`--oidc-issuer-url`).

use crate::check::{Ctx, HelpExt};
use crate::diag::Code;
use crate::spec::Authorizer;
use std::collections::HashSet;

pub(super) fn check_issuer(ctx: &mut Ctx, a: &Authorizer, seen: &mut HashSet<usize>) {
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
    let issuer = &ctx.spec.identity_providers[p].issuer;
    if let Some(problem) = issuer_problem(issuer) {
        ctx.report(
            Code::Oauth2ProxyIssuerInvalid,
            &format!("/identityProviders/{p}/issuer"),
            format!(
                "oauth2-proxy cannot use issuer `{issuer}` of identity provider `{name}`: {problem}"
            ),
        )
        .with_help(
            "oauth2-proxy reads <issuer>/.well-known/openid-configuration and compares its \
             `issuer` with --oidc-issuer-url byte for byte; write `https://<host>` exactly as the \
             discovery document says it, e.g. `https://my-tenant.accounts.ondemand.com`",
        );
    }
}

/// Why oauth2-proxy would reject (or never match) this issuer, if it would. An issuer that is
/// not an absolute http(s) URL at all is `identity-provider-issuer-invalid` (reference checks),
/// for every provider; it is not reported twice.
pub(super) fn issuer_problem(issuer: &str) -> Option<&'static str> {
    let authority = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    if authority.is_none_or(str::is_empty) || issuer.contains(char::is_whitespace) {
        return None;
    }
    if issuer.contains(char::is_control) {
        return Some("it contains a control character");
    }
    let Some(rest) = issuer.strip_prefix("https://") else {
        return Some("it is `http://`, not `https://`");
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return Some("it has user information before the host");
    }
    let (host, port) = match authority.rfind(':') {
        Some(c) if !authority[c..].contains(']') => (&authority[..c], Some(&authority[c + 1..])),
        _ => (authority, None),
    };
    if host.is_empty() {
        return Some("it has no host");
    }
    let host_ok = if let Some(v6) = host.strip_prefix('[') {
        v6.strip_suffix(']').is_some_and(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        })
    } else {
        host.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    };
    if !host_ok {
        return Some("its host is not a valid host name");
    }
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) || port.len() > 5)
    {
        return Some("its port is not a number");
    }
    match tail.as_bytes().first() {
        None => None,
        Some(b'/') if tail == "/" => Some("it has a trailing slash"),
        Some(b'/') => Some("it has a path"),
        Some(b'?') => Some("it has a query"),
        _ => Some("it has a fragment"),
    }
}
