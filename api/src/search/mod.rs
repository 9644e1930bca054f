//! Finding who can help: a tantivy index of the map's services, searched by need, place and
//! language, ranked (`rank`), explained and faceted. The index is derived from the database
//! and follows it through the change log (`change_log`); it is never the source of truth.

mod analysis;
mod change_log;
mod collect;
mod document;
mod fields;
mod index;
mod lexicon;
mod query;
mod rank;
mod types;

pub use change_log::{prune as prune_change_log, record};
pub use index::{BuildReport, SearchIndex, follow};
pub use query::{FamilyPlace, Near, SearchRequest, Understood, Via, locate_family};
pub use types::SearchQuery;

use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use entity::enums::LanguageMode;
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, TantivyDocument};

use crate::geo::Position;
use crate::reference::{Direction, Lang, ReferenceError};
use crate::relay::{PageRequest, RelayError};
use collect::{Distance, RankingCollector};
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
    pub total: usize,
    /// Where distances were measured from.
    pub origin: Option<Position>,
    /// Domain and need codes with how many hits have them, most first.
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
    /// Runs one search on the blocking pool, at most one per core at a time, so that ranking
    /// a large map never stalls the async workers that answer everything else; searches
    /// beyond that wait their turn in order. A request that gives up (its timeout) drops its
    /// place in the queue.
    pub async fn search_in_pool(
        self: &Arc<Self>,
        request: SearchRequest,
        page: PageRequest,
    ) -> Result<SearchResults, SearchError> {
        let _turn = self
            .search_slots
            .acquire()
            .await
            .map_err(|_| SearchError::Index(tantivy::TantivyError::InternalError("search pool closed".into())))?;
        let search = self.clone();
        tokio::task::spawn_blocking(move || search.search(&request, page))
            .await
            .map_err(|e| SearchError::Index(tantivy::TantivyError::InternalError(e.to_string())))?
    }

    /// Runs one search and returns the requested page.
    pub fn search(&self, request: &SearchRequest, page: PageRequest) -> Result<SearchResults, SearchError> {
        let searcher = self.searcher();
        let plan = request.plan(&self.reference, &self.fields, &self.vocabulary, &searcher)?;
        let collector = RankingCollector {
            place: plan.place.as_ref(),
            radius_km: plan.radius_km,
            languages: &plan.languages,
            include_interpreted: plan.include_interpreted,
            scored_by_text: plan.text_query.is_some(),
            now: Utc::now().timestamp(),
            keep: page.offset.saturating_add(page.limit),
        };
        let collected = searcher.search(&*plan.query, &collector)?;

        let analysed = analysis::Analyzed::of(request.lang);
        let lang_index = analysed.map_or(0, analysis::Analyzed::index);
        let snippets = match &plan.text_query {
            Some(query) => {
                let mut generators = Vec::new();
                for i in [lang_index, 0] {
                    let mut generator = SnippetGenerator::create(&searcher, &**query, self.fields.description[i])?;
                    generator.set_max_num_chars(SNIPPET_CHARS);
                    generators.push(generator);
                }
                Some(generators)
            }
            None => None,
        };

        let mut hits = Vec::new();
        for ranked in collected.hits.iter().skip(page.offset) {
            let stored: TantivyDocument = searcher.doc(ranked.address)?;
            let text_of = |field| {
                stored
                    .get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let id = text_of(self.fields.id);
            // A service without a translation is shown in Dutch.
            let translated = match analysed {
                Some(lang) => Some((text_of(self.fields.description[lang_index]), lang.lang())),
                None => self.other_description(&stored, request.lang),
            }
            .filter(|(text, _)| !text.is_empty());
            let mut snippet = match translated {
                Some((text, lang)) if analysed.is_some() => snippet(&text, snippets.as_ref().map(|g| &g[0]), lang),
                Some((text, lang)) => snippet(&text, None, lang),
                None => snippet(
                    &text_of(self.fields.description[0]),
                    snippets.as_ref().map(|g| &g[1]),
                    Lang::Nl,
                ),
            };
            snippet.direction = self.reference.direction(snippet.lang);
            hits.push(SearchHit {
                service_id: id,
                score: ranked.score,
                distance_km: ranked.distance.map(shown_distance),
                stale: ranked.stale,
                language_matches: self.language_matches(&searcher, ranked.address, &plan)?,
                matched_domains: self.matched_domains(&searcher, ranked.address, &plan.explaining_domains)?,
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
            total: collected.total,
            origin: plan.place.as_ref().map(|p| p.position),
            domain_facets: by_count(collected.domain_counts),
            language_facets: by_count(collected.language_counts),
            understood: plan.understood,
        })
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

    fn language_matches(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        plan: &query::Plan,
    ) -> Result<Vec<LanguageMatch>, SearchError> {
        let offers = searcher
            .segment_reader(address.segment_ord)
            .fast_fields()
            .u64("language_offer")?;
        let mut matches: Vec<LanguageMatch> = offers
            .values_for_doc(address.doc_id)
            .map(LanguageOffer::unpack)
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
        Ok(matches)
    }

    fn matched_domains(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        explaining: &[String],
    ) -> Result<Vec<String>, SearchError> {
        let Some(domains) = searcher
            .segment_reader(address.segment_ord)
            .fast_fields()
            .str("domain")?
        else {
            return Ok(Vec::new());
        };
        let mut matched = Vec::new();
        let mut code = String::new();
        for ord in domains.term_ords(address.doc_id) {
            if domains
                .ord_to_str(ord, &mut code)
                .map_err(tantivy::TantivyError::from)?
                && explaining.binary_search(&code).is_ok()
            {
                matched.push(code.clone());
            }
        }
        Ok(matched)
    }
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
