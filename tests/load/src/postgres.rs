//! The PostgreSQL baselines: the bench's questions answered the way one would without a search
//! engine, in the same database, with the same filters as our search as SQL over the map's own
//! tables and distance to the nearest location by haversine. One connection, prepared
//! statements, one question at a time. Two of them:
//!
//! - **fair**: finds what ours finds but for typos. A `tsvector` of each service's name (A),
//!   description (B) and translations, and its organization's name with its domains' labels
//!   and synonyms (C), in unaccented Dutch, French and English configurations; any word of the
//!   text matches (an OR of the words, as ours), in any of the three; ranked by `ts_rank`
//!   times ours's proximity factor.
//! - **strict**: the first thing one would write: name, description and organization name in
//!   the `dutch` configuration, `plainto_tsquery` (every word must match), ranked by
//!   `ts_rank`, then distance. It finds nothing for most questions, cheaply.
//!
//! Neither forgives typos or ranks by language fit and freshness.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};

use crate::in_process::{Answer, PAGE};
use crate::questions::{Question, QuestionKind};
use crate::report::{Latency, Timings};
use api::reference::ReferenceData;
use api::search::{FamilyPlace, Near, locate_family};

/// Mean Earth radius of the haversine our search uses (`geo::Haversine`, IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Which baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    Fair,
    Strict,
}

impl Flavour {
    pub fn label(self) -> &'static str {
        match self {
            Flavour::Fair => "PostgreSQL, fair",
            Flavour::Strict => "PostgreSQL, strict",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Flavour::Fair => "bench_search_fair",
            Flavour::Strict => "bench_search",
        }
    }

    fn build(self) -> &'static [&'static str] {
        match self {
            Flavour::Strict => &[
                "CREATE TABLE bench_search (
                     service_id varchar PRIMARY KEY REFERENCES service (id) ON DELETE CASCADE,
                     document tsvector NOT NULL
                 )",
                // Names weigh most, as in ours; organization names least.
                "INSERT INTO bench_search
                 SELECT s.id,
                        setweight(to_tsvector('dutch', s.name), 'A')
                        || setweight(to_tsvector('dutch', s.description), 'B')
                        || setweight(to_tsvector('dutch', o.name), 'C')
                 FROM service s JOIN organization o ON o.id = s.organization_id",
                "CREATE INDEX bench_search_document ON bench_search USING GIN (document)",
            ],
            Flavour::Fair => &[
                "CREATE EXTENSION IF NOT EXISTS unaccent",
                "CREATE TEXT SEARCH CONFIGURATION bench_nl (COPY = dutch)",
                "ALTER TEXT SEARCH CONFIGURATION bench_nl ALTER MAPPING FOR hword, hword_part, word WITH unaccent, dutch_stem",
                "CREATE TEXT SEARCH CONFIGURATION bench_fr (COPY = french)",
                "ALTER TEXT SEARCH CONFIGURATION bench_fr ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem",
                "CREATE TEXT SEARCH CONFIGURATION bench_en (COPY = english)",
                "ALTER TEXT SEARCH CONFIGURATION bench_en ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
                "CREATE TABLE bench_search_fair (
                     service_id varchar PRIMARY KEY REFERENCES service (id) ON DELETE CASCADE,
                     document tsvector NOT NULL
                 )",
                // A need's words and its parent domain's, as our index's context field has.
                "INSERT INTO bench_search_fair
                 SELECT s.id,
                        setweight(to_tsvector('bench_nl', s.name), 'A')
                        || setweight(to_tsvector('bench_nl', s.description), 'B')
                        || setweight(to_tsvector('bench_fr', coalesce(fr.name, '')), 'A')
                        || setweight(to_tsvector('bench_fr', coalesce(fr.description, '')), 'B')
                        || setweight(to_tsvector('bench_en', coalesce(en.name, '')), 'A')
                        || setweight(to_tsvector('bench_en', coalesce(en.description, '')), 'B')
                        || setweight(to_tsvector('bench_nl', o.name || ' ' || coalesce(words.nl, '')), 'C')
                        || setweight(to_tsvector('bench_fr', coalesce(words.fr, '')), 'C')
                        || setweight(to_tsvector('bench_en', coalesce(words.en, '')), 'C')
                 FROM service s
                 JOIN organization o ON o.id = s.organization_id
                 LEFT JOIN service_translation fr ON fr.service_id = s.id AND fr.lang = 'fr'
                 LEFT JOIN service_translation en ON en.service_id = s.id AND en.lang = 'en'
                 LEFT JOIN LATERAL (
                     WITH codes AS (
                         SELECT d.code, d.label_nl, d.label_fr, d.label_en
                         FROM service_domain sd
                         JOIN life_domain need ON need.code = sd.domain_code
                         JOIN life_domain d ON d.code = need.code OR d.code = need.parent_code
                         WHERE sd.service_id = s.id
                     )
                     SELECT string_agg(w.nl, ' ') AS nl, string_agg(w.fr, ' ') AS fr, string_agg(w.en, ' ') AS en
                     FROM (
                         SELECT label_nl AS nl, label_fr AS fr, label_en AS en FROM codes
                         UNION ALL
                         SELECT CASE WHEN y.lang = 'nl' THEN y.synonym END,
                                CASE WHEN y.lang = 'fr' THEN y.synonym END,
                                CASE WHEN y.lang = 'en' THEN y.synonym END
                         FROM codes JOIN life_domain_synonym y ON y.domain_code = codes.code
                     ) AS w
                 ) AS words ON true",
                "CREATE INDEX bench_search_fair_document ON bench_search_fair USING GIN (document)",
            ],
        }
    }
}

