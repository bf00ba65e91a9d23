//! Test support for the services' OpenAPI documents: reads a service's router source files and compares the routes
//! they register with the routes its document describes, so that a route added without documentation (or
//! documented but not served) fails a test; and sends every documented operation an oversized body
//! ([`oversized_bodies`]). Used as a dev-dependency only.

pub mod oversized_bodies;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// A `(method, path)` pair, method in lower case as OpenAPI writes it.
pub type Route = (String, String);

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Where a service writes its routers.
#[derive(Debug, Clone, Copy)]
pub struct RouterSources<'a> {
    /// The crate's directory: `env!("CARGO_MANIFEST_DIR")`.
    pub crate_dir: &'a str,
    /// Directories (relative to the crate) holding router code, each with the prefix its router is nested under.
    pub directories: &'a [(&'a str, &'a str)],
    /// Route paths the routers name by constant rather than by literal: (constant name, its value).
    pub path_constants: &'a [(&'a str, &'a str)],
}

impl RouterSources<'_> {
    /// Every route the router files register (new files included), prefixed as nested. Test code is skipped.
    pub fn registered_routes(&self) -> BTreeSet<Route> {
        let mut routes = BTreeSet::new();
        for (directory, prefix) in self.directories {
            for code in rust_files_without_tests(&Path::new(self.crate_dir).join(directory)) {
                for (method, route) in routes_in_source(&code, self.path_constants) {
                    let full = if route == "/" && !prefix.is_empty() {
                        (*prefix).to_owned()
                    } else {
                        format!("{prefix}{route}")
                    };
                    routes.insert((method, full));
                }
            }
        }
        routes
    }

    /// `.nest("/prefix", ...)` calls in the router directories whose prefix has no entry in `directories`: their
    /// routes would go unchecked.
    pub fn unknown_nested_prefixes(&self) -> Vec<String> {
        let mut unknown = Vec::new();
        for (directory, _) in self.directories {
            for code in rust_files_without_tests(&Path::new(self.crate_dir).join(directory)) {
                for (position, _) in code.match_indices(".nest(") {
                    let prefix = code[position..].split('"').nth(1).unwrap_or_default().to_owned();
                    if !self.directories.iter().any(|(_, known)| *known == prefix) {
                        unknown.push(prefix);
                    }
                }
            }
        }
        unknown
    }
}

fn rust_files_without_tests(directory: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        panic!("router directory {} cannot be read", directory.display());
    };
    entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "rs"))
        .map(|path| {
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            source.split("#[cfg(test)]").next().unwrap_or_default().to_owned()
        })
        .collect()
}

/// The text between the parenthesis opening at `start` and the one that closes it.
fn balanced_arguments(text: &str, start: usize) -> &str {
    let mut depth = 0usize;
    for (offset, character) in text[start..].char_indices() {
        match character {
            '(' => depth += 1,
            ')' if depth == 1 => return &text[start + 1..start + offset],
            ')' => depth -= 1,
            _ => {}
        }
    }
    &text[start..]
}

/// The route's path: its literal, or the value of the constant it names (an unknown constant panics, naming it).
fn route_path(arguments: &str, path_constants: &[(&str, &str)]) -> String {
    let first = arguments.split(',').next().unwrap_or_default().trim();
    if let Some(literal) = first.strip_prefix('"') {
        return literal.split('"').next().unwrap_or_default().to_owned();
    }
    let name = first.rsplit("::").next().unwrap_or_default();
    match path_constants.iter().find(|(constant, _)| *constant == name) {
        Some((_, path)) => (*path).to_owned(),
        None => panic!("route path constant {first}: add it to the path constants of the OpenAPI check"),
    }
}

/// Every route a `.route("/path", get(..).post(..))` call in `source` registers.
pub fn routes_in_source(source: &str, path_constants: &[(&str, &str)]) -> BTreeSet<Route> {
    let mut routes = BTreeSet::new();
    for (position, _) in source.match_indices(".route(") {
        let arguments = balanced_arguments(source, position + ".route".len());
        let methods: Vec<&str> = METHODS
            .into_iter()
            .filter(|method| {
                arguments.match_indices(&format!("{method}(")).any(|(at, _)| {
                    at == 0
                        || !(arguments.as_bytes()[at - 1].is_ascii_alphanumeric()
                            || arguments.as_bytes()[at - 1] == b'_')
                })
            })
            .collect();
        // A `.route(` call that registers no handler is not a router's.
        if methods.is_empty() {
            continue;
        }
        let path = route_path(arguments, path_constants);
        routes.extend(methods.into_iter().map(|method| (method.to_owned(), path.clone())));
    }
    routes
}

