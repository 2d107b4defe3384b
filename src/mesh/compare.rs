//! Effective access, before and after: for each host and method, every region of request
//! paths whose verdict changed, with a concrete example request in it; and for each
//! workload, what in-cluster callers get. Rules are never compared with rules: adding,
//! removing, reordering or rewriting them shows up exactly where requests get a different
//! answer.

use super::Mesh;
use super::eval::Verdict;
use super::path::Template;
use super::regions;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// How a region's access changed, loudest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// Passes with no token and no authorizer now, and did not before.
    BecamePublic,
    /// Was 404/403, is allowed (with credentials) now.
    Added,
    /// Admits some request it refused before: a lost authorizer, scope, audience or
    /// restriction, another issuer.
    Weakened,
    /// Different, but nothing newly admitted (e.g. 404 ↔ 403).
    Changed,
    /// Admits less than before, still reachable.
    Narrowed,
    /// Was allowed, is 404/403 now.
    Removed,
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChangeKind::BecamePublic => "became public",
            ChangeKind::Added => "opened",
            ChangeKind::Weakened => "weakened",
            ChangeKind::Changed => "changed",
            ChangeKind::Narrowed => "narrowed",
            ChangeKind::Removed => "closed",
        })
    }
}

/// A region of request paths: those every `matches` template matches and no `notMatches`
/// template does (APIRule path syntax; `/*` is every path).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// Templates every path of the region matches (the most specific ones).
    pub matches: Vec<String>,
    /// Templates no path of the region matches (those that overlap it).
    pub not_matches: Vec<String>,
    /// Membership of every template considered (for tests and tools).
    #[serde(skip)]
    pub cell: Vec<(String, bool)>,
}

impl Region {
    /// Does the region contain the path?
    pub fn contains(&self, path: &str) -> bool {
        self.cell
            .iter()
            .all(|(t, m)| Template::parse(t).matches(path) == *m)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.matches.is_empty() && self.cell.is_empty() {
            return f.write_str("every path");
        }
        if self.matches.is_empty() {
            f.write_str("paths no rule names")?;
        } else {
            f.write_str(&self.matches.join(" ∩ "))?;
        }
        if !self.not_matches.is_empty() {
            write!(f, " except {}", self.not_matches.join(", "))?;
        }
        Ok(())
    }
}

/// A request to try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    /// Method.
    pub method: String,
    /// URL.
    pub url: String,
}

/// One changed region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Kind, loudest first.
    pub kind: ChangeKind,
    /// Does the after side admit a request the before side refused?
    pub weakening: bool,
    /// Host (in-cluster changes: the Service's cluster-local name).
    pub host: String,
    /// Method (`*` for in-cluster changes: every method).
    pub method: String,
    /// Who sends the request: `gateway` or `in-cluster`.
    pub caller: String,
    /// The region.
    pub region: Region,
    /// A request in the region.
    pub example: Example,
    /// Verdict before.
    pub before: Verdict,
    /// Verdict after.
    pub after: Verdict,
    /// Verdict before, in words.
    pub before_summary: String,
    /// Verdict after, in words.
    pub after_summary: String,
}

fn kind_of(before: &Verdict, after: &Verdict) -> (ChangeKind, bool) {
    let weakening = after.weakens(before);
    let allowed = |v: &Verdict| matches!(v, Verdict::Allowed { .. });
    let kind = if after.is_public() && !before.is_public() {
        ChangeKind::BecamePublic
    } else if !allowed(before) && allowed(after) {
        ChangeKind::Added
    } else if weakening {
        ChangeKind::Weakened
    } else if allowed(before) && !allowed(after) {
        ChangeKind::Removed
    } else if before.weakens(after) {
        ChangeKind::Narrowed
    } else {
        ChangeKind::Changed
    };
    (kind, weakening)
}

/// An example host for a wildcard host.
fn concrete_host(host: &str) -> String {
    match host.strip_prefix("*.") {
        Some(rest) => format!("x.{rest}"),
        None => host.to_string(),
    }
}

