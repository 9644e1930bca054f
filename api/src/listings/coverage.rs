//! Coverage gaps: per life domain, how many active services a municipality's families can
//! turn to, and in which languages. The empty cells are what is missing on its map.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_graphql::{Context, Object};
use entity::enums::{LanguageMode, ServiceStatus};
use entity::{service, service_domain, service_language};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use super::{ListingsError, serving_municipality};
use crate::error::ApiResult;
use crate::reference::types::reference;
use crate::reference::{Language, LifeDomain, Municipality, ReferenceData, ReferenceError};

/// The active services whose area covers a municipality, counted per top-level life domain.
pub struct Coverage {
    pub municipality_code: String,
    /// Every top-level domain in display order, those without services too.
    pub domains: Vec<DomainCoverage>,
}

pub struct DomainCoverage {
    pub domain_code: String,
    pub services: usize,
    /// Most services first, then by code.
    pub languages: Vec<LanguageCoverage>,
}

pub struct LanguageCoverage {
    pub language_code: String,
    pub services: usize,
    pub with_staff: usize,
    pub with_interpreter: usize,
}

/// The coverage of a municipality. Public: it only counts listings anyone can browse.
pub async fn coverage(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    municipality_code: &str,
) -> Result<Coverage, ListingsError> {
    let covering = Query::select()
        .column(service::Column::Id)
        .from(service::Entity)
        .cond_where(
            Condition::all()
                .add(serving_municipality(db, reference, municipality_code).await?)
                .add(service::Column::Status.eq(ServiceStatus::Active)),
        )
        .to_owned();
    let domain_rows = service_domain::Entity::find()
        .filter(service_domain::Column::ServiceId.in_subquery(covering.clone()))
        .all(db)
        .await?;
    let language_rows = service_language::Entity::find()
        .filter(service_language::Column::ServiceId.in_subquery(covering))
        .all(db)
        .await?;

    // A service tagged with needs (`housing.search`, `housing.tenancy_rights`) counts once
    // for their domain (`housing`).
    let top_of: HashMap<&str, &str> = reference
        .domains()
        .map(|d| (d.code.as_str(), d.parent_code.as_deref().unwrap_or(&d.code)))
        .collect();
    let mut services_of_domain: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for row in &domain_rows {
        if let Some(top) = top_of.get(row.domain_code.as_str()) {
            services_of_domain
                .entry(top)
                .or_default()
                .insert(row.service_id.as_str());
        }
    }
    let mut languages_of_service: HashMap<&str, Vec<&service_language::Model>> = HashMap::new();
    for row in &language_rows {
        languages_of_service
            .entry(row.service_id.as_str())
            .or_default()
            .push(row);
    }

    let domains = reference
        .top_domains()
        .map(|domain| {
            let services = services_of_domain.get(domain.code.as_str());
            let mut by_language: BTreeMap<&str, LanguageCoverage> = BTreeMap::new();
            for service_id in services.into_iter().flatten() {
                for language in languages_of_service.get(service_id).into_iter().flatten() {
                    let counts =
                        by_language
                            .entry(language.language_code.as_str())
                            .or_insert_with(|| LanguageCoverage {
                                language_code: language.language_code.clone(),
                                services: 0,
                                with_staff: 0,
                                with_interpreter: 0,
                            });
                    counts.services += 1;
                    match language.mode {
                        LanguageMode::Staff => counts.with_staff += 1,
                        LanguageMode::Interpreter => counts.with_interpreter += 1,
                    }
                }
            }
            let mut languages: Vec<LanguageCoverage> = by_language.into_values().collect();
            languages.sort_by(|a, b| {
                b.services
                    .cmp(&a.services)
                    .then_with(|| a.language_code.cmp(&b.language_code))
            });
            DomainCoverage {
                domain_code: domain.code.clone(),
                services: services.map_or(0, BTreeSet::len),
                languages,
            }
        })
        .collect();
    Ok(Coverage {
        municipality_code: municipality_code.to_owned(),
        domains,
    })
}

/// How well a municipality is covered: per life domain, the active services whose area
/// covers it and the languages they work in.
#[Object]
impl Coverage {
    /// The municipality counted for.
    async fn municipality(&self, ctx: &Context<'_>) -> ApiResult<Municipality> {
        Municipality::by_code(reference(ctx), &self.municipality_code)
            .ok_or_else(|| ReferenceError::UnknownMunicipality(self.municipality_code.clone()).into())
    }

    /// Every top-level life domain in display order, including those no service covers.
    async fn domains(&self) -> &[DomainCoverage] {
        &self.domains
    }
}

/// The active services of one life domain (its needs included) that cover the municipality.
#[Object]
impl DomainCoverage {
    /// The top-level life domain.
    async fn domain(&self, ctx: &Context<'_>) -> ApiResult<LifeDomain> {
        LifeDomain::by_code(reference(ctx), &self.domain_code)
            .ok_or_else(|| ReferenceError::UnknownDomain(self.domain_code.clone()).into())
    }

    /// How many active services of this domain cover the municipality; 0 is a gap.
    async fn services(&self) -> usize {
        self.services
    }

    /// The languages those services work in, most services first, then by code.
    async fn languages(&self) -> &[LanguageCoverage] {
        &self.languages
    }
}

/// How many of a domain's services work in one language, and how.
#[Object]
impl LanguageCoverage {
    /// The language as services list it (no macrolanguage grouping: Dari and Persian are
    /// counted apart).
    async fn language(&self, ctx: &Context<'_>) -> ApiResult<Language> {
        Language::by_code(reference(ctx), &self.language_code)
            .ok_or_else(|| ReferenceError::UnknownLanguage(self.language_code.clone()).into())
    }

    /// Services offering the language, by staff or with an interpreter.
    async fn services(&self) -> usize {
        self.services
    }

    /// Services whose staff speak it.
    async fn with_staff(&self) -> usize {
        self.with_staff
    }

    /// Services that arrange an interpreter for it.
    async fn with_interpreter(&self) -> usize {
        self.with_interpreter
    }
}

#[derive(Default)]
pub struct CoverageQuery;

#[Object]
impl CoverageQuery {
    /// Per life domain, how many active services cover a municipality (REFNIS code) and in
    /// which languages: the zeros are what is missing on its map. Public, like the listings
    /// it counts.
    async fn coverage(&self, ctx: &Context<'_>, municipality_code: String) -> ApiResult<Coverage> {
        let db = ctx.data_unchecked::<DatabaseConnection>();
        Ok(coverage(db, reference(ctx), municipality_code.trim()).await?)
    }
}
