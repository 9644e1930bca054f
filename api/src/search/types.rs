//! GraphQL over search: `searchServices`, its input and its explained, faceted answer.

use std::sync::Arc;

use async_graphql::connection::PageInfo;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, InputObject, Object, SimpleObject};
use entity::service;
use sea_orm::DatabaseConnection;

use super::{Near, SearchError, SearchHit, SearchIndex, SearchRequest};
use crate::error::{ApiResult, loader_error};
use crate::geo::{Position, distance_km};
use crate::listings::{Access, LanguageMode, Location, LocationsOfService, MapLoader, Service, TargetGroup};
use crate::reference::types::TextDirection;
use crate::reference::{Lang, Language, LifeDomain, LocalizedText, ReferenceData};
use crate::relay::{self, PageRequest};

/// The family's place: a postal code, a municipality, or coordinates. Give exactly one.
#[derive(InputObject, Clone, Default)]
pub struct PlaceInput {
    /// A Belgian postal code, e.g. `9300`.
    pub postal_code: Option<String>,
    /// A REFNIS municipality code, e.g. `41002` (Aalst).
    pub municipality_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl PlaceInput {
    fn near(self) -> Result<Near, SearchError> {
        match (self.postal_code, self.municipality_code, self.latitude, self.longitude) {
            (Some(code), None, None, None) => Ok(Near::PostalCode(code)),
            (None, Some(code), None, None) => Ok(Near::Municipality(code)),
            (None, None, Some(latitude), Some(longitude)) => Ok(Near::Position(Position::new(latitude, longitude))),
            _ => Err(SearchError::AmbiguousPlace),
        }
    }
}

/// Who can help this family? Every criterion is optional; all given ones must hold.
#[derive(InputObject, Default)]
pub struct ServiceSearchInput {
    /// Free text in Dutch, French or English: "huurcontract", "logement", "rent", or words for
    /// a need in the families' languages (`seed/data/lexicon/`): "سكن", "житло". Typos and
    /// missing accents are forgiven; quotes, colons and the like are just text.
    pub text: Option<String>,
    /// The family's place: only services whose area covers it are found, nearest first.
    pub near: Option<PlaceInput>,
    /// Also find services with a location within this many km of `near`, whatever their area.
    pub radius_km: Option<f64>,
    /// Life-domain or need codes; a top-level code (`housing`) includes its needs.
    pub domains: Option<Vec<String>>,
    /// Languages the family speaks: ISO 639-1, 639-3 or BCP-47 (`ar`, `prs`, `fa-AF`). A
    /// macrolanguage matches its members (`fa` finds Dari) and the reverse.
    pub languages: Option<Vec<String>>,
    /// Whether services that arrange an interpreter count as speaking the language.
    #[graphql(default = true)]
    pub include_interpreted: bool,
    /// Services meant for any of these groups (or for everyone).
    pub target_groups: Option<Vec<TargetGroup>>,
    /// The age of the person who needs help.
    pub age: Option<i32>,
    /// Only services that are free.
    #[graphql(default)]
    pub free_only: bool,
    /// How the family may get in.
    pub access: Option<Access>,
    /// The language of labels and snippets in the answer; each says which language it came
    /// in (its macrolanguage, or Dutch, when there is no text in this one).
    #[graphql(default)]
    pub lang: Lang,
}

impl ServiceSearchInput {
    fn into_request(self) -> Result<SearchRequest, SearchError> {
        Ok(SearchRequest {
            text: self.text,
            near: self.near.map(PlaceInput::near).transpose()?,
            radius_km: self.radius_km,
            domains: self.domains.unwrap_or_default(),
            languages: self.languages.unwrap_or_default(),
            include_interpreted: self.include_interpreted,
            target_groups: self
                .target_groups
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            age: self.age,
            free_only: self.free_only,
            access: self.access.map(Into::into),
            lang: self.lang,
            // The resolver narrows it to what the query selects.
            shown: super::Shown::EVERYTHING,
        })
    }
}

/// Services that can help, best first, with counts over all of them for filter chips.
#[derive(SimpleObject)]
pub struct ServiceSearchConnection {
    /// How many services match in all.
    pub total_count: u64,
    pub page_info: PageInfo,
    pub edges: Vec<ServiceSearchEdge>,
    /// Counted over the whole result set, not just this page.
    pub facets: SearchFacets,
    /// The words of `text` understood as naming a domain or need, and as what (`"житло"` →
    /// housing, in Ukrainian): why these services came up. Empty without text.
    pub understood: Vec<UnderstoodWords>,
}

/// How the words were understood.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "super::Via")]
pub enum UnderstoodVia {
    /// The domain's label.
    Label,
    /// One of the domain's synonyms.
    Synonym,
    /// A term of the lexicon: the families' languages and everyday words (`seed/data/lexicon/`).
    Lexicon,
}

/// Words of the search text that named a domain.
#[derive(SimpleObject)]
pub struct UnderstoodWords {
    /// The words as typed.
    pub text: String,
    pub domain: LifeDomain,
    /// The language they were understood in.
    pub language: Option<Language>,
    pub via: UnderstoodVia,
    /// False for a lexicon term no speaker of its language has reviewed yet.
    pub reviewed: bool,
}

/// One service found, and why.
pub struct ServiceSearchEdge {
    cursor: String,
    service: Arc<service::Model>,
    hit: SearchHit,
    origin: Option<Position>,
}

#[Object]
impl ServiceSearchEdge {
    async fn cursor(&self) -> &str {
        &self.cursor
    }

