//! `GET /openapi.json`: the OpenAPI 3.0 document of every route this router serves (`sms-sim/openapi.json`).

use axum::http::header;
use axum::response::IntoResponse;

/// The document, as written in `sms-sim/openapi.json`.
pub(super) const OPENAPI_DOCUMENT: &str = include_str!("../../openapi.json");

/// Serves the document as it is written.
pub(super) async fn openapi_document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_openapi_check::{documented_routes, refusals_without_the_error_body, RouterSources};
    use serde_json::Value;

    const SOURCES: RouterSources<'static> =
        RouterSources { crate_dir: env!("CARGO_MANIFEST_DIR"), directories: &[("src/http", "")], path_constants: &[] };

    fn document() -> Value {
        serde_json::from_str(OPENAPI_DOCUMENT).unwrap()
    }

    #[test]
    fn the_document_is_openapi_3_json() {
        let document = document();
        assert_eq!(document["openapi"], "3.0.3");
        assert!(document["components"]["schemas"]["Error"].is_object());
    }

    #[test]
    fn every_registered_route_is_documented_and_every_documented_route_is_registered() {
        let (registered, documented) = (SOURCES.registered_routes(), documented_routes(&document()));
        let (method, path) = ("post", "/v1/phones/{msisdn}/messages");
        assert!(registered.contains(&(method.to_owned(), path.to_owned())), "the scan found the routers");
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        assert!(undocumented.is_empty(), "routes missing from sms-sim/openapi.json: {undocumented:?}");
        let unserved: Vec<_> = documented.difference(&registered).collect();
        assert!(unserved.is_empty(), "documented routes the router does not serve: {unserved:?}");
    }

    #[test]
    fn every_operation_documents_its_refusals_with_the_error_body() {
        let missing = refusals_without_the_error_body(&document(), None);
        assert!(missing.is_empty(), "refusals without the Error body: {missing:?}");
    }
}