/// What a baseline measured.
pub struct Baseline {
    pub flavour: Flavour,
    /// PostgreSQL's version and the settings that matter for these queries.
    pub server: String,
    /// Creating the `tsvector` table and its GIN index.
    pub build: Duration,
    /// The table and its indexes on disk.
    pub bytes: u64,
    pub timings: Timings,
    pub overlap: Overlap,
    pub overlap_by_kind: Vec<(QuestionKind, Overlap)>,
    /// Finding nothing is little work: latencies of the questions both it and ours answered
    /// with something.
    pub answered: Answered,
}

/// Latencies over the questions the baseline found something for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Answered {
    pub questions: usize,
    pub ours: Latency,
    pub theirs: Latency,
}

/// How far the baseline's top results agree with ours.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overlap {
    pub questions: usize,
    /// Per question |ours ∩ baseline| / max(1, min(|ours|, |baseline|)), averaged; a question
    /// both answer with nothing counts 0.
    pub mean: f64,
    pub both_empty: usize,
    /// Questions the baseline answered with nothing while we found something.
    pub only_ours: usize,
}

impl Overlap {
    fn of<'a>(pairs: impl Iterator<Item = (&'a [String], &'a [String])>) -> Overlap {
        let mut overlap = Overlap::default();
        let mut sum = 0.0;
        for (ours, theirs) in pairs {
            overlap.questions += 1;
            let theirs_set: HashSet<&String> = theirs.iter().collect();
            let common = ours.iter().filter(|id| theirs_set.contains(id)).count();
            sum += common as f64 / ours.len().min(theirs.len()).max(1) as f64;
            match (ours.is_empty(), theirs.is_empty()) {
                (true, true) => overlap.both_empty += 1,
                (false, true) => overlap.only_ours += 1,
                _ => {}
            }
        }
        overlap.mean = sum / overlap.questions.max(1) as f64;
        overlap
    }
}

/// Builds both baselines in the database at `url`, then times the questions as in-process
/// search was timed and compares their answers with `ours` (one per timed question).
pub async fn run(
    url: &str,
    reference: &ReferenceData,
    warm_up: &[Question],
    timed: &[Question],
    ours: &[Answer],
) -> anyhow::Result<Vec<Baseline>> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .sqlx_logging(false)
        // JIT compiles plans whose estimated cost is high, which costs more than queries of a
        // few milliseconds gain: a server tuned for such queries turns it off.
        .map_sqlx_postgres_opts(|pg| pg.options([("jit", "off")]));
    let db = Database::connect(options)
        .await
        .context("cannot open the bench database for the baseline")?;
    let mut baselines = Vec::new();
    for flavour in [Flavour::Fair, Flavour::Strict] {
        match measure(&db, flavour, reference, warm_up, timed, ours).await {
            Ok(baseline) => baselines.push(baseline),
            Err(error) => {
                db.close().await?;
                return Err(error);
            }
        }
    }
    db.close().await?;
    Ok(baselines)
}