    async fn node(&self) -> Service {
        Service(service::Model::clone(&self.service))
    }

    /// The ranking score (see README, "How search ranks"): higher is better.
    async fn score(&self) -> f64 {
        f64::from(self.hit.score)
    }

    /// Great-circle km from the family's place to the nearest location; null without `near`
    /// or for a service without locations (phone, online). Whole km for a confidential one.
    async fn distance_km(&self) -> Option<f64> {
        self.hit.distance_km
    }

    /// The location nearest to the family's place; null without `near`.
    async fn nearest_location(&self, ctx: &Context<'_>) -> ApiResult<Option<Location>> {
        let Some(origin) = self.origin else {
            return Ok(None);
        };
        let locations = crate::error::context_data::<DataLoader<MapLoader>>(ctx)?
            .load_one(LocationsOfService(self.service.id.clone()))
            .await
            .map_err(loader_error)?
            .unwrap_or_default();
        Ok(locations
            .into_iter()
            .filter_map(|l| {
                let km = distance_km(origin, Position::new(l.latitude?, l.longitude?));
                Some((km, l))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, l)| Location(l)))
    }

    /// The languages asked for that the service offers, best fit first.
    async fn language_matches(&self, ctx: &Context<'_>) -> Vec<LanguageMatch> {
        let reference = ctx.data_unchecked::<Arc<ReferenceData>>();
        self.hit
            .language_matches
            .iter()
            .filter_map(|m| {
                Some(LanguageMatch {
                    language: Language::by_code(reference, &m.code)?,
                    mode: m.mode.into(),
                    exact: m.exact,
                })
            })
            .collect()
    }

    /// The service's domains and needs that the filter or the text asked for.
    async fn matched_domains(&self, ctx: &Context<'_>) -> Vec<LifeDomain> {
        let reference = ctx.data_unchecked::<Arc<ReferenceData>>();
        self.hit
            .matched_domains
            .iter()
            .filter_map(|code| LifeDomain::by_code(reference, code))
            .collect()
    }

    /// The description around the matching words, in the language asked for, its
    /// macrolanguage, or Dutch when the service has no description in either.
    async fn snippet(&self) -> Snippet {
        Snippet {
            text: self.hit.snippet.text.clone(),
            html: self.hit.snippet.html.clone(),
            lang: self.hit.snippet.lang,
            direction: self.hit.snippet.direction.into(),
        }
    }

