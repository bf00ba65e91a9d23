//! `GET /openapi.json`: the OpenAPI 3.0 document of every route this router serves (`oss-sim/openapi.json`).

/// The document, as written in `oss-sim/openapi.json`.
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
            path_constants: &[
                ("PLATFORM_REVOCATIONS_PATH", numbind_wire::api::PLATFORM_REVOCATIONS_PATH),
                ("OSS_AUDIT_CHECKPOINTS_PATH", numbind_wire::audit_checkpoint::OSS_AUDIT_CHECKPOINTS_PATH),
                ("PLATFORM_AUDIT_CHECKPOINTS_PATH", numbind_wire::audit_checkpoint::PLATFORM_AUDIT_CHECKPOINTS_PATH),
                ("CHARGES_PATH", numbind_wire::api::CHARGES_PATH),
                ("CHARGE_CHECKS_PATH", numbind_wire::api::CHARGE_CHECKS_PATH),
                ("BILLING_REFUNDS_PATH", numbind_wire::api::BILLING_REFUNDS_PATH),
                ("PLATFORM_BILL_LINES_PATH", numbind_wire::api::PLATFORM_BILL_LINES_PATH),
            ],
        };
        assert_document_matches_routers(
            "oss-sim",
            OPENAPI_DOCUMENT,
            &sources,
            ("patch", "/v1/subscribers/{msisdn}"),
            None,
        );
    }
}