async fn measure(
    db: &DatabaseConnection,
    flavour: Flavour,
    reference: &ReferenceData,
    warm_up: &[Question],
    timed: &[Question],
    ours: &[Answer],
) -> anyhow::Result<Baseline> {
    let started = Instant::now();
    for sql in flavour.build() {
        db.execute_unprepared(sql)
            .await
            .with_context(|| format!("building the {} baseline's tsvector table", flavour.label()))?;
    }
    let build = started.elapsed();
    // The map was just written: without statistics the planner would guess, and without a
    // visibility map index-only scans would visit the table anyway. A live database's
    // autovacuum would have done this.
    db.execute_unprepared("VACUUM ANALYZE").await?;

    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT split_part(version(), ' ', 2) AS version,
                    pg_total_relation_size($1) AS bytes,
                    current_setting('shared_buffers') AS shared_buffers,
                    current_setting('work_mem') AS work_mem,
                    current_setting('random_page_cost') AS random_page_cost,
                    current_setting('max_parallel_workers_per_gather') AS parallel,
                    current_setting('jit') AS jit",
            [flavour.table().into()],
        ))
        .await?
        .context("PostgreSQL did not describe itself")?;
    let setting = |name: &str| row.try_get::<String>("", name);
    let server = format!(
        "PostgreSQL {}: shared_buffers {}, work_mem {}, random_page_cost {}, \
         max_parallel_workers_per_gather {}, jit {}",
        setting("version")?,
        setting("shared_buffers")?,
        setting("work_mem")?,
        setting("random_page_cost")?,
        setting("parallel")?,
        setting("jit")?,
    );
    let bytes = row.try_get::<i64>("", "bytes")?.max(0) as u64;

    // Statements are built before the clock starts: the measurement is PostgreSQL answering.
    let warm_up: Vec<Statement> = warm_up
        .iter()
        .map(|q| statement(flavour, reference, q))
        .collect::<anyhow::Result<_>>()?;
    let timed_statements: Vec<Statement> = timed
        .iter()
        .map(|q| statement(flavour, reference, q))
        .collect::<anyhow::Result<_>>()?;
    for statement in warm_up {
        db.query_all_raw(statement).await?;
    }
    let mut samples = Vec::with_capacity(timed.len());
    let mut theirs: Vec<Answer> = Vec::with_capacity(timed.len());
    let all = Instant::now();
    for (question, statement) in timed.iter().zip(timed_statements) {
        let started = Instant::now();
        let rows = db.query_all_raw(statement).await?;
        let latency = started.elapsed();
        samples.push((question.kind, latency));
        theirs.push(Answer {
            top: rows
                .iter()
                .map(|row| row.try_get::<String>("", "id"))
                .collect::<Result<_, _>>()?,
            latency,
        });
    }
    let timings = Timings::of(samples, all.elapsed());

    let (ours_answered, theirs_answered): (Vec<Duration>, Vec<Duration>) = ours
        .iter()
        .zip(&theirs)
        .filter(|(o, t)| !o.top.is_empty() && !t.top.is_empty())
        .map(|(o, t)| (o.latency, t.latency))
        .unzip();
    let answered = Answered {
        questions: theirs_answered.len(),
        ours: Latency::of(ours_answered),
        theirs: Latency::of(theirs_answered),
    };
    let mut by_kind: BTreeMap<QuestionKind, Vec<usize>> = BTreeMap::new();
    for (i, question) in timed.iter().enumerate() {
        by_kind.entry(question.kind).or_default().push(i);
    }
    let overlap_by_kind = by_kind
        .into_iter()
        .map(|(kind, at)| {
            let pairs = at
                .into_iter()
                .map(|i| (ours[i].top.as_slice(), theirs[i].top.as_slice()));
            (kind, Overlap::of(pairs))
        })
        .collect();
    Ok(Baseline {
        flavour,
        server,
        build,
        bytes,
        timings,
        overlap: Overlap::of(
            ours.iter()
                .zip(&theirs)
                .map(|(o, t)| (o.top.as_slice(), t.top.as_slice())),
        ),
        overlap_by_kind,
        answered,
    })
}

/// Bound parameters of a statement being written: `bind` returns the placeholder.
#[derive(Default)]
struct Parameters(Vec<Value>);

impl Parameters {
    fn bind(&mut self, value: impl Into<Value>) -> String {
        self.0.push(value.into());
        format!("${}", self.0.len())
    }
}

/// Great-circle km between two points given as SQL expressions.
fn haversine_km(lat_a: &str, lon_a: &str, lat_b: &str, lon_b: &str) -> String {
    format!(
        "(2 * {EARTH_RADIUS_KM} * asin(sqrt(power(sin(radians({lat_b} - {lat_a}) / 2), 2) \
         + cos(radians({lat_a})) * cos(radians({lat_b})) * power(sin(radians({lon_b} - {lon_a}) / 2), 2))))"
    )
}