    /// Not verified for 12 months: it ranks lower, and may no longer be right.
    async fn stale(&self) -> bool {
        self.hit.stale
    }
}

/// A language the family asked for that a service offers.
#[derive(SimpleObject)]
pub struct LanguageMatch {
    pub language: Language,
    pub mode: LanguageMode,
    /// False when it matched through the macrolanguage (asked `fa`, offered Dari).
    pub exact: bool,
}

#[derive(SimpleObject)]
pub struct Snippet {
    /// Plain text.
    pub text: String,
    /// HTML-escaped, with the matching words in `<b>…</b>`.
    pub html: String,
    /// The language it is in.
    pub lang: Lang,
    pub direction: TextDirection,
}

#[derive(SimpleObject)]
pub struct SearchFacets {
    /// Domains and needs of the matching services, most frequent first.
    pub domains: Vec<DomainFacet>,
    /// Languages the matching services offer (staff or interpreter), most frequent first.
    pub languages: Vec<LanguageFacet>,
}

#[derive(SimpleObject)]
pub struct DomainFacet {
    pub code: String,
    /// In the `lang` of the search, or the language it falls back to.
    pub label: String,
    /// The label, saying which language it is in and which way it runs.
    pub label_text: LocalizedText,
    pub count: u64,
}

#[derive(SimpleObject)]
pub struct LanguageFacet {
    /// ISO 639-3.
    pub code: String,
    /// English name.
    pub name: String,
    /// The language's name for itself, when known.
    pub native_name: Option<String>,
    pub count: u64,
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Who can help this family? Services ranked by text relevance, language fit, distance
    /// and freshness, each hit explained; inactive services are never returned.
    #[graphql(complexity = "crate::relay::page_cost(Some(first), child_complexity)")]
    async fn search_services(
        &self,
        ctx: &Context<'_>,
        input: ServiceSearchInput,
        #[graphql(default = 20)] first: i32,
        after: Option<String>,
    ) -> ApiResult<ServiceSearchConnection> {
        let page = PageRequest::new(Some(first), after.as_deref()).map_err(SearchError::from)?;
        let lang = input.lang;
        let mut request = input.into_request()?;
        // Only what the query selects is worked out: counting every hit, or cutting
        // snippets, costs more than finding the page.
        let selected = ctx.look_ahead();
        request.shown = super::Shown {
            total: selected.field("totalCount").exists(),
            facets: selected.field("facets").exists(),
            snippets: selected.field("edges").field("snippet").exists(),
        };
        let search = ctx.data_unchecked::<Arc<SearchIndex>>();
        let started = std::time::Instant::now();
        let results = search.search_in_turn(request, page).await?;
        ctx.data_unchecked::<Arc<crate::metrics::Metrics>>()
            .observe_search(started);

        let ids: Vec<String> = results.hits.iter().map(|h| h.service_id.clone()).collect();
        let mut services = search
            .rows
            .of(ctx.data_unchecked::<DatabaseConnection>(), &ids)
            .await
            .map_err(SearchError::from)?;
        // Not selected, so never shown.
        let total = results.total.unwrap_or_default() as u64;
        let edges: Vec<ServiceSearchEdge> = results
            .hits
            .into_iter()
            .enumerate()
            // A service deleted since the index last caught up is left out.
            .filter_map(|(i, hit)| {
                Some(ServiceSearchEdge {
                    cursor: relay::encode_cursor(page.offset + i),
                    service: services.remove(&hit.service_id)?,
                    hit,
                    origin: results.origin,
                })
            })
            .collect();

        let reference = ctx.data_unchecked::<Arc<ReferenceData>>();
        let facets = SearchFacets {
            domains: results
                .domain_facets
                .iter()
                .filter_map(|(code, count)| {
                    let label = reference.domain_label(reference.domain(code)?, lang);
                    Some(DomainFacet {
                        code: code.clone(),
                        label: label.text.clone(),
                        label_text: label.into(),
                        count: *count as u64,
                    })
                })
                .collect(),
            languages: results
                .language_facets
                .iter()
                .filter_map(|(code, count)| {
                    let language = reference.language(code)?;
                    Some(LanguageFacet {
                        code: code.clone(),
                        name: language.name_en.clone(),
                        native_name: language.name_native.clone(),
                        count: *count as u64,
                    })
                })
                .collect(),
        };
        let understood = results
            .understood
            .iter()
            .filter_map(|u| {
                Some(UnderstoodWords {
                    text: u.text.clone(),
                    domain: LifeDomain::by_code(reference, &u.domain_code)?,
                    language: Language::by_code(reference, &u.language),
                    via: u.via.into(),
                    reviewed: u.reviewed,
                })
            })
            .collect();
        Ok(ServiceSearchConnection {
            understood,
            total_count: total,
            page_info: PageInfo {
                has_previous_page: page.offset > 0,
                has_next_page: results.has_more,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
            facets,
        })
    }
}
