//! Reads a sentence-transformers folder generically from its own files: `modules.json`
//! lists the modules in order; each module folder holds its own config and weights; a
//! Router nests further module lists, one per route.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::Device;
use serde::Deserialize;

use super::dense::Dense;
use super::pooling::Pooling;
use super::precision::Precision;
use super::router::Routing;
use super::transformer::Transformer;
use super::Role;
use crate::error::{read_json, Error, Result};

pub enum Module {
    Transformer(Box<Transformer>),
    Pooling(Pooling),
    Dense(Dense),
    Normalize,
    Router(Router),
}

pub struct Router {
    config_path: PathBuf,
    routing: Routing,
    routes: BTreeMap<String, Vec<Arc<Module>>>,
}

#[derive(Debug, Deserialize)]
struct ModuleEntry {
    path: String,
    #[serde(rename = "type")]
    type_name: String,
}

/// Loads the modules listed in `<dir>/modules.json`, Transformers computing at `precision`.
pub fn load_modules(dir: &Path, device: &Device, precision: Precision) -> Result<Vec<Arc<Module>>> {
    let path = dir.join("modules.json");
    let entries: Vec<ModuleEntry> = read_json(&path)?;
    if entries.is_empty() {
        return Err(Error::invalid(
            &path,
            "lists no modules; expected at least a Transformer",
        ));
    }
    entries
        .iter()
        .map(|e| {
            load_module(&dir.join(&e.path), &e.type_name, &path, device, precision).map(Arc::new)
        })
        .collect()
}

/// `type_name` is a Python class path; only its last segment matters, so that the
/// `sentence_transformers.models.X` and newer module paths both load.
fn load_module(
    dir: &Path,
    type_name: &str,
    listed_in: &Path,
    device: &Device,
    precision: Precision,
) -> Result<Module> {
    let class = type_name.rsplit('.').next().unwrap_or(type_name);
    Ok(match class {
        "Transformer" => Module::Transformer(Box::new(Transformer::load(dir, device, precision)?)),
        "Pooling" => Module::Pooling(Pooling::load(dir)?),
        "Dense" => Module::Dense(Dense::load(dir, device)?),
        "Normalize" => Module::Normalize,
        "Router" => Module::Router(load_router(dir, device, precision)?),
        _ => {
            return Err(Error::UnknownModule {
                path: listed_in.to_path_buf(),
                type_name: type_name.to_string(),
            })
        }
    })
}

fn load_router(dir: &Path, device: &Device, precision: Precision) -> Result<Router> {
    let (routing, cfg) = Routing::load(dir)?;
    let config_path = dir.join("router_config.json");
    let mut loaded: BTreeMap<&str, Arc<Module>> = BTreeMap::new();
    for (id, type_name) in &cfg.types {
        let module = load_module(&dir.join(id), type_name, &config_path, device, precision)?;
        loaded.insert(id.as_str(), Arc::new(module));
    }
    let routes = cfg
        .structure
        .iter()
        .map(|(route, ids)| {
            (
                route.clone(),
                ids.iter().map(|id| loaded[id.as_str()].clone()).collect(),
            )
        })
        .collect();
    Ok(Router {
        config_path,
        routing,
        routes,
    })
}

/// The modules one input goes through for `role`, with every Router replaced by the
/// modules of the route it picks.
pub fn flatten(modules: &[Arc<Module>], role: Role) -> Result<Vec<Arc<Module>>> {
    let mut out = Vec::new();
    for m in modules {
        match m.as_ref() {
            Module::Router(r) => {
                let route = r.routing.route_for(role, &r.config_path)?;
                out.extend(flatten(&r.routes[route], role)?);
            }
            _ => out.push(m.clone()),
        }
    }
    Ok(out)
}

/// Every route's flattened stack, for validating each one at load time.
pub fn all_roles() -> [Role; 3] {
    [Role::Query, Role::Document, Role::Plain]
}