/// One question as SQL. The text depends only on which filters the question has, so each
/// shape is prepared once on the connection and reused.
fn statement(flavour: Flavour, reference: &ReferenceData, question: &Question) -> anyhow::Result<Statement> {
    let mut parameters = Parameters::default();
    let mut from = String::from("service s");
    let mut conditions = vec!["s.status <> 'INACTIVE'".to_owned()];
    let mut order = Vec::new();

    // The fair baseline ranks by text relevance times ours's proximity factor.
    let mut relevance = None;
    if let Some(text) = &question.text {
        match flavour {
            Flavour::Strict => {
                let text = parameters.bind(text.clone());
                from.push_str(&format!(
                    " JOIN bench_search b ON b.service_id = s.id CROSS JOIN plainto_tsquery('dutch', {text}) AS q (query)"
                ));
                order.push("ts_rank(b.document, q.query) DESC".to_owned());
            }
            Flavour::Fair => {
                // Any of the words: `websearch_to_tsquery` reads `or` as |, and never fails
                // on punctuation.
                let words: Vec<&str> = text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                    .collect();
                let text = parameters.bind(words.join(" or "));
                from.push_str(&format!(
                    " JOIN bench_search_fair b ON b.service_id = s.id CROSS JOIN (SELECT \
                     websearch_to_tsquery('bench_nl', {text}) || websearch_to_tsquery('bench_fr', {text}) \
                     || websearch_to_tsquery('bench_en', {text})) AS q (query)"
                ));
                relevance = Some("ts_rank(b.document, q.query)".to_owned());
            }
        }
        conditions.push("b.document @@ q.query".to_owned());
    }
    if let Some(code) = &question.postal_code {
        let FamilyPlace {
            position,
            municipalities,
        } = locate_family(reference, &Near::PostalCode(code.clone()))?;
        let (latitude, longitude) = (parameters.bind(position.latitude), parameters.bind(position.longitude));
        // Distance to the nearest location, confidential ones included, as ours ranks it.
        from.push_str(&format!(
            " LEFT JOIN LATERAL (
                 SELECT min({}) AS km
                 FROM service_location sl JOIN location l ON l.id = sl.location_id
                 WHERE sl.service_id = s.id AND l.latitude IS NOT NULL AND l.longitude IS NOT NULL
             ) AS nearest ON true",
            haversine_km(&latitude, &longitude, "l.latitude", "l.longitude")
        ));
        // The family's municipalities are covered by the whole country, their region or
        // province, themselves, or a radius around a location that reaches their centre.
        let municipalities = parameters.bind(municipalities);
        let covered = format!(
            "EXISTS (
                 SELECT 1 FROM service_area a
                 JOIN municipality fm ON fm.code = ANY({municipalities})
                 LEFT JOIN location al ON al.id = a.location_id
                 WHERE a.service_id = s.id AND (
                     a.kind = 'NATIONAL'
                     OR (a.kind = 'REGION' AND a.region_code = fm.region_code)
                     OR (a.kind = 'PROVINCE' AND a.province_code = fm.province_code)
                     OR (a.kind = 'MUNICIPALITY' AND a.municipality_code = fm.code)
                     OR (a.kind = 'RADIUS' AND {} <= a.radius_km)))",
            haversine_km("al.latitude", "al.longitude", "fm.latitude", "fm.longitude")
        );
        conditions.push(match question.radius_km {
            // Within a radius, a location nearby qualifies a service whatever its area.
            Some(km) => format!("({covered} OR nearest.km <= {})", parameters.bind(km)),
            None => covered,
        });
        match (flavour, relevance.take()) {
            (Flavour::Fair, Some(rank)) => order.push(format!("{rank} / (1 + coalesce(nearest.km, 15) / 15) DESC")),
            _ => order.push("nearest.km ASC NULLS LAST".to_owned()),
        }
    }
    if let Some(rank) = relevance {
        order.push(format!("{rank} DESC"));
    }
    if let Some(domain) = &question.domain {
        let domains = parameters.bind(reference.expand_domains(std::slice::from_ref(domain))?);
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM service_domain sd WHERE sd.service_id = s.id AND sd.domain_code = ANY({domains}))"
        ));
    }
    if let Some(language) = &question.language {
        // The same macrolanguage rule as ours; staff and interpreters both count.
        let asked = reference.normalize_language(language)?;
        let languages = parameters.bind(reference.matching_languages(&asked.code));
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM service_language sg WHERE sg.service_id = s.id AND sg.language_code = ANY({languages}))"
        ));
    }
    order.push("s.id".to_owned());

    let sql = format!(
        "SELECT s.id FROM {from} WHERE {} ORDER BY {} LIMIT {PAGE}",
        conditions.join(" AND "),
        order.join(", ")
    );
    Ok(Statement::from_sql_and_values(DbBackend::Postgres, sql, parameters.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_compares_the_shorter_list_and_counts_empty_answers() {
        let ids = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
        let (a, b, c, none) = (ids(&["1", "2", "3"]), ids(&["2", "9"]), ids(&["7"]), ids(&[]));
        let overlap = Overlap::of(
            [(&a, &b), (&a, &c), (&none, &none), (&a, &none)]
                .into_iter()
                .map(|(o, t)| (o.as_slice(), t.as_slice())),
        );
        assert_eq!(overlap.questions, 4);
        assert!((overlap.mean - 0.5 / 4.0).abs() < 1e-9, "{}", overlap.mean);
        assert_eq!((overlap.both_empty, overlap.only_ours), (1, 1));
    }
}
