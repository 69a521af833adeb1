//! Router: different module stacks per task (e.g. a small query encoder and a large document
//! encoder), read from `router_config.json` as sentence-transformers saves it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Role;
use crate::error::{read_json, Error, Result};

#[derive(Debug, Deserialize)]
pub struct RouterConfig {
    /// Sub-module folder → module type.
    pub types: BTreeMap<String, String>,
    /// Route name → sub-module folders, in order.
    pub structure: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub parameters: RouterParameters,
}

#[derive(Debug, Default, Deserialize)]
pub struct RouterParameters {
    #[serde(default)]
    pub default_route: Option<String>,
    #[serde(default = "yes")]
    pub allow_empty_key: bool,
    /// `"('query', None)"`-style keys, as Python writes tuples.
    #[serde(default)]
    pub route_mappings: Option<BTreeMap<String, String>>,
}

fn yes() -> bool {
    true
}

/// A (task, modality) pattern; None matches any.
type RouteKey = (Option<String>, Option<String>);

/// How a role maps to a route name; the modules themselves live in the encoder's tree.
#[derive(Debug, Clone)]
pub struct Routing {
    routes: Vec<String>,
    /// (task, modality) → route, with None as the wildcard.
    mappings: Vec<(RouteKey, String)>,
    default_route: Option<String>,
}

impl Routing {
    pub fn load(dir: &Path) -> Result<(Self, RouterConfig)> {
        let path = dir.join("router_config.json");
        let cfg: RouterConfig = read_json(&path)?;
        for (route, ids) in &cfg.structure {
            if let Some(id) = ids.iter().find(|id| !cfg.types.contains_key(*id)) {
                return Err(Error::invalid(
                    &path,
                    format!("route `{route}` uses `{id}`, which `types` does not define"),
                ));
            }
        }
        let routes: Vec<String> = cfg.structure.keys().cloned().collect();
        let mut default_route = cfg.parameters.default_route.clone();
        if let Some(d) = &default_route {
            if !cfg.structure.contains_key(d) {
                return Err(Error::invalid(
                    &path,
                    format!("default_route `{d}` is not among the routes {routes:?}"),
                ));
            }
        } else if cfg.parameters.allow_empty_key {
            default_route = routes.first().cloned();
        }
        let mappings = cfg
            .parameters
            .route_mappings
            .iter()
            .flatten()
            .filter_map(|(k, v)| parse_key(k).map(|key| (key, v.clone())))
            .collect();
        Ok((
            Self {
                routes,
                mappings,
                default_route,
            },
            cfg,
        ))
    }

    /// The route for a role: explicit mappings first, then a route named after the task,
    /// then the default route. A query or document task with no route is an error, as it is
    /// in sentence-transformers.
    pub fn route_for(&self, role: Role, path: &Path) -> Result<&str> {
        let task = match role {
            Role::Query => Some("query"),
            Role::Document => Some("document"),
            Role::Plain => None,
        };
        let text = Some("text");
        let candidates = [(task, text), (task, None), (None, text), (None, None)];
        for (t, m) in candidates {
            if let Some((_, route)) = self
                .mappings
                .iter()
                .find(|((kt, km), _)| kt.as_deref() == t && km.as_deref() == m)
            {
                return Ok(route);
            }
        }
        if let Some(r) = task
            .into_iter()
            .chain(text)
            .find_map(|name| self.routes.iter().find(|r| *r == name))
        {
            return Ok(r);
        }
        if let Some(t) = task {
            return Err(Error::invalid(
                path,
                format!("no route for task `{t}`; the routes are {:?}", self.routes),
            ));
        }
        self.default_route.as_deref().ok_or_else(|| {
            Error::invalid(
                path,
                format!(
                    "no default_route to use for plain encoding; the routes are {:?}",
                    self.routes
                ),
            )
        })
    }
}

/// Parses `"('query', None)"` into (Some("query"), None); tuple-valued modalities (several
/// modalities at once) concern non-text inputs and are skipped.
fn parse_key(key: &str) -> Option<RouteKey> {
    let inner = key.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut parts = inner.splitn(2, ',');
    let task = parse_item(parts.next()?)?;
    let modality = parse_item(parts.next()?)?;
    Some((task, modality))
}

fn parse_item(item: &str) -> Option<Option<String>> {
    let item = item.trim();
    if item == "None" {
        return Some(None);
    }
    let unquoted = item
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| item.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
    Some(Some(unquoted.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routing(routes: &[&str], default: Option<&str>, mappings: &[(&str, &str)]) -> Routing {
        Routing {
            routes: routes.iter().map(|s| s.to_string()).collect(),
            default_route: default.map(String::from),
            mappings: mappings
                .iter()
                .filter_map(|(k, v)| parse_key(k).map(|key| (key, v.to_string())))
                .collect(),
        }
    }

    #[test]
    fn tasks_route_by_name_and_plain_goes_to_the_default() {
        let r = routing(&["document", "query"], Some("document"), &[]);
        let p = Path::new("router_config.json");
        assert_eq!(r.route_for(Role::Query, p).unwrap(), "query");
        assert_eq!(r.route_for(Role::Document, p).unwrap(), "document");
        assert_eq!(r.route_for(Role::Plain, p).unwrap(), "document");
    }

    #[test]
    fn mappings_win_over_names_and_missing_routes_are_errors() {
        let r = routing(
            &["a", "b"],
            Some("a"),
            &[("('query', None)", "b"), ("(None, 'text')", "a")],
        );
        let p = Path::new("x/router_config.json");
        assert_eq!(r.route_for(Role::Query, p).unwrap(), "b");
        assert_eq!(r.route_for(Role::Document, p).unwrap(), "a");
        let bare = routing(&["a"], None, &[]);
        let err = bare.route_for(Role::Query, p).unwrap_err().to_string();
        assert!(
            err.contains("x/router_config.json") && err.contains("query"),
            "{err}"
        );
    }
}
