//! oauth2-proxy 7.15.3 (chart 10.7.0): what makes the process exit at start, or deny every
//! request later, caught before anything is deployed.
//!
//! Flags are checked twice: each `extraArgs` entry as written (name, boolean syntax, template
//! and line-break safety), then the *effective* flags ([`crate::plan::oauth2_proxy_args`]: the
//! tutorial's, hardened, plus `audiences` and `extraArgs`) for combinations that fail. A finding
//! about an effective flag points at the `extraArgs` value when the user set it, else at the
//! authorizer's name (the default came from kexpose).
//!
//! `extraArgs` values may hold secrets: no message ever quotes one, only its key.

use super::edit_distance;
use super::go_syntax::{parse_bool, parse_int, split_csv};
use super::oauth2_proxy_flags::{FLAGS, FlagKind, lookup};
use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::spec::{Authorizer, AuthorizerType};
use crate::yaml::escape_token;
use indexmap::IndexMap;
use std::collections::HashSet;

/// Credential flags: the chart passes them from the credentials Secret (`proxyVarsAsSecrets`),
/// and kexpose never writes a secret into its output (a kexpose rule, not oauth2-proxy's).
const SECRET_FLAGS: &[&str] = &[
    "client-id",
    "client-secret",
    "client-secret-file",
    "cookie-secret",
    "cookie-secret-file",
];

/// Listen addresses chart 10.7.0 renders itself (`templates/deployment.yaml`, alphaConfig off,
/// `metrics.enabled` true by default) and points its Service, probes and metrics port at. pflag
/// keeps the last value of a repeated flag and extraArgs come after these, so another value
/// moves the listener away from them (the pod never becomes ready); the same value is harmless.
const CHART_ADDRESSES: &[(&str, &str)] = &[
    ("http-address", "0.0.0.0:4180"),
    ("metrics-address", "0.0.0.0:44180"),
];

/// oauth2-proxy's accepted `cookie-samesite` values (`pkg/validation/cookie.go`).
const SAMESITE_VALUES: &[&str] = &["", "lax", "strict", "none"];

/// The one upstream an ext_authz authorizer may have: Envoy allows the request only on 200.
const STATIC_UPSTREAM: &str = "static://200";

/// An extAuth restriction through an oauth2-proxy authorizer that knows its `clientId` and
/// requires an audience oauth2-proxy itself does not accept: oauth2-proxy answers 401 to tokens
/// that carry only that audience, before the restriction is ever evaluated.
fn check_restriction_audiences(ctx: &mut Ctx) {
    let spec = ctx.spec;
    for (w, wl) in spec.workloads.iter().enumerate() {
        for (r, rule) in wl.rules.iter().enumerate() {
            let Some(ext) = &rule.ext_auth else { continue };
            let req = ext.requirements();
            let mut required: Vec<(String, &String)> = Vec::new();
            for (k, a) in req.audiences.iter().flatten().enumerate() {
                required.push((format!("/workloads/{w}/rules/{r}/extAuth/audiences/{k}"), a));
            }
            for (n, auth) in req.authorizations.iter().flatten().enumerate() {
                for (k, a) in auth.audiences.iter().flatten().enumerate() {
                    required.push((
                        format!(
                            "/workloads/{w}/rules/{r}/extAuth/authorizations/{n}/audiences/{k}"
                        ),
                        a,
                    ));
                }
            }
            for name in &ext.authorizers {
                let Some(authorizer) = spec.authorizers.iter().find(|a| &a.name == name) else {
                    continue;
                };
                let Some(client_id) = authorizer
                    .client_id
                    .as_ref()
                    .filter(|_| authorizer.kind == AuthorizerType::Oauth2Proxy)
                else {
                    continue;
                };
                let accepted: Vec<&String> = std::iter::once(client_id)
                    .chain(authorizer.audiences.iter().flatten())
                    .collect();
                for (ptr, aud) in &required {
                    if !accepted.contains(aud) {
                        ctx.report(
                            Code::Oauth2ProxyAudienceMismatch,
                            ptr,
                            format!("audience `{aud}` is required here, but oauth2-proxy `{name}` accepts only tokens for {}: it answers 401 first", accepted.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")),
                        )
                        .with_help(format!("add `{aud}` to the `audiences` of authorizer `{name}`"));
                    }
                }
            }
        }
    }
}

pub(crate) fn check(ctx: &mut Ctx) {
    check_restriction_audiences(ctx);
    let mut issuers_seen = HashSet::new();
    for (i, a) in ctx.spec.authorizers.iter().enumerate() {
        if let Some(t) = &a.timeout {
            check_timeout(ctx, i, t);
        }
        if a.kind != AuthorizerType::Oauth2Proxy {
            continue;
        }
        check_issuer(ctx, i, a, &mut issuers_seen);
        check_extra_args(ctx, i, a);
        check_audiences(ctx, i, a);
        check_effective_args(ctx, i, a);
        super::oauth2_proxy_start::check(ctx, i, a);
        check_in_check_include(ctx, i, a);
    }
}

// ---------------------------------------------------------------------------------------------
// shared with `security`

/// The flags this authorizer's oauth2-proxy runs with. A dangling identity provider reference
/// (reported elsewhere) gives an empty issuer.
pub(super) fn effective_args(ctx: &Ctx, a: &Authorizer) -> IndexMap<String, String> {
    let issuer = a
        .identity_provider
        .as_deref()
        .and_then(|name| ctx.idp(name))
        .map_or("", |p| p.issuer.as_str());
    crate::plan::oauth2_proxy_args(a, issuer, cluster_domain(ctx))
}

/// Where a finding about effective flag `key` of authorizer `i` points: the `extraArgs` value
/// when the user set it, else the authorizer's name.
pub(super) fn arg_ptr(i: usize, a: &Authorizer, key: &str) -> String {
    if a.extra_args.as_ref().is_some_and(|e| e.contains_key(key)) {
        extra_arg_ptr(i, key)
    } else {
        format!("/authorizers/{i}/name")
    }
}

fn extra_arg_ptr(i: usize, key: &str) -> String {
    format!("/authorizers/{i}/extraArgs/{}", escape_token(key))
}

fn cluster_domain<'a>(ctx: &Ctx<'a>) -> Option<&'a str> {
    ctx.spec
        .cluster
        .as_ref()
        .and_then(|c| c.domain.as_deref())
        .filter(|d| !d.is_empty())
}

