//! oauth2-proxy 7.15.3 (chart 10.7.0): what makes the process exit at start, or deny every
//! request later, caught before anything is deployed.
//!
//! Files: [`flags`] (the flag table of 7.15.3), `issuer`, `args` (flags as written and
//! effective); the authorizer timeout, which every authorizer type has, is in
//! `check::authorizer`.
//!
//! Flags are checked twice: each `extraArgs` entry as written (name, boolean syntax, template
//! and line-break safety), then the *effective* flags ([`crate::spec::resolve::oauth2_proxy_args`]: the
//! tutorial's, hardened, plus `audiences` and `extraArgs`) for combinations that fail. A finding
//! about an effective flag points at the `extraArgs` value when the user set it, else at the
//! authorizer's name (the default came from kexpose).
//!
//! `extraArgs` values may hold secrets: no message ever quotes one, only its key.

mod args;
pub mod flags;
mod issuer;

use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::spec::resolve::cluster_domain;
use crate::spec::{Authorizer, AuthorizerType};
use crate::yaml::escape_token;
use args::{check_audiences, check_effective_args, check_extra_args};
use indexmap::IndexMap;
use issuer::check_issuer;
use std::collections::HashSet;

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
        if a.kind != AuthorizerType::Oauth2Proxy {
            continue;
        }
        check_issuer(ctx, i, a, &mut issuers_seen);
        check_extra_args(ctx, i, a);
        check_audiences(ctx, i, a);
        check_effective_args(ctx, i, a);
        super::oauth2_proxy_start::check(ctx, i, a);
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
    crate::spec::resolve::oauth2_proxy_args(a, issuer, cluster_domain(ctx.spec))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::authorizer::parse_go_duration;
    use crate::source::SourceFile;
    use args::did_you_mean;

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
}
