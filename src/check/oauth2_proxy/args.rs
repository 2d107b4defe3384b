//! oauth2-proxy's flags: each `extraArgs` entry as written (name, boolean syntax, template and
//! line-break safety), then the effective flags for combinations that fail. `extraArgs` values
//! may hold secrets: no message ever quotes one, only its key.

use super::flags::{FLAGS, FlagKind, lookup};
use super::{arg_ptr, effective_args, extra_arg_ptr};
use crate::check::authorizer::parse_go_duration;
use crate::check::{Ctx, HelpExt, edit_distance};
use crate::diag::Code;
use crate::spec::Authorizer;
use crate::spec::resolve::cluster_domain;
use regex::Regex;
use std::sync::LazyLock;

/// Flags the chart or the credentials Secret set; a second value would conflict with them.
const OWNED_FLAGS: &[&str] = &[
    "http-address",
    "https-address",
    "metrics-address",
    "config",
    "alpha-config",
    "cookie-name",
    "client-id",
    "client-secret",
    "client-secret-file",
    "cookie-secret",
    "cookie-secret-file",
];

/// oauth2-proxy's accepted `cookie-samesite` values (`pkg/validation/cookie.go`).
const SAMESITE_VALUES: &[&str] = &["", "lax", "strict", "none"];

/// The one upstream an ext_authz authorizer may have: Envoy allows the request only on 200.
const STATIC_UPSTREAM: &str = "static://200";

static WHITELIST_ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\*\.|\.)?[A-Za-z0-9.-]+(:(\*|[0-9]{1,5}))?$").expect("valid regex")
});

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
        if let Some(owned) = OWNED_FLAGS.iter().find(|f| **f == key.as_str()) {
            let help = owned_help(owned, a);
            ctx.report_key(
                Code::Oauth2ProxyOwnedFlag,
                &ptr,
                format!("`{key}` is set by the oauth2-proxy chart or the credentials Secret, not by extraArgs"),
            )
            .with_help(help);
            continue;
        }
        match lookup(key) {
            None => report_unknown_flag(ctx, &ptr, key),
            Some(FlagKind::Bool) if value != "true" && value != "false" => {
                let why = if value.is_empty() {
                    "an empty value makes oauth2-proxy exit at start"
                } else {
                    "oauth2-proxy's flag parser and the chart's quoting accept nothing else reliably"
                };
                ctx.report(
                    Code::Oauth2ProxyBoolFlag,
                    &ptr,
                    format!(
                        "`{key}` is a boolean flag: its value must be \"true\" or \"false\" ({why})"
                    ),
                )
                .with_help(format!("write `{key}: \"true\"` or `{key}: \"false\"`"));
            }
            Some(FlagKind::Int) if value.trim().parse::<i64>().is_err() => {
                ctx.report(
                    Code::Oauth2ProxyFlagValue,
                    &ptr,
                    format!("`{key}` takes an integer: oauth2-proxy exits at start when it cannot parse the value"),
                )
                .with_help(format!("write a whole number, e.g. `{key}: \"3\"`"));
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

fn owned_help(flag: &str, a: &Authorizer) -> String {
    match flag {
        "client-id" | "client-secret" | "client-secret-file" | "cookie-secret"
        | "cookie-secret-file" => format!(
            "credentials go in the Secret named by `credentialsSecret` (here `{}`, keys client-id, \
             client-secret, cookie-secret); the chart passes them to oauth2-proxy, and secrets never \
             belong in the spec",
            crate::spec::resolve::credentials_secret(a)
        ),
        "cookie-name" => "the chart sets the cookie name from `config.cookieName`, which kexpose \
                          writes as \"\" (oauth2-proxy's default `_oauth2_proxy`); remove the key"
            .into(),
        "config" | "alpha-config" => "the chart passes --config with the ConfigMap it generates; \
                                      remove the key"
            .into(),
        _ => "the chart sets the listen addresses its Service, probes and metrics use; remove the key"
            .into(),
    }
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
            format!("`upstream` must stay `{STATIC_UPSTREAM}`: Envoy's ext_authz allows a request only when the authorizer answers 200"),
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
        } else if samesite == "none" && get("cookie-secure") != Some("true") {
            ctx.report(
                Code::Oauth2ProxyCookieSamesite,
                &arg_ptr(i, a, "cookie-samesite"),
                "`cookie-samesite: none` without `cookie-secure: \"true\"`: browsers drop a SameSite=None cookie that is not Secure",
            )
            .with_help("remove `cookie-secure` from extraArgs (kexpose's default is \"true\"), or use `cookie-samesite: \"lax\"`");
        }
    }

    if let Some(wl) = get("whitelist-domain") {
        check_whitelist(ctx, i, a, wl, user_set("whitelist-domain"));
    }

    if get("skip-oidc-discovery") == Some("true") && get("oidc-jwks-url").is_none_or(str::is_empty)
    {
        ctx.report(
            Code::Oauth2ProxySkipDiscoveryWithoutJwks,
            &arg_ptr(i, a, "skip-oidc-discovery"),
            "oauth2-proxy exits at start: `skip-oidc-discovery: \"true\"` needs `oidc-jwks-url` to verify tokens",
        )
        .with_help("add `oidc-jwks-url: \"<the provider's JWKS URL>\"` to extraArgs, or remove `skip-oidc-discovery`");
    }

    if get("allowed-group").is_some_and(|g| !g.is_empty()) {
        ctx.report(
            Code::Oauth2ProxyAllowedGroup,
            &arg_ptr(i, a, "allowed-group"),
            "`allowed-group`: client-credentials tokens carry no groups, so oauth2-proxy denies every call",
        )
        .with_help("restrict access with `extAuth.requiredScopes`/`audiences` on the rules instead");
    }

    if get("allowed-role").is_some_and(|r| !r.is_empty()) && get("provider") == Some("oidc") {
        ctx.report(
            Code::Oauth2ProxyAllowedRole,
            &arg_ptr(i, a, "allowed-role"),
            "`allowed-role` is ignored with `provider: oidc`: only the keycloak-oidc provider reads it, so every token is accepted",
        )
        .with_help("restrict access with `extAuth.requiredScopes`/`audiences` on the rules instead");
    }

    if user_set("email-domain")
        && let Some(ed) = get("email-domain")
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

fn check_whitelist(ctx: &mut Ctx, i: usize, a: &Authorizer, value: &str, user_set: bool) {
    let bad: Vec<usize> = value
        .split(',')
        .enumerate()
        .filter(|(_, e)| !WHITELIST_ENTRY.is_match(e))
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
                "`whitelist-domain` entry {which} (counting the comma-separated entries from 1) is not a domain oauth2-proxy can parse"
            ),
        )
        .with_help("each entry is `domain`, `.domain` or `*.domain`, optionally with `:port` or `:*`, separated by commas without spaces");
    } else if cluster_domain(ctx.spec).is_none_or(str::is_empty) {
        // (An invalid `cluster.domain` is reported where it is written.)
        ctx.report(
            Code::Oauth2ProxyWhitelistDomain,
            &arg_ptr(i, a, "whitelist-domain"),
            format!(
                "the default `whitelist-domain` of authorizer `{}` is `{value}`, which is not a valid domain: `cluster.domain` is not set",
                a.name
            ),
        )
        .with_help("set `cluster.domain` (the Kyma cluster domain), or set `whitelist-domain` in extraArgs");
    }
}