// ---------------------------------------------------------------------------------------------
// issuer

fn check_issuer(ctx: &mut Ctx, i: usize, a: &Authorizer, seen: &mut HashSet<usize>) {
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

// ---------------------------------------------------------------------------------------------
// extraArgs as written

fn check_extra_args(ctx: &mut Ctx, i: usize, a: &Authorizer) {
    let Some(extra) = &a.extra_args else {
        return;
    };
    for (key, value) in extra {
        let ptr = extra_arg_ptr(i, key);
        let value = value.to_flag_value();
        if value.contains("{{") {
            ctx.report(
                Code::Oauth2ProxyUnsafeValue,
                &ptr,
                format!("the value of `{key}` contains `{{{{`: the chart renders every extraArgs value through Helm's `tpl`"),
            )
            .with_help("oauth2-proxy flags never need template syntax; write the literal value");
        }
        if value.contains(['\n', '\r']) {
            ctx.report(
                Code::Oauth2ProxyUnsafeValue,
                &ptr,
                format!("the value of `{key}` contains a line break: it breaks the container argument the chart renders"),
            )
            .with_help("write the value on one line; list flags take comma-separated values");
        }
        if let Some(owned) = SECRET_FLAGS.iter().find(|f| **f == key.as_str()) {
            let help = owned_help(owned, a);
            ctx.report_key(
                Code::Oauth2ProxyOwnedFlag,
                &ptr,
                format!("`{key}` comes from the credentials Secret: kexpose never writes credentials into the Helm values"),
            )
            .with_help(help);
            continue;
        }
        if let Some((_, chart)) = CHART_ADDRESSES.iter().find(|(f, _)| *f == key.as_str()) {
            if value != *chart {
                ctx.report(
                    Code::Oauth2ProxyOwnedFlag,
                    &ptr,
                    format!("chart 10.7.0 passes `--{key}={chart}` and points its Service and probes there; this later value wins and moves the listener away, so the pod never becomes ready"),
                )
                .with_help(format!("remove `{key}` (or write `{chart}`, the chart's own value)"));
            }
            continue;
        }
        if key == "alpha-config" {
            ctx.report_key(
                Code::Oauth2ProxyOwnedFlag,
                &ptr,
                "`alpha-config`: the chart passes --alpha-config itself only when its alphaConfig is enabled, which kexpose does not do, and the file would not exist in the pod",
            )
            .with_help("remove the key; express the settings as extraArgs flags");
            continue;
        }
        if key == "config" {
            ctx.report_key(
                Code::Oauth2ProxyFlagIgnored,
                &ptr,
                "`config` is ignored: chart 10.7.0 passes its own `--config=/etc/oauth2_proxy/oauth2_proxy.cfg` after extraArgs, and the last value wins",
            )
            .with_help("remove the key; express the settings as extraArgs flags");
            continue;
        }
        match lookup(key) {
            None => report_unknown_flag(ctx, &ptr, key),
            // pflag parses booleans with Go's strconv.ParseBool.
            Some(FlagKind::Bool) if parse_bool(&value).is_none() => {
                ctx.report(
                    Code::Oauth2ProxyBoolFlag,
                    &ptr,
                    format!(
                        "oauth2-proxy exits at start: `{key}` is a boolean flag, and Go's ParseBool accepts only true/false, 1/0, t/f, T/F, TRUE/FALSE, True/False"
                    ),
                )
                .with_help(format!("write `{key}: \"true\"` or `{key}: \"false\"`"));
            }
            // pflag parses integers with strconv.ParseInt(s, 0, 64).
            Some(FlagKind::Int) if parse_int(&value).is_none() => {
                ctx.report(
                    Code::Oauth2ProxyFlagValue,
                    &ptr,
                    format!("`{key}` takes an integer: oauth2-proxy exits at start when it cannot parse the value"),
                )
                .with_help(format!("write a whole number without spaces, e.g. `{key}: \"3\"`"));
            }
            Some(FlagKind::Duration) if parse_go_duration(&value).is_none() => {
                ctx.report(
                    Code::Oauth2ProxyFlagValue,
                    &ptr,
                    format!("`{key}` takes a duration: oauth2-proxy exits at start when it cannot parse the value"),
                )
                .with_help(format!("write a Go duration, e.g. `{key}: \"168h\"` or `\"30m\"`"));
            }
            Some(_) => {}
        }
    }
}

/// `audiences` become `--oidc-extra-audience`, an extraArgs value like any other.
fn check_audiences(ctx: &mut Ctx, i: usize, a: &Authorizer) {
    for (j, aud) in a.audiences.iter().flatten().enumerate() {
        if aud.contains("{{") || aud.contains(['\n', '\r']) {
            ctx.report(
                Code::Oauth2ProxyUnsafeValue,
                &format!("/authorizers/{i}/audiences/{j}"),
                "an audience with `{{` or a line break: it becomes part of --oidc-extra-audience, \
                 which the chart renders through Helm's `tpl`",
            )
            .with_help("write the audience exactly as the tokens' `aud` claim says it");
        } else if aud.contains([',', '"']) {
            ctx.report(
                Code::Oauth2ProxyUnsafeValue,
                &format!("/authorizers/{i}/audiences/{j}"),
                "an audience with `,` or `\"`: --oidc-extra-audience is a comma-separated list, so \
                 oauth2-proxy would split it, or fail to parse it and exit",
            )
            .with_help("list each audience as its own entry; audiences cannot contain `,` or `\"`");
        }
    }
}

fn owned_help(_flag: &str, a: &Authorizer) -> String {
    format!(
        "credentials go in the Secret named by `credentialsSecret` (here `{}`, keys client-id, \
         client-secret, cookie-secret); the chart passes them to oauth2-proxy, and secrets never \
         belong in the spec",
        crate::plan::credentials_secret(a)
    )
}

fn report_unknown_flag(ctx: &mut Ctx, ptr: &str, key: &str) {
    // A key such as `cookie-secure=true` carries a value: name only the flag part.
    let (name, has_eq) = match key.split_once('=') {
        Some((n, _)) => (n, true),
        None => (key, false),
    };
    let bare = name.trim_start_matches('-');
    let help = if has_eq {
        Some(format!(
            "write the flag name as the key and its value after the colon: `{bare}: \"...\"`"
        ))
    } else if bare != name && lookup(bare).is_some() {
        Some(format!(
            "extraArgs keys are written without the leading `--`: the chart adds it; write `{bare}`"
        ))
    } else {
        did_you_mean(bare).map(|f| format!("did you mean `{f}`?"))
    };
    let help = match help {
        Some(h) => h,
        None if bare != name => {
            "extraArgs keys are written without the leading `--`: the chart adds it".into()
        }
        None => "see `oauth2-proxy --help` (version 7.15.3) for the flags it accepts".into(),
    };
    ctx.report_key(
        Code::Oauth2ProxyUnknownFlag,
        ptr,
        format!(
            "oauth2-proxy exits at start: unknown flag --{}",
            name.trim_start_matches('-')
        ),
    )
    .with_help(help);
}

/// The closest real flag, when it is close enough to be a typo.
fn did_you_mean(name: &str) -> Option<&'static str> {
    let norm = name.to_ascii_lowercase().replace('_', "-");
    if lookup(&norm).is_some() {
        return FLAGS.iter().map(|(f, _)| *f).find(|f| *f == norm);
    }
    let limit = if norm.chars().count() >= 12 { 3 } else { 2 };
    FLAGS
        .iter()
        .map(|(f, _)| (edit_distance(&norm, f), *f))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, f)| f)
}

