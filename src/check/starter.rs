//! Placeholders of `kexpose init`'s starter spec (`templates/starter.kexpose.yaml`) left in a
//! spec. They validate (they are well-formed), yet they are nobody's: the APIRules would expose
//! hosts of a domain that is not the cluster's, and the tokens of the user's tenant carry
//! another issuer, so every call fails. A warning, on each value still holding one.

use super::{Ctx, HelpExt};
use crate::diag::Code;

/// The starter's cluster domain (a CHANGE ME value).
pub const PLACEHOLDER_DOMAIN: &str = "your-cluster.kyma.ondemand.com";
/// The host of the starter's issuer (a CHANGE ME value).
pub const PLACEHOLDER_TENANT_HOST: &str = "your-tenant.accounts.ondemand.com";

pub(crate) fn check(ctx: &mut Ctx) {
    if let Some(domain) = ctx.spec.cluster.as_ref().and_then(|c| c.domain.as_ref())
        && is_placeholder_domain(domain)
    {
        ctx.report(
            Code::StarterPlaceholder,
            "/cluster/domain",
            format!("`{domain}` is the starter spec's placeholder domain, not a cluster's"),
        )
        .with_help("write your cluster's domain (the Kyma dashboard URL without `dashboard.`, e.g. c-4f8a2b1.kyma.ondemand.com)");
    }
    for (i, idp) in ctx.spec.identity_providers.iter().enumerate() {
        let host = idp
            .issuer
            .split_once("://")
            .map_or("", |(_, rest)| rest.split(['/', ':']).next().unwrap_or(""));
        if host.eq_ignore_ascii_case(PLACEHOLDER_TENANT_HOST) {
            ctx.report(
                Code::StarterPlaceholder,
                &format!("/identityProviders/{i}/issuer"),
                format!("`{}` is the starter spec's placeholder issuer, not a tenant's", idp.issuer),
            )
            .with_help("write your SAP Cloud Identity Services tenant's issuer, exactly as the `iss` claim of its tokens (e.g. https://abc123.accounts.ondemand.com)");
        }
    }
    for (i, w) in ctx.spec.workloads.iter().enumerate() {
        if is_placeholder_domain(&w.host) || w.host.ends_with(&format!(".{PLACEHOLDER_DOMAIN}")) {
            ctx.report(
                Code::StarterPlaceholder,
                &format!("/workloads/{i}/host"),
                format!("`{}` is in the starter spec's placeholder domain", w.host),
            )
            .with_help("write a host of your cluster's domain, or a short host that `cluster.domain` completes");
        }
    }
}

fn is_placeholder_domain(d: &str) -> bool {
    d.trim_end_matches('.')
        .eq_ignore_ascii_case(PLACEHOLDER_DOMAIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders named here are the starter's.
    #[test]
    fn the_starter_carries_each_placeholder() {
        let starter = crate::STARTER_SPEC;
        assert!(starter.contains(&format!("domain: {PLACEHOLDER_DOMAIN}")));
        assert!(starter.contains(&format!("issuer: https://{PLACEHOLDER_TENANT_HOST}")));
    }

    #[test]
    fn the_unedited_starter_warns_twice() {
        let src = crate::source::SourceFile::new("kexpose.yaml", crate::STARTER_SPEC);
        let checked = crate::check::check(&src);
        let codes: Vec<_> = checked
            .diagnostics
            .iter()
            .map(|d| (d.code, d.span.map(|s| s.line)))
            .collect();
        assert_eq!(
            codes,
            [
                (Code::StarterPlaceholder, Some(15)),
                (Code::StarterPlaceholder, Some(21))
            ]
        );
    }
}
