//! The PostgreSQL baseline: the bench's questions answered the way one would without a search
//! engine, in the same database. A `tsvector` of each service's name, description and
//! organization name (Dutch configuration) with a GIN index; the same filters as our search,
//! as SQL over the map's own tables; distance to the nearest location by haversine; ranked by
//! `ts_rank`, then distance. One connection, prepared statements, one question at a time.
//!
//! What it does not do, and so what the overlap with our results reflects: no typo
//! tolerance, no domain labels or synonyms (a French or English word finds nothing in Dutch
//! text), no French or English stemming, every word of the text must match (`plainto_tsquery`
//! joins them with AND) where ours wants any, and no language fit or freshness in the ranking.

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

/// What the baseline measured.
pub struct Baseline {
    /// PostgreSQL's version and the settings that matter for these queries.
    pub server: String,
    /// Creating the `tsvector` table and its GIN index.
    pub build: Duration,
    /// The table and its indexes on disk.
    pub bytes: u64,
    pub timings: Timings,
    pub overlap: Overlap,
    pub overlap_by_kind: Vec<(QuestionKind, Overlap)>,
    /// Where the baseline found nothing it did little work: latencies of the questions it
    /// answered with something, and ours on the same questions.
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

/// Builds the baseline in the database at `url`, then times the questions as in-process
/// search was timed and compares its answers with `ours` (one per timed question).
pub async fn run(
    url: &str,
    reference: &ReferenceData,
    warm_up: &[Question],
    timed: &[Question],
    ours: &[Answer],
) -> anyhow::Result<Baseline> {
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
    let result = measure(&db, reference, warm_up, timed, ours).await;
    db.close().await?;
    result
}

async fn measure(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    warm_up: &[Question],
    timed: &[Question],
    ours: &[Answer],
) -> anyhow::Result<Baseline> {
    let started = Instant::now();
    for sql in [
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
    ] {
        db.execute_unprepared(sql)
            .await
            .context("building the baseline's tsvector table")?;
    }
    let build = started.elapsed();
    // The map was just written: without statistics the planner would guess, and without a
    // visibility map index-only scans would visit the table anyway. A live database's
    // autovacuum would have done this.
    db.execute_unprepared("VACUUM ANALYZE").await?;

    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT split_part(version(), ' ', 2) AS version,
                    pg_total_relation_size('bench_search') AS bytes,
                    current_setting('shared_buffers') AS shared_buffers,
                    current_setting('work_mem') AS work_mem,
                    current_setting('random_page_cost') AS random_page_cost,
                    current_setting('max_parallel_workers_per_gather') AS parallel,
                    current_setting('jit') AS jit",
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
        .map(|q| statement(reference, q))
        .collect::<anyhow::Result<_>>()?;
    let timed_statements: Vec<Statement> = timed
        .iter()
        .map(|q| statement(reference, q))
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
        .filter(|(_, t)| !t.top.is_empty())
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
fn statement(reference: &ReferenceData, question: &Question) -> anyhow::Result<Statement> {
    let mut parameters = Parameters::default();
    let mut from = String::from("service s");
    let mut conditions = vec!["s.status <> 'INACTIVE'".to_owned()];
    let mut order = Vec::new();

    if let Some(text) = &question.text {
        let text = parameters.bind(text.clone());
        from.push_str(&format!(
            " JOIN bench_search b ON b.service_id = s.id CROSS JOIN plainto_tsquery('dutch', {text}) AS q (query)"
        ));
        conditions.push("b.document @@ q.query".to_owned());
        order.push("ts_rank(b.document, q.query) DESC".to_owned());
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
        order.push("nearest.km ASC NULLS LAST".to_owned());
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
