//! The two targets enforce the same access: for every fixture, the mesh read back from the
//! Kyma render (APIRules, translated as the api-gateway controller does) and from the
//! `--target istio` render (the Istio objects as written) give the same verdict and route
//! for every region of request paths, every method the fixture names (and one it does not),
//! every host, and in-cluster callers of every workload.

use kexpose::diag::Policy;
use kexpose::mesh::{Mesh, parse, path::Template, regions};
use kexpose::render::Templates;
use kexpose::{Target, compile_for};
use serde_json::Value;
use std::path::Path;

fn mesh_of(spec: &Path, istio: bool) -> Mesh {
    let source = kexpose::read_spec(spec).unwrap_or_else(|_| panic!("{}", spec.display()));
    let target = Target {
        istio,
        ..Target::default()
    };
    let c = compile_for(
        source,
        "kexpose.yaml",
        &Templates::builtin(),
        &Policy::default(),
        &target,
    );
    assert!(!c.has_errors(), "{}: {:?}", spec.display(), c.diagnostics);
    let objects: Vec<(String, Value)> = c
        .objects
        .expect("objects")
        .iter()
        .map(|text| {
            let src = kexpose::source::SourceFile::new("object", text);
            let v = kexpose::yaml::parse(&src, false)
                .expect("rendered YAML parses")
                .value;
            (v["kind"].as_str().unwrap_or_default().to_string(), v)
        })
        .collect();
    parse::from_rendered(&objects)
}

#[test]
fn explain_answers_identically_for_both_targets_on_every_fixture() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let spec = entry.unwrap().path().join("kexpose.yaml");
        if !spec.exists() {
            continue;
        }
        let (kyma, istio) = (mesh_of(&spec, false), mesh_of(&spec, true));
        assert_eq!(
            kyma.translations
                .iter()
                .filter(|t| !t.host.is_empty())
                .count(),
            istio
                .translations
                .iter()
                .filter(|t| !t.host.is_empty())
                .count()
        );
        for t in kyma.translations.iter().filter(|t| !t.host.is_empty()) {
            let host = t.host.replace("*.", "x.");
            let templates: Vec<Template> =
                t.rules.iter().map(|(p, _)| Template::parse(p)).collect();
            let mut methods: Vec<String> = t.rules.iter().flat_map(|(_, m)| m.clone()).collect();
            methods.push("PATCH".into());
            methods.sort();
            methods.dedup();
            for cell in regions::cells(&templates) {
                for m in &methods {
                    let (a, b) = (
                        kyma.evaluate(&host, m, &cell.witness),
                        istio.evaluate(&host, m, &cell.witness),
                    );
                    assert_eq!(
                        (a.route, &a.verdict),
                        (b.route, &b.verdict),
                        "{}: {m} {host}{}",
                        spec.display(),
                        cell.witness
                    );
                    checked += 1;
                }
            }
            for r in &t.virtual_service.http {
                let (a, b) = (
                    kyma.evaluate_in_cluster(&r.workload, "GET", "/"),
                    istio.evaluate_in_cluster(&r.workload, "GET", "/"),
                );
                assert_eq!(
                    a.verdict,
                    b.verdict,
                    "{}: in-cluster {}",
                    spec.display(),
                    r.destination_host
                );
            }
        }
    }
    assert!(checked > 50, "only {checked} requests compared");
}
