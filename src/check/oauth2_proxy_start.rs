//! What makes oauth2-proxy v7.15.3 exit at start, beyond flag names and syntax, checked on the
//! effective flags of an authorizer (kexpose's defaults, `audiences`, then `extraArgs`), and the
//! hazards of flags it accepts. Each rule names the oauth2-proxy source (tag v7.15.3) it
//! reproduces; each was also run through oauth2-proxy v7.15.3 built from its Go module.
//!
//! Values are quoted in messages only for flags that never hold secrets (provider names,
//! header names, algorithms, addresses, regexes); list entries are named by position.

use super::go_syntax::{CsvError, is_ip_net, is_valid_cookie_domain, parse_bool, split_csv};
use super::oauth2_proxy::{arg_ptr, effective_args};
use super::oauth2_proxy_flags::{FlagKind, lookup};
use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::spec::Authorizer;
use indexmap::IndexMap;

/// `options.ProviderType` values (`pkg/apis/options/providers.go`); any other `provider` makes
/// `providers.NewProvider` fail: "unknown provider type" (`providers/providers.go`).
const PROVIDERS: &[&str] = &[
    "adfs",
    "azure",
    "bitbucket",
    "cidaas",
    "digitalocean",
    "entra-id",
    "facebook",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "keycloak-oidc",
    "linkedin",
    "login.gov",
    "nextcloud",
    "oidc",
    "sourcehut",
];

/// Providers that build an OIDC verifier (`providerRequiresOIDCProviderVerifier`,
/// `providers/providers.go`): only these check issuer, JWKS and public-key settings.
const VERIFIER_PROVIDERS: &[&str] = &[
    "oidc",
    "adfs",
    "azure",
    "cidaas",
    "gitlab",
    "keycloak-oidc",
    "entra-id",
];

/// `supportedOIDCSigningAlgorithms` (`pkg/validation/providers.go`).
const SIGNING_ALGS: &[&str] = &[
    "EdDSA", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
    "PS256", "PS384", "PS512",
];

/// `ip.GetRealClientIPParser` (`pkg/ip/realclientip.go`), compared after
/// `http.CanonicalHeaderKey`, i.e. case-insensitively.
const REAL_CLIENT_IP_HEADERS: &[&str] = &[
    "X-Forwarded-For",
    "X-Real-IP",
    "X-ProxyUser-IP",
    "X-Envoy-External-Address",
    "CF-Connecting-IP",
];

/// The regex-list flags oauth2-proxy compiles at start (`pkg/validation/allowlist.go`
/// `validateAuthRoutes`, `validateAuthRegexes`; `validateAPIRoutes`).
const REGEX_FLAGS: &[&str] = &["skip-auth-route", "skip-auth-regex", "api-route"];

