//! `GET /openapi.json`: the OpenAPI 3.0 document of every route this router serves (`platform/openapi.json`).

use axum::http::header;
use axum::response::IntoResponse;

/// The document, as written in `platform/openapi.json`.
pub(super) const OPENAPI_DOCUMENT: &str = include_str!("../../openapi.json");

/// Serves the document as it is written.
pub(super) async fn openapi_document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeSet;

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

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

    /// Route paths the routers name by constant rather than by literal.
    const ROUTE_PATH_CONSTANTS: &[(&str, &str)] = &[];

    /// The route's path: its literal, or the value of the constant it names (an unknown constant fails the test).
    fn route_path(arguments: &str) -> String {
        let first = arguments.split(',').next().unwrap_or_default().trim();
        if let Some(literal) = first.strip_prefix('"') {
            return literal.split('"').next().unwrap_or_default().to_owned();
        }
        let name = first.rsplit("::").next().unwrap_or_default();
        let known = ROUTE_PATH_CONSTANTS.iter().find(|(constant, _)| *constant == name);
        let (_, path) = known.unwrap_or_else(|| panic!("route path constant {first}: add it to ROUTE_PATH_CONSTANTS"));
        (*path).to_owned()
    }

    /// Every `(method, path)` a `.route("/path", get(..).post(..))` call in `source` registers.
    fn routes_in_source(source: &str) -> BTreeSet<(String, String)> {
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
            // A `.route(` call that registers no handler (`routes.route(&to)`) is not a router's.
            if methods.is_empty() {
                continue;
            }
            let path = route_path(arguments);
            routes.extend(methods.into_iter().map(|method| (method.to_owned(), path.clone())));
        }
        routes
    }

    /// Where routers are written, and the prefix they are served under (`.nest("/console", ...)`).
    const ROUTER_SOURCES: [(&str, &str); 2] = [("src/http", ""), ("src/console", "/console")];

    fn code_of(path: &std::path::Path) -> String {
        let source = std::fs::read_to_string(path).unwrap();
        source.split("#[cfg(test)]").next().unwrap_or_default().to_owned()
    }

    /// Every `(method, path)` the router files register (new files included), prefixed as nested.
    fn registered_routes() -> BTreeSet<(String, String)> {
        let mut routes = BTreeSet::new();
        for (directory, prefix) in ROUTER_SOURCES {
            let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(directory);
            for entry in std::fs::read_dir(directory).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|extension| extension == "rs") {
                    for (method, route) in routes_in_source(&code_of(&path)) {
                        let full = if route == "/" && !prefix.is_empty() {
                            prefix.to_owned()
                        } else {
                            format!("{prefix}{route}")
                        };
                        routes.insert((method, full));
                    }
                }
            }
        }
        routes
    }

    #[test]
    fn every_nested_router_is_scanned() {
        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
        for entry in std::fs::read_dir(directory).unwrap() {
            let code = code_of(&entry.unwrap().path());
            for (position, _) in code.match_indices(".nest(") {
                let prefix = code[position..].split('"').nth(1).unwrap_or_default();
                let known = ROUTER_SOURCES.iter().any(|(_, known)| *known == prefix);
                assert!(known, "router nested at {prefix:?}: add its source directory to ROUTER_SOURCES");
            }
        }
    }

    fn documented_routes(document: &Value) -> BTreeSet<(String, String)> {
        let paths = document["paths"].as_object().unwrap();
        paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .filter(|key| METHODS.contains(&key.as_str()))
                    .map(|method| (method.clone(), path.clone()))
            })
            .collect()
    }

    #[test]
    fn the_document_is_openapi_3_json() {
        let document: Value = serde_json::from_str(OPENAPI_DOCUMENT).unwrap();
        assert_eq!(document["openapi"], "3.0.3");
        assert!(document["components"]["schemas"]["Error"].is_object());
    }

    #[test]
    fn every_registered_route_is_documented_and_every_documented_route_is_registered() {
        let document: Value = serde_json::from_str(OPENAPI_DOCUMENT).unwrap();
        let (registered, documented) = (registered_routes(), documented_routes(&document));
        assert!(registered.contains(&("get".to_owned(), "/v1/terminals/{terminal_id}/binding".to_owned())));
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        assert!(undocumented.is_empty(), "routes missing from platform/openapi.json: {undocumented:?}");
        let unserved: Vec<_> = documented.difference(&registered).collect();
        assert!(unserved.is_empty(), "documented routes the router does not serve: {unserved:?}");
    }

    #[test]
    fn every_operation_documents_its_refusals_with_the_error_body() {
        let document: Value = serde_json::from_str(OPENAPI_DOCUMENT).unwrap();
        for (path, item) in document["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                for (status, response) in operation["responses"].as_object().unwrap() {
                    let is_refusal = status.starts_with('4') || status.starts_with('5');
                    let json = response["content"].get("application/json").is_some();
                    if is_refusal && (json || !path.starts_with("/console")) {
                        let schema = &response["content"]["application/json"]["schema"]["$ref"];
                        assert_eq!(schema, "#/components/schemas/Error", "{method} {path} {status}");
                    }
                }
            }
        }
    }

    #[test]
    fn route_scanning_finds_chained_methods() {
        let source = r#".route("/a/{id}", get(list).post(create)).route("/b", patch(x::y))"#;
        let routes: Vec<_> = routes_in_source(source).into_iter().collect();
        assert_eq!(routes.len(), 3, "{routes:?}");
        assert!(routes.contains(&("post".to_owned(), "/a/{id}".to_owned())));
    }
}
