//! `GET /openapi.json`: the OpenAPI 3.0 document of every route this router serves (`sms-sim/openapi.json`).

/// The document, as written in `sms-sim/openapi.json`.
pub(super) const OPENAPI_DOCUMENT: &str = include_str!("../../openapi.json");

/// Serves the document as it is written.
pub(super) async fn openapi_document() -> axum::response::Response {
    numbind_process::http_api::openapi_response(OPENAPI_DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use numbind_openapi_check::{assert_document_matches_routers, RouterSources};

    #[test]
    fn the_document_names_exactly_the_routes_served_and_every_refusal_body() {
        let sources = RouterSources {
            crate_dir: env!("CARGO_MANIFEST_DIR"),
            directories: &[("src/http", "")],
            path_constants: &[],
        };
        assert_document_matches_routers(
            "sms-sim",
            OPENAPI_DOCUMENT,
            &sources,
            ("post", "/v1/phones/{msisdn}/messages"),
            None,
        );
    }
}