// ---------------------------------------------------------------------------------------------
// effective flags

fn check_effective_args(ctx: &mut Ctx, i: usize, a: &Authorizer) {
    let args = effective_args(ctx, a);
    let get = |k: &str| args.get(k).map(String::as_str);
    let user_set = |k: &str| a.extra_args.as_ref().is_some_and(|e| e.contains_key(k));

    if get("upstream").is_some_and(|u| u != STATIC_UPSTREAM) {
        ctx.report(
            Code::Oauth2ProxyUpstream,
            &arg_ptr(i, a, "upstream"),
            format!("`upstream` is not `{STATIC_UPSTREAM}`: Envoy's ext_authz allows a request only when the authorizer answers 200, so every call is denied"),
        )
        .with_help("remove `upstream` from extraArgs; the workload is reached through the APIRule, not through oauth2-proxy");
    }

    if let Some(samesite) = get("cookie-samesite") {
        if !SAMESITE_VALUES.contains(&samesite) {
            ctx.report(
                Code::Oauth2ProxyCookieSamesite,
                &arg_ptr(i, a, "cookie-samesite"),
                "oauth2-proxy exits at start: `cookie-samesite` must be one of \"\", lax, strict, none",
            )
            .with_help("write `cookie-samesite: \"lax\"` (the tutorial's value), or remove the key");
        } else if samesite == "none" && !get("cookie-secure").and_then(parse_bool).unwrap_or(true) {
            // It starts (pkg/validation/cookie.go accepts it); browsers then drop the cookie.
            ctx.report(
                Code::Oauth2ProxyCookieSamesiteInsecure,
                &arg_ptr(i, a, "cookie-samesite"),
                "`cookie-samesite: none` without a secure cookie: browsers drop a SameSite=None cookie that is not Secure, so browser sessions never stick",
            )
            .with_help("remove `cookie-secure` from extraArgs (kexpose's default is \"true\"), or use `cookie-samesite: \"lax\"`");
        }
    }

    if let Some(wl) = get("whitelist-domain") {
        check_whitelist(ctx, i, a, wl, user_set("whitelist-domain"));
    }

    // pkg/providers/oidc/provider_verifier.go ProviderVerifierOptions.validate: a JWKS URL or
    // public key files (for the providers that build an OIDC verifier).
    if get("skip-oidc-discovery").and_then(parse_bool) == Some(true)
        && matches!(
            get("provider").unwrap_or("google"),
            "oidc" | "adfs" | "azure" | "cidaas" | "gitlab" | "keycloak-oidc" | "entra-id"
        )
        && get("oidc-jwks-url").is_none_or(str::is_empty)
        && get("oidc-public-key-file").is_none_or(str::is_empty)
    {
        ctx.report(
            Code::Oauth2ProxySkipDiscoveryWithoutJwks,
            &arg_ptr(i, a, "skip-oidc-discovery"),
            "oauth2-proxy exits at start: `skip-oidc-discovery: \"true\"` needs `oidc-jwks-url` (or `oidc-public-key-file`) to verify tokens",
        )
        .with_help("add `oidc-jwks-url: \"<the provider's JWKS URL>\"` to extraArgs, or remove `skip-oidc-discovery`");
    }

    // Groups and email are in the ID tokens of browser logins, not in client-credentials
    // tokens: the warnings apply to bearer-only authorizers (no browser-login settings).
    let browser_login = ["redirect-url", "code-challenge-method"]
        .iter()
        .any(|k| user_set(k) && get(k).is_some_and(|v| !v.is_empty()))
        || (user_set("login-url") && get("login-url").is_some_and(|v| v != "static://401"));

    if !browser_login && get("allowed-group").is_some_and(|g| !g.is_empty()) {
        ctx.report(
            Code::Oauth2ProxyAllowedGroup,
            &arg_ptr(i, a, "allowed-group"),
            "`allowed-group` on an authorizer without browser logins: client-credentials tokens carry no groups, so oauth2-proxy denies every call",
        )
        .with_help("restrict access with `extAuth.requiredScopes`/`audiences` on the rules instead; for browser logins set `redirect-url`");
    }

    if get("allowed-role").is_some_and(|r| !r.is_empty()) && get("provider") == Some("oidc") {
        ctx.report(
            Code::Oauth2ProxyAllowedRole,
            &arg_ptr(i, a, "allowed-role"),
            "`allowed-role` is ignored with `provider: oidc`: only the keycloak-oidc provider reads it, so every token is accepted",
        )
        .with_help("restrict access with `extAuth.requiredScopes`/`audiences` on the rules instead");
    }

    if !browser_login
        && user_set("email-domain")
        && let Some(ed) = get("email-domain")
        && !ed.is_empty()
        && !ed.split(',').any(|d| d.trim() == "*")
    {
        ctx.report(
            Code::Oauth2ProxyEmailDomain,
            &arg_ptr(i, a, "email-domain"),
            "`email-domain` without `*`: client-credentials tokens carry no email, oauth2-proxy uses `sub` instead, and every call gets 403",
        )
        .with_help("remove `email-domain` (the chart's default is `*`)");
    }
}