pub(crate) fn check(ctx: &mut Ctx, i: usize, a: &Authorizer) {
    let args = effective_args(ctx, a);
    let flag = |k: &str| args.get(k).map(String::as_str);
    let on = |k: &str| flag(k).and_then(parse_bool).unwrap_or(false);
    let ptr = |k: &str| arg_ptr(i, a, k);

    list_values(ctx, i, a, &args);

    // providers/providers.go NewProvider.
    let provider = flag("provider").unwrap_or("google");
    if !PROVIDERS.contains(&provider) {
        let close = PROVIDERS
            .iter()
            .map(|p| (super::edit_distance(&provider.to_ascii_lowercase(), p), *p))
            .min()
            .filter(|(d, _)| *d <= 2)
            .map(|(_, p)| p);
        let help = match close {
            Some(p) => format!("did you mean `provider: \"{p}\"`?"),
            None => format!(
                "use one of {}; for any OpenID Connect provider (Keycloak, Okta, Auth0, Dex, \
                 Cognito, SAP Cloud Identity Services, ...) write `provider: \"oidc\"`",
                PROVIDERS.join(", ")
            ),
        };
        ctx.report(
            Code::Oauth2ProxyProviderUnknown,
            &ptr("provider"),
            format!("oauth2-proxy exits at start: unknown provider type `{provider}`"),
        )
        .with_help(help);
    }
    let verifier = VERIFIER_PROVIDERS.contains(&provider);

    // pkg/validation/options.go Validate: parseJwtIssuers, only with skip-jwt-bearer-tokens.
    if on("skip-jwt-bearer-tokens")
        && let Some(Ok(entries)) = flag("extra-jwt-issuers").map(split_csv)
    {
        let bad: Vec<String> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.contains('='))
            .map(|(n, _)| (n + 1).to_string())
            .collect();
        if !bad.is_empty() {
            ctx.report(
                Code::Oauth2ProxyExtraJwtIssuer,
                &ptr("extra-jwt-issuers"),
                format!(
                    "oauth2-proxy exits at start: `extra-jwt-issuers` entry {} has no `=` (each entry is `<issuer>=<audience>`)",
                    bad.join(", ")
                ),
            )
            .with_help("write each entry as `https://issuer.example.com=<expected audience>`, entries separated by commas");
        }
    }

    // pkg/validation/cookie.go validateCookie: refresh must be below expire (unless expire is 0).
    let refresh = flag("cookie-refresh").map_or(Some(0), super::authorizer::parse_go_duration);
    let expire = flag("cookie-expire").map_or(
        Some(168 * 3_600_000_000_000),
        super::authorizer::parse_go_duration,
    );
    if let (Some(refresh), Some(expire)) = (refresh, expire)
        && expire != 0
        && refresh >= expire
    {
        let key = if a
            .extra_args
            .as_ref()
            .is_some_and(|e| e.contains_key("cookie-refresh"))
        {
            "cookie-refresh"
        } else {
            "cookie-expire"
        };
        ctx.report(
            Code::Oauth2ProxyCookieRefresh,
            &ptr(key),
            "oauth2-proxy exits at start: `cookie-refresh` must be less than `cookie-expire` (default 168h)",
        )
        .with_help("make `cookie-refresh` shorter than `cookie-expire`, e.g. `cookie-refresh: \"1h\"` with `cookie-expire: \"4h\"`; `cookie-refresh: \"0\"` disables refreshing");
    }

    // pkg/validation/sessions.go validateSessionCookieMinimal (legacy flags become headers
    // filled from the access_token / id_token claims: pkg/apis/options/legacy_options.go).
    if on("session-cookie-minimal") {
        let token_flags: Vec<&str> = [
            "pass-access-token",
            "pass-authorization-header",
            "set-authorization-header",
        ]
        .into_iter()
        .filter(|k| on(k))
        .collect();
        let refreshing = refresh.is_some_and(|r| r != 0);
        if !token_flags.is_empty() || refreshing {
            let mut why: Vec<String> = token_flags.iter().map(|k| format!("`{k}`")).collect();
            if refreshing {
                why.push("a non-zero `cookie-refresh`".into());
            }
            ctx.report(
                Code::Oauth2ProxySessionCookieMinimal,
                &ptr("session-cookie-minimal"),
                format!(
                    "oauth2-proxy exits at start: `session-cookie-minimal` keeps no tokens in the session, but {} need them",
                    why.join(", ")
                ),
            )
            .with_help(format!(
                "remove `session-cookie-minimal`, or set {} to \"false\" (kexpose's defaults are \"true\")",
                token_flags
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .chain(refreshing.then(|| "`cookie-refresh` to \"0\" and".to_string()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    // pkg/validation/options.go Validate: email validation needs some source.
    if flag("email-domain").is_some_and(str::is_empty)
        && flag("authenticated-emails-file").is_none_or(str::is_empty)
        && flag("htpasswd-file").is_none_or(str::is_empty)
    {
        ctx.report(
            Code::Oauth2ProxyEmailDomainEmpty,
            &ptr("email-domain"),
            "oauth2-proxy exits at start: an empty `email-domain` replaces the chart's `*` and leaves no email validation",
        )
        .with_help("remove `email-domain` (the chart's default is `*`), or list the allowed domains");
    }

    // pkg/validation/options.go Validate: the header is checked only with reverse-proxy.
    if on("reverse-proxy")
        && let Some(h) = flag("real-client-ip-header")
        && !REAL_CLIENT_IP_HEADERS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(h))
    {
        ctx.report(
            Code::Oauth2ProxyRealClientIpHeader,
            &ptr("real-client-ip-header"),
            format!(
                "oauth2-proxy exits at start: `real-client-ip-header` `{}` is not one it supports (with `reverse-proxy` on)",
                h.escape_debug()
            ),
        )
        .with_help(format!(
            "use one of {}; behind the Istio gateway `X-Forwarded-For` or `X-Envoy-External-Address`",
            REAL_CLIENT_IP_HEADERS.join(", ")
        ));
    }

    // pkg/validation/allowlist.go validateTrustedIPs / validateTrustedProxyIPs (ip.ParseIPNet).
    for key in ["trusted-ip", "trusted-proxy-ip"] {
        let Some(Ok(entries)) = flag(key).map(split_csv) else {
            continue;
        };
        let bad: Vec<String> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !is_ip_net(e))
            .map(|(n, e)| format!("{} (`{}`)", n + 1, e.escape_debug()))
            .collect();
        if !bad.is_empty() {
            ctx.report(
                Code::Oauth2ProxyIpInvalid,
                &ptr(key),
                format!(
                    "oauth2-proxy exits at start: `{key}` entry {} is not an IP address or a CIDR range",
                    bad.join(", ")
                ),
            )
            .with_help("write addresses (`10.0.0.7`, `::1`) or ranges whose address is the network address (`10.0.0.0/8`, not `10.0.0.1/8`), separated by commas");
        }
    }

    // pkg/validation/allowlist.go: every entry is compiled with Go's regexp (RE2 syntax).
    for key in REGEX_FLAGS {
        let Some(Ok(entries)) = flag(key).map(split_csv) else {
            continue;
        };
        let raw = flag(key).unwrap_or("");
        let mut bad = Vec::new();
        for (n, e) in entries.iter().enumerate() {
            let re = if *key == "skip-auth-route" {
                e.split_once('=').map_or(e.as_str(), |(_, r)| r)
            } else {
                e.as_str()
            };
            if let Some(err) = go_regex_error(re) {
                bad.push(format!("{} ({err})", n + 1));
            }
        }
        if !bad.is_empty() {
            ctx.report(
                Code::Oauth2ProxyRegexInvalid,
                &ptr(key),
                format!(
                    "oauth2-proxy exits at start: `{key}` entry {} is not a valid Go (RE2) regular expression",
                    bad.join(", ")
                ),
            )
            .with_help("Go's regexp has no look-around and no backreferences; entries are separated by commas");
        } else if comma_inside_group(raw) {
            ctx.report(
                Code::Oauth2ProxyListSplit,
                &ptr(key),
                format!(
                    "`{key}` is a comma-separated list: the comma inside `{{..}}`, `[..]` or `(..)` splits this regex into {} entries, each matched on its own",
                    entries.len()
                ),
            )
            .with_help("quote the entry as CSV so the comma stays in it: wrap it in double quotes, e.g. `'\"^/a{1,3}$\"'`");
        }
    }

    // pkg/validation/providers.go validateOIDCSigningAlgorithms.
    if let Some(Ok(algs)) = flag("oidc-enabled-signing-alg").map(split_csv) {
        let bad: Vec<String> = algs
            .iter()
            .filter(|a| !SIGNING_ALGS.contains(&a.as_str()))
            .map(|a| format!("`{}`", a.escape_debug()))
            .collect();
        if !bad.is_empty() {
            ctx.report(
                Code::Oauth2ProxySigningAlg,
                &ptr("oidc-enabled-signing-alg"),
                format!(
                    "oauth2-proxy exits at start: unsupported signing algorithm {}",
                    bad.join(", ")
                ),
            )
            .with_help(format!(
                "use some of {} (case matters)",
                SIGNING_ALGS.join(", ")
            ));
        }
    }

    // pkg/sessions/session_store.go NewSessionStore: "unknown session store type".
    if let Some(t) = flag("session-store-type")
        && t != "cookie"
        && t != "redis"
    {
        ctx.report(
            Code::Oauth2ProxySessionStore,
            &ptr("session-store-type"),
            format!(
                "oauth2-proxy exits at start: unknown session store type `{}`",
                t.escape_debug()
            ),
        )
        .with_help("write `session-store-type: \"cookie\"` (the default) or `\"redis\"` with `redis-connection-url`");
    }

    // pkg/providers/oidc/provider_verifier.go ProviderVerifierOptions.validate.
    let jwks = flag("oidc-jwks-url").is_some_and(|v| !v.is_empty());
    let keys = flag("oidc-public-key-file").is_some_and(|v| !v.is_empty());
    if verifier && jwks && keys {
        ctx.report(
            Code::Oauth2ProxyJwksAndPublicKey,
            &ptr("oidc-public-key-file"),
            "oauth2-proxy exits at start: `oidc-jwks-url` and `oidc-public-key-file` are mutually exclusive",
        )
        .with_help("keep one: the JWKS URL (keys fetched and rotated) or the public key files");
    }

    // Hazards (warnings).
    cookie_domains(ctx, i, a, &args);
}

/// Every string-slice flag is read by pflag as one CSV record: a stray `"` makes oauth2-proxy
/// exit ("invalid argument ... for ... flag: parse error ... bare \" in non-quoted-field").
fn list_values(ctx: &mut Ctx, i: usize, a: &Authorizer, args: &IndexMap<String, String>) {
    for (key, value) in args {
        if lookup(key) != Some(FlagKind::List) {
            continue;
        }
        // `audiences` become --oidc-extra-audience; `check_audiences` reports them at their place.
        if key == "oidc-extra-audience"
            && !a.extra_args.as_ref().is_some_and(|e| e.contains_key(key))
        {
            continue;
        }
        if let Err(e) = split_csv(value) {
            let why = match e {
                CsvError::BareQuote => "a `\"` inside an unquoted entry",
                CsvError::Quote => {
                    "a quoted entry that is not closed, or text after its closing `\"`"
                }
            };
            ctx.report(
                Code::Oauth2ProxyListValue,
                &arg_ptr(i, a, key),
                format!("oauth2-proxy exits at start: `{key}` is read as comma-separated values (CSV), and it has {why}"),
            )
            .with_help("remove the `\"`, or quote the whole entry CSV-style: wrap it in double quotes and double every `\"` inside it");
        }
    }
}

/// `cookie-domain` entries Go's `net/http` will not write into `Set-Cookie` (a port, `*`, `_`):
/// oauth2-proxy picks such an entry for matching hosts, Go drops the `Domain` attribute, and the
/// session cookie is kept for the exact host only.
fn cookie_domains(ctx: &mut Ctx, i: usize, a: &Authorizer, args: &IndexMap<String, String>) {
    let Some(Ok(entries)) = args.get("cookie-domain").map(|v| split_csv(v)) else {
        return;
    };
    let bad: Vec<String> = entries
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty() && !is_valid_cookie_domain(d))
        .map(|(n, d)| format!("{} (`{}`)", n + 1, d.escape_debug()))
        .collect();
    if bad.is_empty() {
        return;
    }
    ctx.report(
        Code::Oauth2ProxyCookieDomain,
        &arg_ptr(i, a, "cookie-domain"),
        format!(
            "`cookie-domain` entry {} is not a domain a browser accepts: Go's net/http drops it from Set-Cookie, so the session cookie is not shared across subdomains",
            bad.join(", ")
        ),
    )
    .with_help("write domains without port or `*`, e.g. `.example.com` for every subdomain of example.com");
}

/// Why Go's `regexp.Compile` refuses `re`, as far as the `regex` crate can tell (both implement
/// RE2 syntax). Where they differ the check stays silent rather than refuse what Go accepts:
/// `\Q...\E` (Go only) is not checked; octal escapes are enabled as in Go; a `{` that starts no
/// repetition is a literal; `\p{^X}` is negation. Checked against Go's own verdicts
/// (`go_regexp_cases.txt`).
fn go_regex_error(re: &str) -> Option<String> {
    if re.contains("\\Q") {
        return None;
    }
    match regex::RegexBuilder::new(&literal_braces(re))
        .octal(true)
        .size_limit(1 << 30)
        .build()
    {
        Ok(_) => None,
        Err(regex::Error::CompiledTooBig(_)) => None,
        // Go reads `[\d-z]` as a class escape, `-` and `z`; the regex crate refuses it.
        Err(e) if e.to_string().contains("range boundary") => None,
        Err(e) => Some(
            e.to_string()
                .lines()
                .last()
                .unwrap_or("syntax error")
                .trim()
                .trim_start_matches("error: ")
                .to_string(),
        ),
    }
}

/// Go's regexp reads a `{` that does not start a repetition (`{n}`, `{n,}`, `{n,m}`) as a
/// literal `{`; the `regex` crate refuses it. Escape those before compiling.
fn literal_braces(re: &str) -> String {
    let b = re.as_bytes();
    let mut out = String::with_capacity(re.len() + 4);
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            // `\p{..}`, `\P{..}`, `\x{..}`: the braces belong to the escape.
            if matches!(b.get(i + 1), Some(b'p' | b'P' | b'x')) && b.get(i + 2) == Some(&b'{') {
                let end = re[i..].find('}').map_or(re.len(), |e| i + e + 1);
                // Go's `\p{^X}` is `\P{X}` (and `\P{^X}` is `\p{X}`).
                match (b[i + 1], b.get(i + 3)) {
                    (b'p', Some(b'^')) => out.push_str(&format!("\\P{{{}", &re[i + 4..end])),
                    (b'P', Some(b'^')) => out.push_str(&format!("\\p{{{}", &re[i + 4..end])),
                    _ => out.push_str(&re[i..end]),
                }
                i = end;
                continue;
            }
            let end = re[i + 1..]
                .chars()
                .next()
                .map_or(i + 1, |ch| i + 1 + ch.len_utf8());
            out.push_str(&re[i..end]);
            i = end;
            continue;
        }
        if in_class {
            in_class = c != b']';
        } else if c == b'[' {
            in_class = true;
        } else if c == b'{' && !is_repeat(&re[i + 1..]) {
            out.push_str("\\{");
            i += 1;
            continue;
        }
        let end = i + re[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&re[i..end]);
        i = end;
    }
    out
}

