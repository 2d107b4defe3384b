//! Method-shadowed requests: the controller excludes an earlier rule's path from a later
//! rule's policies (`notPaths`) for **all** of the later rule's methods, while the route
//! still sends the other methods to the later rule. Those requests get 403 from the sidecar.
//!
//! The api-gateway docs' own example (`docs/user/expose-workloads/significance-of-rule-path-and-method-order.md`):
//! `POST /anything/{*}/one` (jwt) then `POST, GET /anything/{**}` (noAuth) denies
//! `GET /anything/more/one`. Found by evaluating the mesh model (`crate::mesh`) on a witness
//! of each overlapping region, so it reports exactly what Envoy would do.

use super::{Ctx, HelpExt};
use crate::diag::Code;
use crate::mesh::eval::Verdict;
use crate::mesh::path::Template;
use crate::mesh::{Settings, not_paths, regions, translate};
use serde_json::{Value, json};

const HOST: &str = "shadow.check.invalid";

/// The workload's rules as an APIRule the mesh model reads (only what policies depend on).
fn apirule(rules: &[crate::spec::Rule]) -> Value {
    let issuer =
        json!([{ "issuer": "https://issuer.invalid", "jwksUri": "https://issuer.invalid/jwks" }]);
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let mut v = json!({ "path": r.path, "methods": r.methods });
            if r.jwt.is_some() {
                v["jwt"] = json!({ "authentications": issuer });
            } else if let Some(e) = &r.ext_auth {
                v["extAuth"] = json!({ "authorizers": e.authorizers });
                if e.requirements() != Default::default() {
                    v["extAuth"]["restrictions"] = json!({ "authentications": issuer });
                }
            } else {
                v["noAuth"] = true.into();
            }
            v
        })
        .collect();
    json!({
        "metadata": { "name": "w", "namespace": "ns" },
        "spec": { "hosts": [HOST], "service": { "name": "w", "port": 80 }, "rules": rules }
    })
}

pub(crate) fn check(ctx: &mut Ctx) {
    // Root causes first: a spec with errors (an unreachable rule, an invalid path) gets this
    // warning once they are fixed.
    if ctx.diags.iter().any(crate::diag::Diagnostic::is_error) {
        return;
    }
    for (wi, wl) in ctx.spec.workloads.iter().enumerate() {
        // Cheap filter first: a rule can only be shadowed when an earlier rule shares a
        // method with it and lacks another of its methods (distinct method sets are few).
        let mut sets: Vec<Vec<&String>> = Vec::new();
        let mut candidate = false;
        for r in &wl.rules {
            let mine: Vec<&String> = r.methods.iter().collect();
            candidate |= sets.iter().any(|earlier| {
                mine.iter().any(|m| earlier.contains(m))
                    && mine.iter().any(|m| !earlier.contains(m))
            });
            if !sets.contains(&mine) {
                sets.push(mine);
            }
        }
        if !candidate {
            continue;
        }
        let rules: Vec<(String, Vec<String>)> = wl
            .rules
            .iter()
            .map(|r| (r.path.clone(), r.methods.clone()))
            .collect();
        // Only a later rule whose policies exclude an earlier rule's path, and that has a
        // method the earlier rule lacks, can be shadowed; without one, nothing to evaluate.
        let excluded: Vec<Vec<String>> = (0..rules.len()).map(|j| not_paths(&rules, j)).collect();
        let pairs = |j: usize| {
            let (excluded, methods_j) = (&excluded[j], &rules[j].1);
            rules.iter().enumerate().take(j).filter(move |(_, (p, m))| {
                excluded.contains(p) && methods_j.iter().any(|x| !m.contains(x))
            })
        };
        if (0..rules.len()).all(|j| pairs(j).next().is_none()) {
            continue;
        }
        let mesh = translate(&[("APIRule", apirule(&wl.rules))], &Settings::default());
        let templates: Vec<Template> = rules.iter().map(|(p, _)| Template::parse(p)).collect();
        let cells = regions::cells(&templates);
        for (j, (_, methods_j)) in rules.iter().enumerate() {
            // (earlier rule, method, example path) for each earlier rule that shadows.
            let mut found: Vec<(usize, String, String)> = Vec::new();
            for (i, (_, methods_i)) in pairs(j) {
                // A request with a method the earlier rule lacks, in both paths, routed here.
                let hit = methods_j
                    .iter()
                    .filter(|m| !methods_i.contains(m))
                    .find_map(|m| {
                        cells
                            .iter()
                            .filter(|c| c.members[i] && c.members[j])
                            .find(|c| {
                                let e = mesh.evaluate(HOST, m, &c.witness);
                                e.route == Some(j) && e.verdict == Verdict::Forbidden
                            })
                            .map(|c| (i, m.clone(), c.witness.clone()))
                    });
                found.extend(hit);
            }
            if found.is_empty() {
                continue;
            }
            let rule = &wl.rules[j];
            let shadowing: Vec<String> = found
                .iter()
                .flat_map(|(i, _, _)| wl.rules[*i].methods.clone())
                .collect();
            let (shared, rest): (Vec<&String>, Vec<&String>) =
                rule.methods.iter().partition(|m| shadowing.contains(m));
            let requests = found
                .iter()
                .map(|(i, m, ex)| format!("`{m} {ex}` (under `{}`)", wl.rules[*i].path))
                .collect::<Vec<_>>()
                .join(", ");
            let spans: Vec<_> = found
                .iter()
                .filter_map(|(i, _, _)| ctx.at(&format!("/workloads/{wi}/rules/{i}/path")))
                .collect();
            let join = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
            let d = ctx.report(
                Code::ApiruleMethodShadowed,
                &format!("/workloads/{wi}/rules/{j}/methods"),
                format!(
                    "{requests} {} denied with 403: this rule routes {}, but the controller \
                     excludes earlier rules' paths from this rule's policies for all of its \
                     methods ({}), not only for the shared {}",
                    if found.len() == 1 { "is" } else { "are" },
                    if found.len() == 1 { "it" } else { "them" },
                    rule.methods.join(", "),
                    join(&shared),
                ),
            );
            for s in spans {
                d.related
                    .push((s, "an earlier rule whose path is excluded".into()));
            }
            d.with_help(format!(
                "split the methods into separate rules with the same path and access: `{}` with \
                 [{}], then `{}` with [{}] (api-gateway docs: significance of rule path and \
                 method order)",
                rule.path,
                join(&shared),
                rule.path,
                join(&rest)
            ));
        }
    }
}
