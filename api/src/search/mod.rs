//! Finding who can help: a tantivy index of the map's services, searched by need, place and
//! language, ranked (`rank`), explained and faceted. The index is derived from the database
//! and follows it through the change log (`change_log`); it is never the source of truth.

mod analysis;
mod change_log;
mod collect;
mod columns;
mod document;
mod execute;
mod fields;
mod index;
mod lexicon;
mod query;
mod rank;
mod rows;
mod types;

pub use change_log::{prune as prune_change_log, record};
pub use index::{BuildReport, SearchIndex, follow};
pub use query::{FamilyPlace, Near, SearchRequest, Shown, Understood, Via, locate_family};
pub use types::{SearchQuery, ServiceSearchInput};

use std::path::PathBuf;

use chrono::Utc;
use entity::enums::LanguageMode;
use tantivy::TantivyDocument;
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;

use crate::geo::Position;
use crate::reference::{Direction, Lang, ReferenceError};
use crate::relay::{PageRequest, RelayError};
use collect::{Counting, Distance, RankingCollector};
use columns::SegmentColumns;
use fields::LanguageOffer;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Page(#[from] RelayError),
    #[error("unknown postal code `{0}`: give a Belgian postal code such as 9300")]
    UnknownPostalCode(String),
    #[error("`near` needs exactly one of `postalCode`, `municipalityCode`, or `latitude` with `longitude`")]
    AmbiguousPlace,
    #[error("`latitude` must be between -90 and 90 and `longitude` between -180 and 180")]
    BadCoordinates,
    #[error("these coordinates are not in a municipality on the map (Belgium)")]
    OutsideMap,
    #[error("`radiusKm` must be more than 0 and at most {max}, got {0}", max = query::MAX_RADIUS_KM)]
    BadRadius(f64),
    #[error("`radiusKm` needs `near`: a radius around which place?")]
    RadiusWithoutPlace,
    #[error("`age` must be between 0 and 130, got {0}")]
    BadAge(i32),
    #[error("`text` is {0} characters long; a search takes at most {max}", max = query::MAX_TEXT_CHARS)]
    TextTooLong(usize),
    #[error("the search index in {0} is in use by another process; give each replica its own data directory")]
    Locked(PathBuf),
    #[error("search index directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

/// One page of a search, with what the whole result set holds.
#[derive(Debug)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// How many services match in all, when `Shown::total` asked for it.
    pub total: Option<usize>,
    /// Whether there are hits after this page.
    pub has_more: bool,
    /// Where distances were measured from.
    pub origin: Option<Position>,
    /// Domain and need codes with how many hits have them, most first; empty unless
    /// `Shown::facets`.
    pub domain_facets: Vec<(String, usize)>,
    /// ISO 639-3 codes with how many hits offer them (by staff or interpreter), most first.
    pub language_facets: Vec<(String, usize)>,
    /// The words of the text understood as naming a domain.
    pub understood: Vec<Understood>,
}

#[derive(Clone, Debug)]
pub struct SearchHit {
    pub service_id: String,
    pub score: f32,
    /// Rounded to 0.1 km, or to whole km when the nearest location is confidential.
    pub distance_km: Option<f64>,
    pub stale: bool,
    pub language_matches: Vec<LanguageMatch>,
    /// The hit's domain and need codes that the filter or the text asked for.
    pub matched_domains: Vec<String>,
    pub snippet: Snippet,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageMatch {
    pub code: String,
    pub mode: LanguageMode,
    /// False when the service offers a relative through the macrolanguage (`fa` → `prs`).
    pub exact: bool,
}

/// A piece of the description around the matching words.
#[derive(Clone, Debug, Default)]
pub struct Snippet {
    pub text: String,
    /// `text` HTML-escaped, with the matching words in `<b>`.
    pub html: String,
    /// The language it is in: the one asked for, its macrolanguage, or Dutch.
    pub lang: Lang,
    pub direction: Direction,
}

const SNIPPET_CHARS: usize = 180;

impl SearchIndex {
    /// Runs one search in its turn: at most one per core at a time, the others waiting in
    /// order (a request that gives up, at its timeout, drops its place in the queue). It runs
    /// on the async worker that asked: a search takes a fraction of a millisecond at 100,000
    /// services and a few at 1,000,000, less than the wake-ups of a hop to a blocking thread
    /// cost under load (BENCHMARKS.md: a third more searches a second without the hop).
    pub async fn search_in_turn(
        &self,
        request: SearchRequest,
        page: PageRequest,
    ) -> Result<SearchResults, SearchError> {
        let _turn = self
            .search_slots
            .acquire()
            .await
            .map_err(|_| SearchError::Index(tantivy::TantivyError::InternalError("search queue closed".into())))?;
        self.search(&request, page)
    }

