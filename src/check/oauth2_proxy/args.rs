//! oauth2-proxy's flags: each `extraArgs` entry as written (name, boolean syntax, template and
//! line-break safety), then the effective flags for combinations that fail. `extraArgs` values
//! may hold secrets: no message ever quotes one, only its key.

use super::flags::{FLAGS, FlagKind, lookup};
use super::{arg_ptr, effective_args, extra_arg_ptr};
use crate::check::authorizer::parse_go_duration;
use crate::check::go_syntax::{parse_bool, parse_int, split_csv};
use crate::check::{Ctx, HelpExt, edit_distance};
use crate::diag::Code;
use crate::spec::Authorizer;

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

// ---------------------------------------------------------------------------------------------
// extraArgs as written

pub(super) fn check_extra_args(ctx: &mut Ctx, i: usize, a: &Authorizer) {
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
pub(super) fn check_audiences(ctx: &mut Ctx, i: usize, a: &Authorizer) {
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
pub(super) fn did_you_mean(name: &str) -> Option<&'static str> {
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

pub(super) fn check_effective_args(ctx: &mut Ctx, i: usize, a: &Authorizer) {
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