/// What changed between two meshes, coarsely, to skip what cannot answer differently.
///
/// A host's requests are judged on its focused mesh (`compare::focus`): the translations on
/// the host and those with policies or RequestAuthentications on the pods its routes lead to.
/// When every one of them is unchanged — the host's own in full, the others in their
/// policies and RequestAuthentications — and in the same order, the two focused meshes answer
/// every request alike and the host can be skipped. In-cluster callers of a workload are
/// judged on the policies on its pods only.
struct Dirty {
    /// Compare everything: translations could not be paired in order, or a changed one has a
    /// wildcard host (it can serve other hosts' requests).
    all: bool,
    /// Hosts (lowercase) of translations added, removed or changed in any part.
    hosts: std::collections::HashSet<String>,
    /// Pods with a policy or RequestAuthentication added, removed or changed.
    pods: Vec<super::WorkloadRef>,
}

impl Dirty {
    fn new(before: &Mesh, after: &Mesh) -> Dirty {
        let mut d = Dirty {
            all: false,
            hosts: std::collections::HashSet::new(),
            pods: Vec::new(),
        };
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for (j, t) in after.translations.iter().enumerate() {
            if by_name.insert(t.apirule.as_str(), j).is_some() {
                d.all = true;
            }
        }
        let mut partnered = vec![false; after.translations.len()];
        let mut last: Option<usize> = None;
        for tb in &before.translations {
            match by_name.get(tb.apirule.as_str()) {
                Some(&j) if !partnered[j] => {
                    partnered[j] = true;
                    if last.is_some_and(|l| j < l) {
                        d.all = true;
                    }
                    last = Some(j);
                    let ta = &after.translations[j];
                    if tb != ta {
                        d.full(tb);
                        d.full(ta);
                        if tb.policies != ta.policies
                            || tb.request_authentications != ta.request_authentications
                        {
                            d.policies(tb);
                            d.policies(ta);
                        }
                    }
                }
                _ => {
                    d.full(tb);
                    d.policies(tb);
                }
            }
        }
        for (j, ta) in after.translations.iter().enumerate() {
            if !partnered[j] {
                d.full(ta);
                d.policies(ta);
            }
        }
        d
    }

    fn full(&mut self, t: &super::Translation) {
        if t.host.contains('*') {
            self.all = true;
        }
        self.hosts.insert(t.host.to_ascii_lowercase());
    }

    fn policies(&mut self, t: &super::Translation) {
        self.pods.extend(
            t.policies
                .iter()
                .map(|p| p.workload.clone())
                .chain(t.request_authentications.iter().map(|r| r.workload.clone())),
        );
    }

    /// Can a pod's policies differ?
    fn pod(&self, w: &super::WorkloadRef) -> bool {
        self.all || self.pods.iter().any(|p| p.same_pods(w))
    }
}

/// Compare two meshes, weakening changes first.
pub fn compare(before: &Mesh, after: &Mesh) -> Vec<Change> {
    compare_with(before, after, Dirty::new(before, after))
}

/// [`compare`] judging every host and workload, none skipped (the skip's reference in tests).
#[cfg(test)]
fn compare_everything(before: &Mesh, after: &Mesh) -> Vec<Change> {
    let mut dirty = Dirty::new(before, after);
    dirty.all = true;
    compare_with(before, after, dirty)
}