    /// Runs one search and returns the requested page.
    pub fn search(&self, request: &SearchRequest, page: PageRequest) -> Result<SearchResults, SearchError> {
        let searcher = self.searcher();
        let plan = request.plan(&self.reference, &self.fields, &self.vocabulary, &searcher)?;
        let shown = request.shown;
        let page_end = page.offset.saturating_add(page.limit);
        let collector = RankingCollector {
            searcher: &searcher,
            columns: &self.columns,
            place: plan.place.as_ref(),
            radius_km: plan.radius_km,
            languages: &plan.languages,
            include_interpreted: plan.include_interpreted,
            scored_by_text: plan.text.is_some(),
            now: Utc::now().timestamp(),
            // One more than the page: whether there is a next page.
            keep: page_end.saturating_add(1),
            count: match (shown.total, shown.facets) {
                (_, true) => Counting::TotalAndFacets,
                (true, false) => Counting::Total,
                (false, false) => Counting::Nothing,
            },
        };
        let collected = execute::run(&searcher, &plan, &collector, &self.scratch, &self.filters)?;

        let analysed = analysis::Analyzed::of(request.lang);
        let lang_index = analysed.map_or(0, analysis::Analyzed::index);
        let snippets = match &plan.text {
            Some(text) if shown.snippets => {
                let query = text.query();
                let mut generators = Vec::new();
                for i in [lang_index, 0] {
                    let mut generator = SnippetGenerator::create(&searcher, &*query, self.fields.description[i])?;
                    generator.set_max_num_chars(SNIPPET_CHARS);
                    generators.push(generator);
                }
                Some(generators)
            }
            _ => None,
        };

        let has_more = collected.hits.len() > page_end;
        let mut hits = Vec::new();
        for ranked in collected.hits.iter().take(page_end).skip(page.offset) {
            let segment = searcher.segment_reader(ranked.address.segment_ord);
            let columns = self.columns.of(&searcher, segment)?;
            let doc = ranked.address.doc_id;
            let snippet = if shown.snippets {
                let stored: TantivyDocument = searcher.doc(ranked.address)?;
                self.snippet(&stored, request.lang, snippets.as_deref())
            } else {
                Snippet::default()
            };
            hits.push(SearchHit {
                service_id: columns.id(doc).to_owned(),
                score: ranked.score,
                distance_km: ranked.distance.map(shown_distance),
                stale: ranked.stale,
                language_matches: language_matches(&columns, doc, &plan),
                matched_domains: matched_domains(&columns, doc, &plan.explaining_domains),
                snippet,
            });
        }

        let by_count = |counts: std::collections::BTreeMap<String, usize>| {
            let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
            counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            counts
        };
        Ok(SearchResults {
            hits,
            total: (collector.count != Counting::Nothing).then_some(collected.total),
            has_more,
            origin: plan.place.as_ref().map(|p| p.position),
            domain_facets: by_count(collected.domain_counts),
            language_facets: by_count(collected.language_counts),
            understood: plan.understood,
        })
    }

