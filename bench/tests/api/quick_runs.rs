//! Quick runs of the boot storm, activations and SMS centre scenarios (plain and over TLS): the bench works and its
//! report has the documented shape (figures here say nothing about targets: a debug build on a shared machine).

use crate::helpers::quick_options;
use numbind_bench::{run_benchmarks, write_report};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_run_measures_numbind_and_its_baselines_and_writes_both_reports() {
    let (options, directory) = quick_options(&[1, 2, 4]);
    let report = run_benchmarks(&options).await;
    for scenario in &report.scenarios {
        assert!(scenario.error.is_none(), "scenario {} failed: {:?}", scenario.scenario, scenario.error);
        assert_eq!(scenario.repeats.len(), 1);
        let figures = &scenario.repeats[0];
        assert!(figures.numbind > 0.0 && figures.baseline > 0.0, "{scenario:?}");
        assert!((figures.ratio - figures.numbind / figures.baseline).abs() < 1e-9);
        assert!(scenario.extra.contains_key("p99_ms"), "{scenario:?}");
    }
    let numbers: Vec<u8> = report.scenarios.iter().map(|scenario| scenario.scenario).collect();
    assert_eq!(
        numbers,
        vec![1, 1, 1, 1, 2, 2, 4, 4, 4],
        "the boot storm reports session and signed checks and two over TLS, activations plain and over TLS, the SMS \
         centre itself, the durable echo and the SMS centre over CMPP"
    );
    assert!(report.scenarios[7].variant.contains("durable echo"), "{:?}", report.scenarios[7]);
    assert!(report.scenarios[8].variant.contains("CMPP 3.0"), "{:?}", report.scenarios[8]);
    assert!(report.scenarios[5].variant.contains("over TLS"), "{:?}", report.scenarios[5]);
    let boot_storm_variants: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|scenario| scenario.scenario == 1)
        .map(|scenario| scenario.variant.as_str())
        .collect();
    assert_eq!(
        boot_storm_variants,
        vec![
            "16 connections",
            "16 connections, signed (no session)",
            "16 connections over TLS, kept alive",
            "8 connections over TLS, a full handshake per check",
        ]
    );

    let (json_path, markdown_path) = write_report(&report, directory.path()).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(json_path).unwrap()).unwrap();
    assert_eq!(json["quick"], true);
    assert!(json["machine"]["nproc"].as_u64().unwrap() >= 1);
    assert!(json["machine"]["kernel"].as_str().is_some());
    assert!(json["started_at_unix_seconds"].as_u64().unwrap() > 0);
    let first = &json["scenarios"][0];
    for field in ["numbind", "baseline", "ratio"] {
        assert!(first[field]["min"].as_f64().unwrap() <= first[field]["median"].as_f64().unwrap());
        assert!(first[field]["median"].as_f64().unwrap() <= first[field]["max"].as_f64().unwrap());
    }
    assert!(first["met"].is_boolean() && first["target"].is_string());
    let markdown = std::fs::read_to_string(markdown_path).unwrap();
    assert!(markdown.contains("| 1 | boot storm"), "{markdown}");
    assert!(markdown.contains("| 4 | SMS centre"), "{markdown}");
}

#[tokio::test]
async fn a_missing_agent_binary_is_reported_as_an_error_not_a_panic() {
    let (mut options, _directory) = quick_options(&[5]);
    options.agent_binary = Some("/nonexistent/numbind-agent".into());
    let report = run_benchmarks(&options).await;
    assert_eq!(report.scenarios.len(), 1);
    assert!(report.scenarios[0].error.as_deref().unwrap_or_default().contains("does not exist"));
    assert!(!report.scenarios[0].met);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_purchases_run_charges_every_signed_intent_once_and_reports_errors() {
    let (options, directory) = quick_options(&[6]);
    let report = run_benchmarks(&options).await;
    assert_eq!(report.scenarios.len(), 1);
    let purchases = &report.scenarios[0];
    assert!(purchases.error.is_none(), "purchases failed: {:?}", purchases.error);
    assert_eq!((purchases.scenario, purchases.unit.as_str()), (6, "charges/s"));
    let figures = &purchases.repeats[0];
    assert!(figures.numbind > 0.0 && figures.baseline > 0.0, "{purchases:?}");
    assert_eq!(figures.extra["errors"], 0.0, "every purchase answers succeeded: {purchases:?}");
    assert!(figures.extra["p99_ms"] > 0.0, "{purchases:?}");
    let (_, markdown_path) = write_report(&report, directory.path()).unwrap();
    assert!(std::fs::read_to_string(markdown_path).unwrap().contains("| 6 | purchases end to end"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quick_hub_run_binds_through_three_provinces_and_one_and_checks_status_at_the_hub() {
    let (options, _directory) = quick_options(&[7]);
    let report = run_benchmarks(&options).await;
    for scenario in &report.scenarios {
        assert!(scenario.error.is_none(), "the hub scenario failed: {:?}", scenario.error);
    }
    let variants: Vec<&str> = report.scenarios.iter().map(|scenario| scenario.variant.as_str()).collect();
    assert_eq!(
        variants,
        vec!["activations, 3 provinces vs 1, 6 in flight", "status checks at a 3-province hub, 16 connections"]
    );
    for scenario in &report.scenarios {
        let figures = &scenario.repeats[0];
        assert!(figures.numbind > 0.0 && figures.baseline > 0.0, "{scenario:?}");
    }
    let activations = &report.scenarios[0];
    assert!(activations.extra.contains_key("one_province_per_second"), "{activations:?}");
    assert!(activations.extra.contains_key("p99_ms"), "{activations:?}");
}