fn compare_with(before: &Mesh, after: &Mesh, dirty: Dirty) -> Vec<Change> {
    let mut out = Vec::new();
    let hosts: BTreeSet<String> = before
        .translations
        .iter()
        .chain(&after.translations)
        .map(|t| t.host.to_ascii_lowercase())
        .collect();
    // Per host (and per workload), only the translations that can matter: the host's, and
    // those with policies or RequestAuthentications on the same pods, found through an index
    // by namespace, so the comparison stays near-linear in the number of workloads.
    struct Index<'m> {
        mesh: &'m Mesh,
        by_host: HashMap<String, Vec<usize>>,
        by_ns: HashMap<&'m str, Vec<usize>>,
    }
    fn index(m: &Mesh) -> Index<'_> {
        let mut by_host: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_ns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, t) in m.translations.iter().enumerate() {
            by_host
                .entry(t.host.to_ascii_lowercase())
                .or_default()
                .push(i);
            let nss: BTreeSet<&str> = t
                .policies
                .iter()
                .map(|p| p.workload.namespace.as_str())
                .chain(
                    t.request_authentications
                        .iter()
                        .map(|r| r.workload.namespace.as_str()),
                )
                .collect();
            for ns in nss {
                by_ns.entry(ns).or_default().push(i);
            }
        }
        Index {
            mesh: m,
            by_host,
            by_ns,
        }
    }
    // The focused meshes by the translations they hold: hosts and workloads that share pods
    // (e.g. every rule routed to one shared Service) pick the same translations, and cloning
    // them once per host was quadratic (issue 15: 57 s of CPU for `diff` at N = 5 000, where a
    // quarter of the generated workloads route a path to one shared Service).
    type Cache = HashMap<Vec<usize>, Mesh>;
    fn focus<'c>(
        ix: &Index<'_>,
        host: Option<&str>,
        pods: &[super::WorkloadRef],
        cache: &'c mut Cache,
    ) -> &'c Mesh {
        let mut picked: BTreeSet<usize> = BTreeSet::new();
        if let Some(h) = host {
            picked.extend(ix.by_host.get(h).into_iter().flatten());
        }
        let mut pods: Vec<super::WorkloadRef> = pods.to_vec();
        for &i in &picked {
            pods.extend(
                ix.mesh.translations[i]
                    .virtual_service
                    .http
                    .iter()
                    .map(|r| r.workload.clone()),
            );
        }
        for p in &pods {
            for &i in ix.by_ns.get(p.namespace.as_str()).into_iter().flatten() {
                let t = &ix.mesh.translations[i];
                if t.policies
                    .iter()
                    .map(|q| &q.workload)
                    .chain(t.request_authentications.iter().map(|r| &r.workload))
                    .any(|w| p.same_pods(w))
                {
                    picked.insert(i);
                }
            }
        }
        cache
            .entry(picked.into_iter().collect())
            .or_insert_with_key(|picked| Mesh {
                translations: picked
                    .iter()
                    .map(|&i| ix.mesh.translations[i].clone())
                    .collect(),
                providers: Vec::new(),
                ingress_principal: ix.mesh.ingress_principal.clone(),
            })
    }
    let (ib, ia) = (index(before), index(after));
    let (mut cb, mut ca) = (Cache::new(), Cache::new());
    for host in hosts.iter().filter(|h| !h.is_empty()) {
        let changed = dirty.all
            || dirty.hosts.contains(host)
            || dirty.hosts.contains(&concrete_host(host))
            || [&ib, &ia].iter().any(|ix| {
                ix.by_host.get(host).into_iter().flatten().any(|&i| {
                    ix.mesh.translations[i]
                        .virtual_service
                        .http
                        .iter()
                        .any(|r| dirty.pod(&r.workload))
                })
            });
        if !changed {
            continue;
        }
        let (before, after) = (
            focus(&ib, Some(host), &[], &mut cb),
            focus(&ia, Some(host), &[], &mut ca),
        );
        let on_host = |m: &Mesh| -> Vec<(String, Vec<String>)> {
            m.translations
                .iter()
                .filter(|t| t.host.eq_ignore_ascii_case(host))
                .flat_map(|t| t.rules.iter().cloned())
                .collect()
        };
        let rules: Vec<(String, Vec<String>)> =
            on_host(before).into_iter().chain(on_host(after)).collect();
        let mut paths: Vec<String> = Vec::new();
        for (p, _) in &rules {
            let p = if p == "/*" {
                "/{**}".to_string()
            } else {
                p.clone()
            };
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
        let methods: BTreeSet<String> = rules.iter().flat_map(|(_, m)| m.clone()).collect();
        let templates: Vec<Template> = paths.iter().map(|p| Template::parse(p)).collect();
        let cells = regions::cells(&templates);
        let example_host = concrete_host(host);
        for method in &methods {
            for cell in &cells {
                let b = before
                    .evaluate(&example_host, method, &cell.witness)
                    .verdict;
                let a = after.evaluate(&example_host, method, &cell.witness).verdict;
                if a == b {
                    continue;
                }
                let (kind, weakening) = kind_of(&b, &a);
                out.push(Change {
                    kind,
                    weakening,
                    host: host.clone(),
                    method: method.clone(),
                    caller: "gateway".into(),
                    region: describe(&paths, &cells, &cell.members),
                    example: Example {
                        method: method.clone(),
                        url: format!("https://{example_host}{}", cell.witness),
                    },
                    before_summary: b.summary(),
                    after_summary: a.summary(),
                    before: b,
                    after: a,
                });
            }
        }
    }
    // In-cluster callers, per workload: no route; only policies without host scoping can
    // admit them, and kexpose writes those without paths, so one request stands for all.
    let mut workloads = Vec::new();
    let mut seen_pods = std::collections::HashSet::new();
    for m in [before, after] {
        for t in &m.translations {
            for r in &t.virtual_service.http {
                // Routes name their workload by Service (selectors live on policies).
                if seen_pods.insert((&r.workload.namespace, &r.workload.service)) {
                    workloads.push(r.workload.clone());
                }
            }
        }
    }
    for w in workloads.iter().filter(|w| dirty.pod(w)) {
        let pods = std::slice::from_ref(w);
        let b = focus(&ib, None, pods, &mut cb)
            .evaluate_in_cluster(w, "GET", "/")
            .verdict;
        let a = focus(&ia, None, pods, &mut ca)
            .evaluate_in_cluster(w, "GET", "/")
            .verdict;
        if a == b {
            continue;
        }
        let (kind, weakening) = kind_of(&b, &a);
        let host = format!("{}.{}.svc.cluster.local", w.service, w.namespace);
        out.push(Change {
            kind,
            weakening,
            host: host.clone(),
            method: "*".into(),
            caller: "in-cluster".into(),
            region: Region {
                matches: Vec::new(),
                not_matches: Vec::new(),
                cell: Vec::new(),
            },
            example: Example {
                method: "GET".into(),
                url: format!("http://{host}/"),
            },
            before_summary: b.summary(),
            after_summary: a.summary(),
            before: b,
            after: a,
        });
    }
    out.sort_by(|x, y| {
        (!x.weakening, x.kind, &x.host, &x.example.url, &x.method).cmp(&(
            !y.weakening,
            y.kind,
            &y.host,
            &y.example.url,
            &y.method,
        ))
    });
    out
}

