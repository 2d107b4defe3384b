//! Settings that work but leave something open (all warnings): the tutorial's empty authorizer
//! `pathPrefix` and insecure cookie, skipped issuer verification, a public catch-all rule, and
//! signing keys fetched over plain http.

use super::oauth2_proxy::{arg_ptr, effective_args};
use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::spec::resolve::{cluster_domain, fqdn};
use crate::spec::{AuthorizerType, DEFAULT_PATH_PREFIX};

pub(crate) fn check(ctx: &mut Ctx) {
    for (i, a) in ctx.spec.authorizers.iter().enumerate() {
        if a.kind != AuthorizerType::Oauth2Proxy {
            continue;
        }
        if a.path_prefix.as_deref() == Some("") {
            let hosts = protected_hosts(ctx, &a.name);
            let on = if hosts.is_empty() {
                "every workload this authorizer protects".to_string()
            } else {
                format!(
                    "every workload this authorizer protects ({})",
                    hosts
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            ctx.report(
                Code::AuthorizerExposesProxyEndpoints,
                &format!("/authorizers/{i}/pathPrefix"),
                format!(
                    "with `pathPrefix: \"\"` oauth2-proxy answers /ping, /ready, /robots.txt and \
                     its embedded /oauth2/static/ files (css, webfonts) itself with 200, so these \
                     paths pass without a token on {on}"
                ),
            )
            .with_help(format!(
                "remove `pathPrefix` to use kexpose's default `{DEFAULT_PATH_PREFIX}`: the check \
                 request then never reaches those endpoints"
            ));
        }

        let args = effective_args(ctx, a);
        let flag = |k: &str| args.get(k).and_then(|v| super::go_syntax::parse_bool(v));
        if flag("cookie-secure") == Some(false) {
            ctx.report(
                Code::Oauth2ProxyCookieInsecure,
                &arg_ptr(i, a, "cookie-secure"),
                "`cookie-secure: \"false\"`: browsers send oauth2-proxy's session cookie over plain http too",
            )
            .with_help("remove `cookie-secure` from extraArgs to use kexpose's default \"true\" (the Kyma gateway serves https)");
        }
        // The entra-id provider still checks the token issuer against
        // https://login.microsoftonline.com/{tenant-id}/v2.0 and, with entra-id-allowed-tenant,
        // the tenant (oauth2-proxy v7.15.3 docs, providers/ms_entra_id.md): no hazard then.
        let tenants_checked = args.get("provider").map(String::as_str) == Some("entra-id")
            && args
                .get("entra-id-allowed-tenant")
                .is_some_and(|t| !t.is_empty());
        if flag("insecure-oidc-skip-issuer-verification") == Some(true) && !tenants_checked {
            ctx.report(
                Code::Oauth2ProxySkipIssuerVerification,
                &arg_ptr(i, a, "insecure-oidc-skip-issuer-verification"),
                "`insecure-oidc-skip-issuer-verification: \"true\"`: oauth2-proxy accepts tokens whatever their `iss` claim says",
            )
            .with_help("remove it and make the identity provider's `issuer` equal the tokens' `iss` claim");
        }
    }

    for (w, workload) in ctx.spec.workloads.iter().enumerate() {
        for (r, rule) in workload.rules.iter().enumerate() {
            if rule.no_auth == Some(true) && matches!(rule.path.as_str(), "/*" | "/{**}") {
                let host = fqdn(&workload.host, cluster_domain(ctx.spec));
                ctx.report(
                    Code::NoauthCatchAll,
                    &format!("/workloads/{w}/rules/{r}/path"),
                    format!(
                        "`noAuth: true` on `{}` makes every path of `{host}` public for {}",
                        rule.path,
                        rule.methods.join(", ")
                    ),
                )
                .with_help(
                    "list the public paths one by one, or silence this with `--allow noauth-catch-all` \
                     if the whole host is meant to be public",
                );
            }
        }
    }

    for (p, idp) in ctx.spec.identity_providers.iter().enumerate() {
        let Some(jwks) = &idp.jwks_uri else {
            continue;
        };
        if jwks
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        {
            ctx.report(
                Code::IdentityProviderJwksHttp,
                &format!("/identityProviders/{p}/jwksUri"),
                format!(
                    "`jwksUri` of identity provider `{}` is plain http: whoever can alter the \
                     traffic can substitute signing keys and forge tokens",
                    idp.name
                ),
            )
            .with_help("use the provider's https JWKS URL");
        }
    }
}

/// FQDNs of the workloads with a rule that asks this authorizer, in spec order, once each.
fn protected_hosts(ctx: &Ctx, authorizer: &str) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for w in &ctx.spec.workloads {
        let uses = w.rules.iter().any(|r| {
            r.ext_auth
                .as_ref()
                .is_some_and(|e| e.authorizers.iter().any(|n| n == authorizer))
        });
        if uses {
            let host = fqdn(&w.host, cluster_domain(ctx.spec));
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
    }
    hosts
}

#[cfg(test)]
mod tests {
    use crate::diag::Code;
    use crate::source::SourceFile;

    const MINE: &[Code] = &[
        Code::AuthorizerExposesProxyEndpoints,
        Code::Oauth2ProxyCookieInsecure,
        Code::Oauth2ProxySkipIssuerVerification,
        Code::NoauthCatchAll,
        Code::IdentityProviderJwksHttp,
    ];

    const BASE: &str = "\
apiVersion: kexpose.dev/v1alpha1
kind: Exposure
cluster:
  domain: c-1a2b3c.kyma.ondemand.com
identityProviders:
  - name: ias
    issuer: https://my-tenant.accounts.ondemand.com
{IDP}authorizers:
  - name: oauth2-proxy
    type: oauth2-proxy
    identityProvider: ias
{AUTH}workloads:
  - name: httpbin
    namespace: httpbin-system
    host: httpbin
    service: { name: httpbin, port: 8000 }
    rules:
{RULES}      - path: /*
        methods: [GET]
        extAuth:
          authorizers: [oauth2-proxy]
";

    fn spec(idp: &str, auth: &str, rules: &str) -> String {
        BASE.replace("{IDP}", idp)
            .replace("{AUTH}", auth)
            .replace("{RULES}", rules)
    }

    fn checked(text: &str) -> Vec<(Code, usize, usize, String)> {
        let c = crate::check::check(&SourceFile::new("t.yaml", text));
        assert!(
            c.spec.is_some(),
            "spec must be schema-valid: {:#?}",
            c.diagnostics
        );
        c.diagnostics
            .iter()
            .filter(|d| MINE.contains(&d.code))
            .map(|d| {
                let s = d.span.expect("located");
                (
                    d.code,
                    s.line,
                    s.col,
                    format!("{} {}", d.message, d.help.as_deref().unwrap_or("")),
                )
            })
            .collect()
    }

    fn diags(text: &str) -> Vec<(Code, usize, usize)> {
        checked(text)
            .into_iter()
            .map(|(c, l, col, _)| (c, l, col))
            .collect()
    }

    #[test]
    fn hardened_spec_is_clean() {
        assert_eq!(diags(&spec("", "", "")), vec![]);
        let fine = spec(
            "    jwksUri: https://my-tenant.accounts.ondemand.com/oauth2/certs\n",
            "    pathPrefix: /verify?original=\n    extraArgs:\n      cookie-secure: \"true\"\n      \
             insecure-oidc-skip-issuer-verification: \"false\"\n",
            "      - path: /status/{*}\n        methods: [GET]\n        noAuth: true\n",
        );
        assert_eq!(diags(&fine), vec![]);
    }

    #[test]
    fn tutorial_reproduction_gets_two_warnings() {
        let text = spec(
            "",
            "    pathPrefix: \"\"\n    extraArgs:\n      cookie-secure: \"false\"\n",
            "",
        );
        let got = checked(&text);
        assert_eq!(
            got.iter()
                .map(|(c, l, col, _)| (*c, *l, *col))
                .collect::<Vec<_>>(),
            vec![
                (Code::AuthorizerExposesProxyEndpoints, 12, 17),
                (Code::Oauth2ProxyCookieInsecure, 14, 22),
            ]
        );
        let msg = &got[0].3;
        for path in ["/ping", "/ready", "/robots.txt", "/oauth2/static/"] {
            assert!(msg.contains(path), "{msg}");
        }
        assert!(
            msg.contains("`httpbin.c-1a2b3c.kyma.ondemand.com`"),
            "{msg}"
        );
        assert!(msg.contains("/verify?original="), "{msg}");
    }

    #[test]
    fn empty_path_prefix_on_external_is_not_ours() {
        let text = spec("", "", "").replace(
            "workloads:",
            "  - name: ext\n    type: external\n    service: ext.ns.svc.cluster.local\n    port: 8000\n    pathPrefix: \"\"\nworkloads:",
        );
        assert_eq!(diags(&text), vec![]);
    }

    #[test]
    fn skip_issuer_verification_warns() {
        let text = spec(
            "",
            "    extraArgs:\n      insecure-oidc-skip-issuer-verification: true\n",
            "",
        );
        assert_eq!(
            diags(&text),
            vec![(Code::Oauth2ProxySkipIssuerVerification, 13, 47)]
        );
    }

    #[test]
    fn noauth_catch_all_warns() {
        for path in ["/*", "/{**}"] {
            let text = spec(
                "",
                "",
                &format!(
                    "      - path: {path}\n        methods: [GET, HEAD]\n        noAuth: true\n"
                ),
            );
            let got = checked(&text);
            assert_eq!(
                got.iter()
                    .map(|(c, l, col, _)| (*c, *l, *col))
                    .collect::<Vec<_>>(),
                vec![(Code::NoauthCatchAll, 18, 15)],
                "{path}"
            );
            assert!(got[0].3.contains("httpbin.c-1a2b3c.kyma.ondemand.com"));
        }
    }

    #[test]
    fn jwks_over_http_warns() {
        let text = spec("    jwksUri: http://idp.example.com/keys\n", "", "");
        assert_eq!(diags(&text), vec![(Code::IdentityProviderJwksHttp, 8, 14)]);
    }
}
