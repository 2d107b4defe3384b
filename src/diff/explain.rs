//! `explain`: the access table per host, or what a request meets and needs — answered from
//! the Istio model of the rendered objects ([`crate::mesh`]), i.e. as Envoy enforces it.

use super::Object;
use super::access::Model;
use crate::mesh::{self, Mesh};
use std::collections::BTreeSet;

pub use crate::mesh::explain::PROXY_ENDPOINTS;

/// The mesh of rendered objects (either target).
pub fn mesh_of(objects: &[Object]) -> Mesh {
    let pairs: Vec<(&str, &serde_json::Value)> = objects
        .iter()
        .map(|o| (o.id.kind.as_str(), &*o.value))
        .collect();
    mesh::parse::from_rendered(&pairs)
}

/// oauth2-proxy authorizers registered without a path prefix (oauth2-proxy then answers
/// its own endpoints for every workload they protect).
pub fn open_authorizers(model: &Model) -> BTreeSet<String> {
    model
        .authorizers
        .iter()
        .filter(|(_, info)| {
            info.flags.is_some()
                && info
                    .registration
                    .as_ref()
                    .and_then(|r| r.get("pathPrefix"))
                    .and_then(|p| p.as_str())
                    .is_none_or(str::is_empty)
        })
        .map(|(n, _)| n.clone())
        .collect()
}

/// The access table: per host, every route in order with what it needs.
pub fn table(objects: &[Object]) -> String {
    mesh::explain::table(&mesh_of(objects))
}

/// What a request meets and needs to pass.
pub fn request(objects: &[Object], method: &str, url: &str) -> Result<String, String> {
    let open = open_authorizers(&Model::from_objects(objects));
    mesh::explain::request(&mesh_of(objects), &open, method, url)
}