/// Can a `whitelist-domain` entry ever match a redirect URL's host? oauth2-proxy never refuses
/// an entry; it splits `host:port` (`pkg/util/util.go` `SplitHostPort`, `:*` any port, `[v6]`)
/// and compares the host with the redirect URL's hostname (`IsEndpointAllowed`), so an entry
/// whose host cannot be a URL hostname (a scheme, a path, a space) never matches.
fn whitelist_entry_can_match(entry: &str) -> bool {
    if entry.is_empty() {
        return true; // skipped by oauth2-proxy, harmless
    }
    let host = match entry.rfind(':') {
        Some(c) if entry[c + 1..] == *"*" || entry[c + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            &entry[..c]
        }
        _ => entry,
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let host = host
        .strip_prefix("*.")
        .or_else(|| host.strip_prefix('.'))
        .unwrap_or(host);
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%:".contains(&b))
}

fn check_whitelist(ctx: &mut Ctx, i: usize, a: &Authorizer, value: &str, user_set: bool) {
    let entries = split_csv(value).unwrap_or_default();
    let bad: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| !whitelist_entry_can_match(e))
        .map(|(n, _)| n + 1)
        .collect();
    if bad.is_empty() {
        return;
    }
    if user_set {
        let which = bad
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        ctx.report(
            Code::Oauth2ProxyWhitelistDomain,
            &arg_ptr(i, a, "whitelist-domain"),
            format!(
                "`whitelist-domain` entry {which} (counting the comma-separated entries from 1) can never match a redirect host: oauth2-proxy refuses redirects back to it"
            ),
        )
        .with_help("each entry is `domain`, `.domain` or `*.domain`, optionally with `:port` or `:*`, separated by commas without spaces");
    } else if ctx
        .spec
        .cluster
        .as_ref()
        .and_then(|c| c.domain.as_deref())
        .is_none_or(str::is_empty)
    {
        // (An invalid `cluster.domain` is reported where it is written.)
        ctx.report(
            Code::Oauth2ProxyWhitelistDomain,
            &arg_ptr(i, a, "whitelist-domain"),
            format!(
                "the default `whitelist-domain` of authorizer `{}` is `{value}`, which matches no host: `cluster.domain` is not set",
                a.name
            ),
        )
        .with_help("set `cluster.domain` (the Kyma cluster domain), or set `whitelist-domain` in extraArgs");
    }
}

