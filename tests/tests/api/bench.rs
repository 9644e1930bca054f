//! `socialmap-load bench` on the demo map with few questions: every section is measured and
//! reported, and HTTP has no errors. Timings are never asserted: they depend on the machine.
//! With `TEST_DATABASE_URL` the map goes into PostgreSQL and the baseline is measured too.

use std::time::Duration;

use socialmap_load::BenchOptions;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_measures_and_reports_every_section() {
    let postgres = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty());
    let options = BenchOptions {
        synthetic_services: None,
        queries: 30,
        rng_seed: 7,
        postgres: postgres.clone(),
        clients: 4,
        http_duration: Duration::from_secs(1),
    };
    let report = socialmap_load::run(&options, std::future::pending())
        .await
        .expect("the bench runs");

    assert!(report.services > 0 && report.index.services > 0 && report.index.bytes > 0);
    assert_eq!(report.in_process.overall.count, 30);
    assert!(!report.in_process.by_kind.is_empty());
    assert!(report.http.requests > 0, "no HTTP requests were measured");
    assert_eq!(
        report.http.errors, 0,
        "HTTP errors, the first: {:?}",
        report.http.first_error
    );
    assert_eq!(report.http.timings.overall.count, report.http.requests);
    assert_eq!(report.write_to_searchable.same_replica.len(), 5);
    assert_eq!(report.write_to_searchable.other_replica.len(), 5);
    assert!(report.memory.peak > 0 && report.memory.current > 0);

    let printed = report.to_string();
    for section in [
        "| all | ours, in-process |",
        "| | ours, HTTP, 4 clients |",
        "write → searchable",
        "memory",
        "targets",
    ] {
        assert!(printed.contains(section), "no {section:?} in\n{printed}");
    }

    match (&report.baseline, postgres) {
        (Some(baseline), Some(_)) => {
            assert_eq!(report.database, "PostgreSQL");
            assert_eq!(baseline.timings.overall.count, 30);
            assert!(baseline.bytes > 0);
            assert_eq!(baseline.overlap.questions, 30);
            assert!(
                (0.0..=1.0).contains(&baseline.overlap.mean),
                "{}",
                baseline.overlap.mean
            );
            assert!(baseline.answered.questions <= 30);
            for (kind, overlap) in &baseline.overlap_by_kind {
                assert!((0.0..=1.0).contains(&overlap.mean), "{kind:?}: {}", overlap.mean);
            }
            assert!(printed.contains("| | PostgreSQL baseline |"), "{printed}");
        }
        (None, None) => {
            assert_eq!(report.database, "SQLite");
            assert!(printed.contains("baseline     skipped"), "{printed}");
        }
        (baseline, postgres) => panic!(
            "baseline measured: {}, PostgreSQL given: {}",
            baseline.is_some(),
            postgres.is_some()
        ),
    }
}