    /// The snippet of a hit: from its description in the language asked for, its
    /// macrolanguage, or Dutch; `generators` mark the matching words (in that language's
    /// field, then the Dutch one).
    fn snippet(&self, stored: &TantivyDocument, lang: Lang, generators: Option<&[SnippetGenerator]>) -> Snippet {
        let text_of = |field| {
            stored
                .get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let analysed = analysis::Analyzed::of(lang);
        let lang_index = analysed.map_or(0, analysis::Analyzed::index);
        // A service without a translation is shown in Dutch.
        let translated = match analysed {
            Some(lang) => Some((text_of(self.fields.description[lang_index]), lang.lang())),
            None => self.other_description(stored, lang),
        }
        .filter(|(text, _)| !text.is_empty());
        let mut snippet = match translated {
            Some((text, lang)) if analysed.is_some() => snippet(&text, generators.map(|g| &g[0]), lang),
            Some((text, lang)) => snippet(&text, None, lang),
            None => snippet(
                &text_of(self.fields.description[0]),
                generators.map(|g| &g[1]),
                Lang::Nl,
            ),
        };
        snippet.direction = self.reference.direction(snippet.lang);
        snippet
    }

    /// The description in `lang` or its macrolanguage, for a language the index does not
    /// analyse; None to show the Dutch one.
    fn other_description(&self, stored: &TantivyDocument, lang: Lang) -> Option<(String, Lang)> {
        let packed: Vec<&str> = stored
            .get_all(self.fields.other_description)
            .filter_map(|v| v.as_str())
            .collect();
        let found = self.reference.localize(lang, |l| {
            let text = packed
                .iter()
                .find_map(|p| fields::OtherDescription::text_in(p, l.code()))?;
            Some((text, true))
        });
        (found.lang != Lang::Nl).then_some((found.text, found.lang))
    }
}

/// The languages asked for that the hit offers, best fit first.
fn language_matches(columns: &SegmentColumns, doc: tantivy::DocId, plan: &query::Plan) -> Vec<LanguageMatch> {
    let mut matches: Vec<LanguageMatch> = columns
        .language_offers(doc)
        .iter()
        .map(|packed| LanguageOffer::unpack(*packed))
        .filter(|offer| plan.include_interpreted || offer.mode == LanguageMode::Staff)
        .filter_map(|offer| {
            let wanted = plan.languages.iter().find(|w| w.code == offer.code)?;
            Some(LanguageMatch {
                code: offer.code,
                mode: offer.mode,
                exact: wanted.exact,
            })
        })
        .collect();
    // Best fit first: exact before relatives, staff before interpreters.
    matches.sort_by_key(|m| (!m.exact, m.mode == LanguageMode::Interpreter, m.code.clone()));
    matches
}

/// The hit's domains that explain it (`explaining` is sorted).
fn matched_domains(columns: &SegmentColumns, doc: tantivy::DocId, explaining: &[String]) -> Vec<String> {
    let codes = columns.domain_codes();
    columns
        .domains(doc)
        .iter()
        .filter_map(|at| codes.get(*at as usize))
        .filter(|code| explaining.binary_search(code).is_ok())
        .cloned()
        .collect()
}

/// Public locations to 0.1 km; a confidential one (a shelter) only to the whole kilometre, so
/// its position cannot be triangulated from a few searches.
fn shown_distance(distance: Distance) -> f64 {
    if distance.confidential {
        distance.km.round().max(1.0)
    } else {
        (distance.km * 10.0).round() / 10.0
    }
}

fn snippet(description: &str, generator: Option<&SnippetGenerator>, lang: Lang) -> Snippet {
    if let Some(generator) = generator {
        let found = generator.snippet(description);
        if !found.is_empty() {
            return Snippet {
                text: found.fragment().to_owned(),
                html: found.to_html(),
                lang,
                direction: Direction::Ltr,
            };
        }
    }
    // Nothing to mark: the description's opening words.
    let mut text: String = description.chars().take(SNIPPET_CHARS).collect();
    if text.len() < description.len()
        && let Some(cut) = text.rfind(' ')
    {
        text.truncate(cut);
        text.push('…');
    }
    Snippet {
        html: htmlescape::encode_minimal(&text),
        text,
        lang,
        direction: Direction::Ltr,
    }
}