/// Name a cell: its most specific matching templates, and the overlapping ones it excludes.
fn describe(paths: &[String], cells: &[regions::Cell], members: &[bool]) -> Region {
    // `a ⊆ b` on the enumerated cells (exact: every non-empty cell is enumerated).
    let subset = |a: usize, b: usize| cells.iter().all(|c| !c.members[a] || c.members[b]);
    let pos: Vec<usize> = (0..paths.len()).filter(|&i| members[i]).collect();
    let matches: Vec<usize> = pos
        .iter()
        .copied()
        .filter(|&p| !pos.iter().any(|&q| q != p && subset(q, p) && !subset(p, q)))
        .collect();
    let overlapping: Vec<usize> = (0..paths.len())
        .filter(|&t| !members[t])
        .filter(|&t| {
            cells
                .iter()
                .any(|c| c.members[t] && pos.iter().all(|&p| c.members[p]))
        })
        .collect();
    let not_matches: Vec<usize> = overlapping
        .iter()
        .copied()
        .filter(|&t| {
            !overlapping
                .iter()
                .any(|&u| u != t && subset(t, u) && !subset(u, t))
        })
        .collect();
    let show = |i: &usize| {
        if paths[*i] == "/{**}" {
            "/*".to_string()
        } else {
            paths[*i].clone()
        }
    };
    Region {
        matches: matches.iter().map(show).collect(),
        not_matches: not_matches.iter().map(show).collect(),
        cell: paths
            .iter()
            .zip(members)
            .map(|(p, m)| (p.clone(), *m))
            .collect(),
    }
}

#[cfg(test)]
mod tests;
