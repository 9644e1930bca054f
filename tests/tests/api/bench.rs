//! `socialmap-load bench` on the demo map with few questions: every section is measured and
//! reported, and HTTP has no errors. Timings are never asserted: they depend on the machine.
//! With `TEST_DATABASE_URL` the map goes into PostgreSQL and the baseline is measured too.

use std::time::Duration;

use socialmap_load::{BenchOptions, Driver, Flavour, HttpLoad, LoadShape};

fn assert_no_errors(name: &str, load: &HttpLoad) {
    assert!(load.requests > 0, "no {name} requests were measured");
    assert_eq!(load.errors, 0, "{name} errors, the first: {:?}", load.first_error);
    assert_eq!(load.timings.overall.count, load.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_measures_and_reports_every_section() {
    let postgres = std::env::var("TEST_DATABASE_URL").ok().filter(|url| !url.is_empty());
    let options = BenchOptions {
        synthetic_services: None,
        queries: 30,
        rng_seed: 7,
        postgres: postgres.clone(),
        driver: Driver::InProcess,
        load: LoadShape {
            connections: 4,
            threads: 1,
            duration: Duration::from_secs(1),
        },
    };
    let report = socialmap_load::run(&options, std::future::pending())
        .await
        .expect("the bench runs");

    assert!(report.services > 0 && report.index.services > 0 && report.index.bytes > 0);
    assert_eq!(report.in_process.overall.count, 30);
    assert_eq!(report.in_process_full.overall.count, 30);
    assert!(!report.in_process.by_kind.is_empty());
    // Counting every hit or not, the pages are the same.
    assert_eq!(report.same_pages, 30);
    assert!(report.mean_hits > 0.0);
    assert_no_errors("floor", &report.floor);
    assert_no_errors("result list", &report.http);
    assert_no_errors("full answer", &report.http_full);
    assert_eq!(report.write_to_searchable.same_replica.len(), 5);
    assert_eq!(report.write_to_searchable.other_replica.len(), 5);
    assert!(report.memory.peak > 0 && report.memory.current > 0);

    let printed = report.to_string();
    for section in [
        "| all | ours, in-process, result list |",
        "| | ours, in-process, full answer |",
        "| | floor, HTTP, constant result list |",
        "| | ours, HTTP, result list |",
        "| | ours, HTTP, full answer |",
        "4 keep-alive HTTP/1.1 connections",
        "write → searchable",
        "memory",
        "targets",
    ] {
        assert!(printed.contains(section), "no {section:?} in\n{printed}");
    }

    match (report.baselines.as_slice(), postgres) {
        ([fair, strict], Some(_)) => {
            assert_eq!(report.database, "PostgreSQL");
            assert_eq!((fair.flavour, strict.flavour), (Flavour::Fair, Flavour::Strict));
            // Any word, three languages, domain words: the fair one finds at least as much.
            assert!(fair.overlap.only_ours <= strict.overlap.only_ours);
            for baseline in [fair, strict] {
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
            }
            assert!(printed.contains("| | PostgreSQL, fair |"), "{printed}");
            assert!(printed.contains("| | PostgreSQL, strict |"), "{printed}");
        }
        ([], None) => {
            assert_eq!(report.database, "SQLite");
            assert!(printed.contains("baseline     skipped"), "{printed}");
        }
        (baselines, postgres) => panic!(
            "baselines measured: {}, PostgreSQL given: {}",
            baselines.len(),
            postgres.is_some()
        ),
    }
}
