//! `socialmap bench`: how fast search answers, measured on a map of a given size.
//!
//! It builds a fresh SQLite database in a temporary directory (the demo map, or a synthetic
//! map of N services over all municipalities), times the full index build, then runs a
//! deterministic mix of the questions volunteers ask, in-process and one at a time, and
//! reports latency percentiles and queries per second on one core.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use entity::location;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{EntityTrait, QuerySelect};

use crate::reference::{Lang, ReferenceData};
use crate::relay::PageRequest;
use crate::search::{Near, SearchIndex, SearchRequest};

/// Languages families ask for most, in the forms front ends send.
const ASKED_LANGUAGES: [&str; 10] = ["prs", "ar", "ti", "uk", "so", "fa", "ps", "tr", "ru", "fa-AF"];
/// Queries run before measuring, to warm caches as a running server would be.
const WARM_UP: usize = 200;

pub struct BenchOptions {
    /// `None`: the demo map.
    pub synthetic_services: Option<usize>,
    pub queries: usize,
    pub rng_seed: u64,
}

pub struct BenchReport {
    pub services_in_index: usize,
    pub segments: usize,
    pub index_bytes: u64,
    pub seed_time: Duration,
    pub index_build: Duration,
    pub mean_hits: f64,
    pub queries_per_second: f64,
    pub overall: Latency,
    pub by_kind: Vec<(QuestionKind, Latency)>,
}