// ---------------------------------------------------------------------------------------------
// timeout and headers

fn check_timeout(ctx: &mut Ctx, i: usize, t: &str) {
    let ptr = format!("/authorizers/{i}/timeout");
    const HELP: &str = "Kyma truncates the authorizer timeout to whole seconds (`500ms` becomes \
                        `0s`); write whole seconds such as `5s` or `1m30s`";
    match parse_go_duration(t) {
        None => {
            ctx.report(
                Code::AuthorizerTimeoutWholeSeconds,
                &ptr,
                format!("authorizer timeout `{t}` is not a duration: write a number with a unit, such as `5s`"),
            )
            .with_help(HELP);
        }
        Some(ns) if ns <= 0 => {
            ctx.report(
                Code::AuthorizerTimeoutWholeSeconds,
                &ptr,
                format!("authorizer timeout `{t}` must be more than 0 seconds"),
            )
            .with_help(HELP);
        }
        Some(ns) if ns % 1_000_000_000 != 0 => {
            ctx.report(
                Code::AuthorizerTimeoutWholeSeconds,
                &ptr,
                format!(
                    "authorizer timeout `{t}` is not a whole number of seconds: Kyma makes it `{}s`",
                    ns / 1_000_000_000
                ),
            )
            .with_help(HELP);
        }
        Some(_) => {}
    }
}

/// Go's `time.ParseDuration`: the duration in nanoseconds, or `None` when Go rejects it.
pub(super) fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..frac_len];
            rest = &r[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(n, _)| n);
        let unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut value = int.checked_mul(unit)?;
        if !frac_part.is_empty() {
            // Exact, where Go uses a float: only sub-nanosecond digits can differ.
            let digits = &frac_part[..frac_part.len().min(30)];
            let f: u128 = digits.parse().ok()?;
            let scale = 10u128.checked_pow(u32::try_from(digits.len()).ok()?)?;
            value = value.checked_add(f.checked_mul(unit)? / scale)?;
        }
        total = total.checked_add(value)?;
        if total > i64::MAX as u128 {
            return None;
        }
    }
    let total = i64::try_from(total).ok()?;
    Some(if neg { -total } else { total })
}