/// Every route an OpenAPI document describes.
pub fn documented_routes(document: &Value) -> BTreeSet<Route> {
    let Some(paths) = document["paths"].as_object() else { return BTreeSet::new() };
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|operations| operations.keys())
                .filter(|key| METHODS.contains(&key.as_str()))
                .map(|method| (method.clone(), path.clone()))
        })
        .collect()
}

/// Refusals (4xx, 5xx) documented without the `{code, message}` `Error` body, as `method path status`. Paths under
/// `html_prefix` answer refusals as HTML pages; those are checked only where they declare JSON.
pub fn refusals_without_the_error_body(document: &Value, html_prefix: Option<&str>) -> Vec<String> {
    let mut missing = Vec::new();
    let Some(paths) = document["paths"].as_object() else { return missing };
    for (path, item) in paths {
        let html_pages = html_prefix.is_some_and(|prefix| path.starts_with(prefix));
        for (method, operation) in item.as_object().into_iter().flatten() {
            for (status, response) in operation["responses"].as_object().into_iter().flatten() {
                let is_refusal = status.starts_with('4') || status.starts_with('5');
                let declares_json = response["content"].get("application/json").is_some();
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                if is_refusal && (declares_json || !html_pages) && schema != "#/components/schemas/Error" {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    missing
}

/// What a service's document must satisfy, in one call: it is OpenAPI 3.0.3 JSON with an `Error` schema; the
/// routers (found through `probe`, a route they certainly register) and the document name the same routes; every
/// refusal is documented with the `Error` body (HTML pages under `html_prefix` excepted); no nested router goes
/// unscanned. Panics with what is missing.
pub fn assert_document_matches_routers(
    service: &str,
    document_text: &str,
    sources: &RouterSources<'_>,
    probe: (&str, &str),
    html_prefix: Option<&str>,
) {
    let document: Value = serde_json::from_str(document_text).unwrap_or_else(|error| panic!("{service}: {error}"));
    assert_eq!(document["openapi"], "3.0.3", "{service}/openapi.json");
    assert!(document["components"]["schemas"]["Error"].is_object(), "{service}/openapi.json has no Error schema");
    let (registered, documented) = (sources.registered_routes(), documented_routes(&document));
    let probe = (probe.0.to_owned(), probe.1.to_owned());
    assert!(registered.contains(&probe), "{service}: the router scan did not find {probe:?}");
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    assert!(undocumented.is_empty(), "routes missing from {service}/openapi.json: {undocumented:?}");
    let unserved: Vec<_> = documented.difference(&registered).collect();
    assert!(unserved.is_empty(), "{service} documents routes its router does not serve: {unserved:?}");
    let missing = refusals_without_the_error_body(&document, html_prefix);
    assert!(missing.is_empty(), "{service}: refusals without the Error body: {missing:?}");
    let unknown = sources.unknown_nested_prefixes();
    assert!(unknown.is_empty(), "{service}: routers nested at {unknown:?} are not scanned");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_scanning_finds_chained_methods_and_named_paths() {
        let source = r#".route("/a/{id}", get(list).post(create)).route(api::B_PATH, patch(x::y)).route(&to)"#;
        let routes = routes_in_source(source, &[("B_PATH", "/b")]);
        assert_eq!(routes.len(), 3, "{routes:?}");
        assert!(routes.contains(&("post".to_owned(), "/a/{id}".to_owned())));
        assert!(routes.contains(&("patch".to_owned(), "/b".to_owned())));
    }

    #[test]
    fn refusals_without_the_error_body_are_listed() {
        let document = serde_json::json!({"paths": {
            "/x": {"get": {"responses": {"404": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
            "/y": {"post": {"responses": {"400": {"description": "bad"}}}},
            "/page": {"get": {"responses": {"403": {"content": {"text/html": {}}}}}}
        }});
        assert_eq!(refusals_without_the_error_body(&document, Some("/page")), vec!["post /y 400".to_owned()]);
        assert_eq!(documented_routes(&document).len(), 3);
    }
}
