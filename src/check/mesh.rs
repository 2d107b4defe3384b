//! What the Istio policies need from the spec: pod selectors (never guessed), the ingress
//! gateway principal, and the in-cluster opening `allowInClusterCallers` makes.

use super::{Ctx, HelpExt};
use crate::diag::{Code, Diagnostic};
use crate::source::SourceFile;
use crate::spec::Spec;
use crate::yaml::PointerTable;

/// A label name: optional DNS-subdomain prefix and `/`, then 1–63 alphanumerics with `-_.`
/// inside (Kubernetes `IsQualifiedName`).
pub fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty() && p.len() <= 253 && p.split('.').all(crate::spec::names::is_dns_label)
    });
    prefix_ok && crate::spec::names::is_label_value(name)
}

fn selector(ctx: &mut Ctx, ptr: &str, sel: &indexmap::IndexMap<String, String>) {
    if sel.is_empty() {
        ctx.report(Code::SelectorInvalid, ptr, "the selector is empty: the policies would select every pod of the namespace")
            .with_help("copy the Service's `spec.selector`, e.g. `kubectl get svc NAME -n NS -o jsonpath='{.spec.selector}'`");
        return;
    }
    for (k, v) in sel {
        let kp = format!("{ptr}/{}", crate::yaml::escape_token(k));
        if !is_label_key(k) {
            ctx.report_key(Code::SelectorInvalid, &kp, format!("`{}` is not a valid label key", k.escape_debug()))
                .with_help("label keys are `[prefix/]name`: a DNS subdomain prefix, a name of up to 63 alphanumerics with - _ . inside");
        }
        if !crate::spec::names::is_label_value(v) {
            ctx.report(
                Code::SelectorInvalid,
                &kp,
                format!("`{}` is not a valid label value", v.escape_debug()),
            )
            .with_help("label values are up to 63 alphanumerics with - _ . inside");
        }
    }
}

/// Is this a SPIFFE principal as Istio writes them (`<td>/ns/<ns>/sa/<sa>`)?
pub fn is_principal(p: &str) -> bool {
    let parts: Vec<&str> = p.split('/').collect();
    parts.len() == 5
        && !parts[0].is_empty()
        && parts[1] == "ns"
        && crate::spec::names::is_dns_label(parts[2])
        && parts[3] == "sa"
        && !parts[4].is_empty()
        && parts[4].len() <= 253
        && parts[4].split('.').all(crate::spec::names::is_dns_label)
}

pub(crate) fn check(ctx: &mut Ctx) {
    if let Some(p) = ctx
        .spec
        .cluster
        .as_ref()
        .and_then(|c| c.ingress_gateway_principal.clone())
        && !is_principal(&p)
    {
        ctx.report(
            Code::IngressPrincipalInvalid,
            "/cluster/ingressGatewayPrincipal",
            format!("`{}` is not a workload principal", p.escape_debug()),
        )
        .with_help(format!(
            "write `<trust domain>/ns/<namespace>/sa/<service account>` of the ingress gateway's pods, e.g. `{}`",
            crate::mesh::DEFAULT_INGRESS_PRINCIPAL
        ));
    }
    for (wi, w) in ctx.spec.workloads.iter().enumerate() {
        if let Some(sel) = &w.selector {
            selector(ctx, &format!("/workloads/{wi}/selector"), sel);
        }
        for (ri, r) in w.rules.iter().enumerate() {
            if let Some(sel) = r.service.as_ref().and_then(|s| s.selector.as_ref()) {
                selector(
                    ctx,
                    &format!("/workloads/{wi}/rules/{ri}/service/selector"),
                    sel,
                );
            }
        }
        if w.allow_in_cluster_callers == Some(true) {
            let ptr = format!("/workloads/{wi}/allowInClusterCallers");
            if w.selector.is_none() {
                ctx.report(
                    Code::WorkloadSelectorMissing,
                    &ptr,
                    format!("workload `{}` admits in-cluster callers, but its pod selector is not given", w.name),
                )
                .with_help("add `selector:` with the Service's `spec.selector` (kexpose never guesses it: a wrong selector matches no pod and the policy does nothing)");
                continue;
            }
            ctx.report(
                Code::AllowInClusterCallers,
                &ptr,
                format!(
                    "every caller except the ingress gateway may call every path and method of workload `{}` \
                     without a token or an authorizer: other pods skip extAuth and jwt (their Host is not `{}`), \
                     and without mTLS STRICT plaintext callers get in too (they have no principal, so `notPrincipals` admits them)",
                    w.name,
                    crate::spec::resolve::fqdn(&w.host, ctx.spec.cluster.as_ref().and_then(|c| c.domain.as_deref()))
                ),
            )
            .with_help("prefer an explicit ALLOW for the calling namespaces or service accounts (`source.namespaces`, `principals`), and enforce mTLS STRICT with a PeerAuthentication");
        }
    }
}

/// `--target istio`: every workload's pods, and every rule's own Service's, must be known.
pub fn istio_target(spec: &Spec, src: &SourceFile, ptrs: &PointerTable) -> Vec<Diagnostic> {
    let idps = crate::spec::resolve::IdpIndex::new(spec);
    let mut ctx = Ctx {
        src,
        spec,
        idps: &idps,
        ptrs,
        diags: Vec::new(),
        origins: Vec::new(),
    };
    for (wi, w) in spec.workloads.iter().enumerate() {
        let wsvc = w.service.as_ref().map(|s| {
            (
                s.namespace.clone().unwrap_or_else(|| w.namespace.clone()),
                s.name.clone().unwrap_or_else(|| w.name.clone()),
            )
        });
        let uses_workload_service = w.rules.iter().any(|r| {
            r.service.as_ref().is_none_or(|s| {
                Some((
                    s.namespace.clone().unwrap_or_else(|| {
                        w.service
                            .as_ref()
                            .and_then(|ws| ws.namespace.clone())
                            .unwrap_or_else(|| w.namespace.clone())
                    }),
                    s.name.clone(),
                )) == wsvc
                    && s.selector.is_none()
            })
        });
        if uses_workload_service && w.selector.is_none() {
            ctx.report_key(
                Code::WorkloadSelectorMissing,
                &format!("/workloads/{wi}/name"),
                format!("`--target istio` needs the pod selector of workload `{}`: the policies select pods, not Services", w.name),
            )
            .with_help("add `selector:` with the Service's `spec.selector` (`kubectl get svc -n NS NAME -o jsonpath='{.spec.selector}'`); a guessed selector that matches no pod fails open");
        }
        for (ri, r) in w.rules.iter().enumerate() {
            let Some(s) = &r.service else { continue };
            let same = w.service.as_ref().is_some_and(|ws| {
                ws.name.clone().unwrap_or_else(|| w.name.clone()) == s.name
                    && ws.namespace.clone().unwrap_or_else(|| w.namespace.clone())
                        == s.namespace.clone().unwrap_or_else(|| {
                            ws.namespace.clone().unwrap_or_else(|| w.namespace.clone())
                        })
            });
            if s.selector.is_none() && !(same && w.selector.is_some()) {
                ctx.report_key(
                    Code::WorkloadSelectorMissing,
                    &format!("/workloads/{wi}/rules/{ri}/service"),
                    format!(
                        "`--target istio` needs the pod selector of Service `{}`",
                        s.name
                    ),
                )
                .with_help(
                    "add `selector:` to this rule's `service` with that Service's `spec.selector`",
                );
            }
        }
    }
    ctx.diags
}