fn check_in_check_include(ctx: &mut Ctx, i: usize, a: &Authorizer) {
    let Some(include) = a
        .headers
        .as_ref()
        .and_then(|h| h.in_check.as_ref())
        .and_then(|c| c.include.as_ref())
    else {
        return;
    };
    if include
        .iter()
        .any(|h| h.eq_ignore_ascii_case("authorization"))
    {
        return;
    }
    ctx.report(
        Code::AuthorizerIncludeAuthorization,
        &format!("/authorizers/{i}/headers/inCheck/include"),
        format!(
            "`headers.inCheck.include` of authorizer `{}` lacks `authorization`: Envoy never forwards the token, so oauth2-proxy denies every call",
            a.name
        ),
    )
    .with_help("add `authorization` to the list (the default is [x-forwarded-for, cookie, authorization])");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    const MINE: &[Code] = &[
        Code::Oauth2ProxyIssuerInvalid,
        Code::Oauth2ProxyIssuerHttp,
        Code::Oauth2ProxyUnknownFlag,
        Code::Oauth2ProxyOwnedFlag,
        Code::Oauth2ProxyBoolFlag,
        Code::Oauth2ProxyUnsafeValue,
        Code::Oauth2ProxyUpstream,
        Code::Oauth2ProxyCookieSamesite,
        Code::Oauth2ProxyWhitelistDomain,
        Code::Oauth2ProxySkipDiscoveryWithoutJwks,
        Code::Oauth2ProxyAllowedGroup,
        Code::Oauth2ProxyAllowedRole,
        Code::Oauth2ProxyEmailDomain,
        Code::AuthorizerTimeoutWholeSeconds,
        Code::AuthorizerIncludeAuthorization,
    ];

    /// A tutorial-like spec; `{AUTH}` is replaced by extra lines of the authorizer (indented
    /// by 4 spaces), `{IDP}` by extra lines of the identity provider.
    const BASE: &str = "\
apiVersion: kexpose.dev/v1alpha1
kind: Exposure
cluster:
  domain: c-1a2b3c.kyma.ondemand.com
identityProviders:
  - name: ias
    issuer: https://my-tenant.accounts.ondemand.com
authorizers:
  - name: oauth2-proxy
    type: oauth2-proxy
    identityProvider: ias
{AUTH}workloads:
  - name: httpbin
    namespace: httpbin-system
    host: httpbin
    service: { name: httpbin, port: 8000 }
    rules:
      - path: /*
        methods: [GET]
        extAuth:
          authorizers: [oauth2-proxy]
";
    /// Line of the first `{AUTH}` line in `BASE`.
    const AUTH_LINE: usize = 12;

    fn spec(auth: &str) -> String {
        BASE.replace("{AUTH}", auth)
    }

    fn diags(text: &str) -> Vec<(Code, usize, usize)> {
        let checked = crate::check::check(&SourceFile::new("t.yaml", text));
        assert!(
            checked.spec.is_some(),
            "spec must be schema-valid: {:#?}",
            checked.diagnostics
        );
        checked
            .diagnostics
            .iter()
            .filter(|d| MINE.contains(&d.code))
            .map(|d| {
                let s = d.span.expect("located");
                (d.code, s.line, s.col)
            })
            .collect()
    }

    fn messages(text: &str) -> Vec<String> {
        crate::check::check(&SourceFile::new("t.yaml", text))
            .diagnostics
            .iter()
            .filter(|d| MINE.contains(&d.code))
            .map(|d| format!("{} {}", d.message, d.help.as_deref().unwrap_or("")))
            .collect()
    }

    #[test]
    fn tutorial_like_spec_is_clean() {
        assert_eq!(diags(&spec("")), vec![]);
        let tutorial = spec(
            "    namespace: oauth2-proxy\n    pathPrefix: \"\"\n    timeout: 5s\n    \
             headers:\n      inCheck:\n        include: [x-forwarded-for, cookie, Authorization]\n    \
             extraArgs:\n      cookie-secure: \"false\"\n      email-domain: \"*\"\n      \
             skip-oidc-discovery: false\n      cookie-expire: 1h\n",
        );
        assert_eq!(diags(&tutorial), vec![]);
    }

    #[test]
    fn issuer_errors_only_where_oauth2_proxy_exits_reported_once() {
        for bad in [
            // SAP Cloud Identity Services publishes exactly https://<host>.
            "http://my-tenant.accounts.ondemand.com",
            "https://my-tenant.accounts.ondemand.com/",
            "https://my-tenant.accounts.ondemand.com/oauth2",
            // Discovery cannot work.
            "https://login.example.com?x=1",
            "https://login.example.com/realms/x#f",
            "https://u@login.example.com",
            "https://:443",
        ] {
            let text = spec("")
                .replace("https://my-tenant.accounts.ondemand.com", bad)
                .replace(
                    "workloads:",
                    "  - name: second-proxy\n    type: oauth2-proxy\n    identityProvider: ias\nworkloads:",
                );
            assert_eq!(
                diags(&text),
                vec![(Code::Oauth2ProxyIssuerInvalid, 7, 13)],
                "{bad}"
            );
        }
        // Not a URL at all: the reference checks report it (identity-provider-issuer-invalid).
        for not_url in ["issuer.example.com", "https://", "https:// x"] {
            let text = spec("").replace("https://my-tenant.accounts.ondemand.com", not_url);
            assert_eq!(diags(&text), vec![], "{not_url}");
        }
        // What Keycloak, Entra ID, Okta, Cognito, Auth0, Azure AD v1 and others publish.
        for good in [
            "https://my-tenant.accounts.ondemand.com",
            "https://login.example.com:8443",
            "https://[::1]:8443",
            "https://keycloak.example.com/realms/x",
            "https://keycloak.example.com/auth/realms/x",
            "https://login.microsoftonline.com/t/v2.0",
            "https://corp.okta.com/oauth2/default",
            "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_abc",
            "https://tenant.eu.auth0.com/",
            "https://sts.windows.net/t/",
        ] {
            let text = spec("").replace("https://my-tenant.accounts.ondemand.com", good);
            assert_eq!(diags(&text), vec![], "{good}");
        }
        // Plain http: a warning.
        let text = spec("").replace(
            "https://my-tenant.accounts.ondemand.com",
            "http://dex.dex.svc.cluster.local:5556/dex",
        );
        assert_eq!(diags(&text), vec![(Code::Oauth2ProxyIssuerHttp, 7, 13)]);
        // The help never suggests a string that breaks startup: for IAS, exactly https://<host>.
        let text = spec("").replace("ondemand.com\n", "ondemand.com/\n");
        let d = crate::check::check(&SourceFile::new("t.yaml", text.as_str()));
        let help = d
            .diagnostics
            .iter()
            .find(|d| d.code == Code::Oauth2ProxyIssuerInvalid)
            .and_then(|d| d.help.clone())
            .unwrap();
        assert_eq!(
            help,
            "write `issuer: https://my-tenant.accounts.ondemand.com`"
        );
        // Skipping issuer verification disables the comparison.
        let text = spec("    extraArgs:\n      insecure-oidc-skip-issuer-verification: \"true\"\n")
            .replace("ondemand.com\n", "ondemand.com/\n");
        assert_eq!(diags(&text), vec![]);
    }

    #[test]
    fn dangling_or_external_provider_is_not_checked_here() {
        let text = spec("").replace("identityProvider: ias", "identityProvider: nope");
        let text = text.replace("https://my-tenant.accounts.ondemand.com", "http://x/");
        assert_eq!(diags(&text), vec![]);
    }

    #[test]
    fn unknown_flag_with_suggestions() {
        let text = spec(
            "    extraArgs:\n      cookie-secur: \"true\"\n      --cookie-secure: \"true\"\n      no-such-flag-at-all: x\n",
        );
        let l = AUTH_LINE + 1;
        assert_eq!(
            diags(&text),
            vec![
                (Code::Oauth2ProxyUnknownFlag, l, 7),
                (Code::Oauth2ProxyUnknownFlag, l + 1, 7),
                (Code::Oauth2ProxyUnknownFlag, l + 2, 7),
            ]
        );
        let m = messages(&text);
        assert!(m[0].starts_with("oauth2-proxy exits at start: unknown flag --cookie-secur "));
        assert!(m[0].contains("did you mean `cookie-secure`?"));
        assert!(m[1].contains("without the leading `--`"));
        assert!(m[1].contains("write `cookie-secure`"));
        assert!(m[2].contains("oauth2-proxy --help"));
        assert_eq!(did_you_mean("cookie_secure"), Some("cookie-secure"));
        assert_eq!(
            did_you_mean("skip-jwt-bearer-token"),
            Some("skip-jwt-bearer-tokens")
        );
    }

    #[test]
    fn owned_flags_are_refused_without_echoing_values() {
        // cookie-name: the chart renders --cookie-name only for a non-empty config.cookieName
        // (kexpose writes ""), so extraArgs' is the only one. http-address equal to the chart's
        // is harmless; another one moves the listener away from the Service and probes.
        let text = spec(
            "    extraArgs:\n      client-secret: s3cr3t-value\n      cookie-name: my-cookie\n      http-address: 0.0.0.0:1\n      metrics-address: \"0.0.0.0:44180\"\n",
        );
        let l = AUTH_LINE + 1;
        assert_eq!(
            diags(&text),
            vec![
                (Code::Oauth2ProxyOwnedFlag, l, 7),
                (Code::Oauth2ProxyOwnedFlag, l + 2, 21),
            ]
        );
        let m = messages(&text);
        assert!(
            m.iter()
                .all(|m| !m.contains("s3cr3t") && !m.contains("my-cookie"))
        );
        assert!(m[0].contains("credentials Secret"));
        assert!(m[1].contains("0.0.0.0:4180"));
    }

    #[test]
    fn bool_flags_take_true_or_false_only() {
        let text = spec(
            "    extraArgs:\n      auth-logging: \"\"\n      reverse-proxy: \"yes\"\n      pass-host-header: 1\n      request-logging: false\n      cookie-secure: \"True\"\n      force-json-errors: \"t\"\n",
        );
        let l = AUTH_LINE + 1;
        // Go's strconv.ParseBool: "", "yes" refused; 1, false, True, t accepted.
        assert_eq!(
            diags(&text),
            vec![
                (Code::Oauth2ProxyBoolFlag, l, 21),
                (Code::Oauth2ProxyBoolFlag, l + 1, 22),
            ]
        );
        assert!(messages(&text)[0].contains("ParseBool"));
    }

    #[test]
    fn template_and_line_breaks_are_unsafe() {
        let text = spec(
            "    extraArgs:\n      banner: \"{{ .Values.secret }}\"\n      footer: \"a\\nb\"\n",
        );
        let l = AUTH_LINE + 1;
        assert_eq!(
            diags(&text),
            vec![
                (Code::Oauth2ProxyUnsafeValue, l, 15),
                (Code::Oauth2ProxyUnsafeValue, l + 1, 15)
            ]
        );
        assert!(messages(&text).iter().all(|m| !m.contains(".Values")));
        let aud = spec("    audiences: [api, \"{{ x }}\"]\n");
        assert_eq!(
            diags(&aud),
            vec![(Code::Oauth2ProxyUnsafeValue, AUTH_LINE, 22)]
        );
    }

    #[test]
    fn upstream_must_stay_static_200() {
        let text = spec("    extraArgs:\n      upstream: http://httpbin.httpbin-system:8000\n");
        assert_eq!(
            diags(&text),
            vec![(Code::Oauth2ProxyUpstream, AUTH_LINE + 1, 17)]
        );
        let ok = spec("    extraArgs:\n      upstream: static://200\n");
        assert_eq!(diags(&ok), vec![]);
    }

    #[test]
    fn cookie_samesite_values_and_none_needs_secure() {
        let text = spec("    extraArgs:\n      cookie-samesite: Lax\n");
        assert_eq!(
            diags(&text),
            vec![(Code::Oauth2ProxyCookieSamesite, AUTH_LINE + 1, 24)]
        );
        let none_insecure =
            spec("    extraArgs:\n      cookie-samesite: none\n      cookie-secure: \"false\"\n");
        // It starts; browsers drop the cookie: a warning (not in MINE's error list).
        assert_eq!(diags(&none_insecure), vec![]);
        let checked = crate::check::check(&SourceFile::new("t.yaml", none_insecure.as_str()));
        assert!(
            checked
                .diagnostics
                .iter()
                .any(|d| d.code == Code::Oauth2ProxyCookieSamesiteInsecure)
        );
        let none_secure = spec("    extraArgs:\n      cookie-samesite: none\n");
        assert_eq!(diags(&none_secure), vec![]);
        let empty = spec("    extraArgs:\n      cookie-samesite: \"\"\n");
        assert_eq!(diags(&empty), vec![]);
    }

    #[test]
    fn whitelist_domain_entries() {
        let text = spec(
            "    extraArgs:\n      whitelist-domain: \".a.com,*.b.com:*,c.com:8443,http://d.com\"\n",
        );
        assert_eq!(
            diags(&text),
            vec![(Code::Oauth2ProxyWhitelistDomain, AUTH_LINE + 1, 25)]
        );
        assert!(messages(&text)[0].contains("entry 4"));
        let ok = spec("    extraArgs:\n      whitelist-domain: \".a.com,*.b.com:*,c.com:8443\"\n");
        assert_eq!(diags(&ok), vec![]);
    }

    #[test]
    fn whitelist_default_without_cluster_domain() {
        let text = spec("")
            .replace("cluster:\n  domain: c-1a2b3c.kyma.ondemand.com\n", "")
            .replace("host: httpbin", "host: httpbin.example.com");
        assert_eq!(
            diags(&text),
            vec![(Code::Oauth2ProxyWhitelistDomain, 7, 11)]
        );
        assert!(messages(&text)[0].contains("cluster.domain"));
        assert!(messages(&text)[0].contains("`*.:*`"));
    }

    #[test]
    fn skip_discovery_needs_jwks_url() {
        let text = spec("    extraArgs:\n      skip-oidc-discovery: \"true\"\n");
        assert_eq!(
            diags(&text),
            vec![(Code::Oauth2ProxySkipDiscoveryWithoutJwks, AUTH_LINE + 1, 28)]
        );
        let ok = spec(
            "    extraArgs:\n      skip-oidc-discovery: true\n      oidc-jwks-url: https://x.example.com/keys\n",
        );
        assert_eq!(diags(&ok), vec![]);
    }

    #[test]
    fn allowed_group_role_and_email_domain_warn() {
        let text = spec(
            "    extraArgs:\n      allowed-group: admins\n      allowed-role: reader\n      email-domain: example.com\n",
        );
        let l = AUTH_LINE + 1;
        assert_eq!(
            diags(&text),
            vec![
                (Code::Oauth2ProxyAllowedGroup, l, 22),
                (Code::Oauth2ProxyAllowedRole, l + 1, 21),
                (Code::Oauth2ProxyEmailDomain, l + 2, 21),
            ]
        );
        let keycloak =
            spec("    extraArgs:\n      provider: keycloak-oidc\n      allowed-role: reader\n");
        assert_eq!(diags(&keycloak), vec![]);
        let star = spec("    extraArgs:\n      email-domain: \"example.com,*\"\n");
        assert_eq!(diags(&star), vec![]);
    }

    #[test]
    fn timeout_whole_seconds_on_both_types() {
        for (t, ok) in [
            ("5s", true),
            ("1m", true),
            ("1m30s", true),
            ("1.5m", true),
            ("1000ms", true),
            ("500ms", false),
            ("1.5s", false),
            ("0s", false),
            ("0", false),
            ("-5s", false),
            ("5", false),
            ("5sec", false),
            ("", false),
            (".s", false),
        ] {
            let text = spec(&format!("    timeout: \"{t}\"\n"));
            let want = if ok {
                vec![]
            } else {
                vec![(Code::AuthorizerTimeoutWholeSeconds, AUTH_LINE, 14)]
            };
            assert_eq!(diags(&text), want, "{t}");
        }
        let external = spec("").replace(
            "workloads:",
            "  - name: ext\n    type: external\n    service: ext.ns.svc.cluster.local\n    port: 8000\n    timeout: 500ms\nworkloads:",
        );
        assert_eq!(
            diags(&external),
            vec![(Code::AuthorizerTimeoutWholeSeconds, AUTH_LINE + 4, 14)]
        );
        assert!(messages(&external)[0].contains("`0s`"));
        assert_eq!(parse_go_duration("1h2m3.5s"), Some(3_723_500_000_000));
        assert_eq!(parse_go_duration("1µs"), Some(1_000));
        assert_eq!(parse_go_duration("9999999999h"), None);
    }

    #[test]
    fn include_needs_authorization() {
        let text =
            spec("    headers:\n      inCheck:\n        include: [x-forwarded-for, cookie]\n");
        assert_eq!(
            diags(&text),
            vec![(Code::AuthorizerIncludeAuthorization, AUTH_LINE + 2, 18)]
        );
        let external = spec("").replace(
            "workloads:",
            "  - name: ext\n    type: external\n    service: ext.ns.svc.cluster.local\n    port: 8000\n    headers:\n      inCheck:\n        include: [cookie]\nworkloads:",
        );
        assert_eq!(diags(&external), vec![]);
    }
}