pub async fn run(options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let dir = std::env::temp_dir().join(format!("socialmap-bench-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let result = run_in(&dir, options).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(dir: &std::path::Path, options: &BenchOptions) -> anyhow::Result<BenchReport> {
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite").display());
    let db = crate::db::connect_url(&url).await?;
    let started = Instant::now();
    crate::db::prepare(&db, options.synthetic_services.is_none()).await?;
    if let Some(services) = options.synthetic_services {
        seed::seed_synthetic_map(&db, services, options.rng_seed).await?;
    }
    let seed_time = started.elapsed();

    let reference = Arc::new(ReferenceData::load(&db).await?);
    let index_dir: PathBuf = dir.join("search-index");
    let started = Instant::now();
    let search = SearchIndex::open(&index_dir, &db, reference.clone(), false).await?;
    let index_build = started.elapsed();
    let services_in_index = search.searcher().num_docs() as usize;
    let segments = search.searcher().segment_readers().len();
    let index_bytes: u64 = std::fs::read_dir(&index_dir)?
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();

    let located: Vec<String> = location::Entity::find()
        .select_only()
        .column(location::Column::MunicipalityCode)
        .distinct()
        .into_tuple()
        .all(&db)
        .await?;
    let requests = question_mix(&reference, &located, options.queries + WARM_UP, options.rng_seed);
    let page = PageRequest::new(Some(20), None)?;
    for (_, request) in &requests[..WARM_UP] {
        search.search(request, page)?;
    }
    let mut timed: Vec<(QuestionKind, Duration)> = Vec::with_capacity(options.queries);
    let mut hits = 0usize;
    let all = Instant::now();
    for (kind, request) in &requests[WARM_UP..] {
        let started = Instant::now();
        let results = search.search(request, page)?;
        timed.push((*kind, started.elapsed()));
        hits += results.total;
    }
    let elapsed = all.elapsed();
    let mut by_kind: BTreeMap<QuestionKind, Vec<Duration>> = BTreeMap::new();
    for (kind, latency) in &timed {
        by_kind.entry(*kind).or_default().push(*latency);
    }
    Ok(BenchReport {
        services_in_index,
        segments,
        index_bytes,
        seed_time,
        index_build,
        mean_hits: hits as f64 / timed.len().max(1) as f64,
        queries_per_second: timed.len() as f64 / elapsed.as_secs_f64(),
        overall: Latency::of(timed.iter().map(|(_, l)| *l).collect()),
        by_kind: by_kind.into_iter().map(|(k, l)| (k, Latency::of(l))).collect(),
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuestionKind {
    TextPlaceLanguage,
    TextPlace,
    FiltersOnly,
    TextDomainRadius,
    TextOnly,
}

impl QuestionKind {
    fn label(self) -> &'static str {
        match self {
            QuestionKind::TextPlaceLanguage => "text + place + language",
            QuestionKind::TextPlace => "text + place",
            QuestionKind::FiltersOnly => "domain + place + language, no text",
            QuestionKind::TextDomainRadius => "text + domain + 15 km radius",
            QuestionKind::TextOnly => "text only",
        }
    }
}

/// Latency percentiles of a set of timed questions.
#[derive(Clone, Copy, Debug)]
pub struct Latency {
    pub count: usize,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Latency {
        samples.sort();
        let at = |p: f64| {
            samples
                .get(((p * samples.len() as f64).ceil() as usize).max(1) - 1)
                .copied()
                .unwrap_or_default()
        };
        Latency {
            count: samples.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "p50 {:6.2} ms  p95 {:6.2} ms  p99 {:6.2} ms  max {:6.2} ms  ({} queries)",
            ms(self.p50),
            ms(self.p95),
            ms(self.p99),
            ms(self.max),
            self.count
        )
    }
}

/// A deterministic mix of questions: text with place and language (40%), text with place
/// (20%), domain with place and language and no text (20%), text with domain within a
/// radius (10%), and text alone (10%). Words come from the domains' labels and synonyms in
/// nl, fr and en; one in five long words has a typo.
fn question_mix(
    reference: &ReferenceData,
    municipalities: &[String],
    count: usize,
    seed: u64,
) -> Vec<(QuestionKind, SearchRequest)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let domains: Vec<&entity::life_domain::Model> = reference.domains().collect();
    let postal_codes: Vec<&String> = municipalities
        .iter()
        .flat_map(|m| reference.postal_codes_of(m))
        .collect();
    let mut words: Vec<String> = Vec::new();
    for domain in &domains {
        words.extend(reference.synonyms_of(&domain.code).iter().map(|s| s.synonym.clone()));
        words.push(domain.label_nl.clone());
    }
    (0..count)
        .map(|_| {
            let mut text = words.choose(&mut rng).cloned().unwrap_or_default();
            if text.len() >= 6 && rng.random_bool(0.2) {
                let at = rng.random_range(1..text.len() - 1);
                if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
                    text.remove(at);
                }
            }
            let near = postal_codes
                .choose(&mut rng)
                .map(|code| Near::PostalCode((*code).clone()));
            let language = ASKED_LANGUAGES.choose(&mut rng).map(|l| (*l).to_owned());
            let domain = domains.choose(&mut rng).map(|d| d.code.clone());
            let lang = *[Lang::Nl, Lang::Fr, Lang::En].choose(&mut rng).unwrap_or(&Lang::Nl);
            let base = SearchRequest {
                lang,
                ..SearchRequest::default()
            };
            match rng.random_range(0..10) {
                0..4 => (
                    QuestionKind::TextPlaceLanguage,
                    SearchRequest {
                        text: Some(text),
                        near,
                        languages: language.into_iter().collect(),
                        ..base
                    },
                ),
                4..6 => (
                    QuestionKind::TextPlace,
                    SearchRequest {
                        text: Some(text),
                        near,
                        ..base
                    },
                ),
                6..8 => (
                    QuestionKind::FiltersOnly,
                    SearchRequest {
                        near,
                        domains: domain.into_iter().collect(),
                        languages: language.into_iter().collect(),
                        ..base
                    },
                ),
                8 => (
                    QuestionKind::TextDomainRadius,
                    SearchRequest {
                        text: Some(text),
                        near,
                        radius_km: Some(15.0),
                        domains: domain.into_iter().collect(),
                        ..base
                    },
                ),
                _ => (
                    QuestionKind::TextOnly,
                    SearchRequest {
                        text: Some(text),
                        ..base
                    },
                ),
            }
        })
        .collect()
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "services in the index  {} in {} segments",
            self.services_in_index, self.segments
        )?;
        writeln!(f, "seeding the database   {:.1} s", self.seed_time.as_secs_f64())?;
        writeln!(
            f,
            "full index build       {:.1} s, {:.1} MB on disk",
            self.index_build.as_secs_f64(),
            self.index_bytes as f64 / 1e6
        )?;
        writeln!(
            f,
            "search, in-process, one at a time: {:.0} queries/s on one core, {:.0} hits on average",
            self.queries_per_second, self.mean_hits
        )?;
        writeln!(f, "  {:<36} {}", "all", self.overall)?;
        for (kind, latency) in &self.by_kind {
            writeln!(f, "  {:<36} {latency}", kind.label())?;
        }
        Ok(())
    }
}