/// Does `rest` (after a `{`) read `n}`, `n,}` or `n,m}`?
fn is_repeat(rest: &str) -> bool {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let n = digits(rest);
    if n == 0 {
        return false;
    }
    let r = &rest[n..];
    if r.starts_with('}') {
        return true;
    }
    let Some(r) = r.strip_prefix(',') else {
        return false;
    };
    let m = digits(r);
    r[m..].starts_with('}')
}

/// Is there a `,` inside `{..}`, `[..]` or `(..)` of an unquoted regex list (the CSV split then
/// cuts a regex in two)?
fn comma_inside_group(raw: &str) -> bool {
    if raw.starts_with('"') {
        return false;
    }
    let mut depth = 0i32;
    let mut escaped = false;
    for c in raw.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth = (depth - 1).max(0),
            ',' if depth > 0 => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Go's own verdicts (`go_regexp_cases.txt`, produced by running Go's regexp): nothing Go
    /// compiles is refused here, and most of what Go refuses is.
    #[test]
    fn regexes_as_go_compiles_them() {
        let mut refused_by_go = 0;
        let mut caught = 0;
        for line in include_str!("go_regexp_cases.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let mut parts = line.splitn(3, '\t');
            let (verdict, re) = (parts.next().unwrap(), parts.next().unwrap_or(""));
            match verdict {
                "OK" => assert_eq!(go_regex_error(re), None, "Go compiles `{re}`"),
                _ => {
                    refused_by_go += 1;
                    caught += usize::from(go_regex_error(re).is_some());
                }
            }
        }
        assert!(refused_by_go >= 20, "{refused_by_go}");
        // The rest (nested repetitions, `\\1`, `(?x)`, counts over 1000) the regex crate accepts:
        // not reported, never wrongly reported.
        assert!(
            caught * 10 >= refused_by_go * 6,
            "caught {caught} of {refused_by_go}"
        );
    }

    #[test]
    fn commas_inside_regex_groups() {
        assert!(comma_inside_group("^/v[0-9]{1,3}/public$"));
        assert!(comma_inside_group("^/(a|b,c)$"));
        assert!(!comma_inside_group("^/a$,^/b$"));
        assert!(!comma_inside_group("\"^/a{1,3}$\""));
        assert!(!comma_inside_group("^/a\\{1,3$"));
    }
}
