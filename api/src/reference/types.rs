//! GraphQL types over the in-memory reference data.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, Object, SimpleObject};

use crate::error::{ApiError, ApiResult, Reason};
use entity::{language, life_domain, municipality};

use super::{Lang, Localized, ReferenceData, Value};
use crate::listings::{Access, Cost, TargetGroup};
use crate::relay::{self, NodeKind, Page, PageRequest};
use sea_orm::Iterable;

/// Which way a text runs, for a front end's `dir`.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "super::Direction")]
pub enum TextDirection {
    Ltr,
    /// Right to left: Arabic, Persian, Pashto, Sorani…
    Rtl,
}

/// A text in the language asked for, or in the language it fell back to (its macrolanguage,
/// then Dutch): which one it is, and which way it runs.
#[derive(SimpleObject)]
pub struct LocalizedText {
    pub text: String,
    /// The language the text is in, which may not be the one asked for.
    pub lang: Lang,
    pub direction: TextDirection,
    /// False for a label no speaker of its language has reviewed yet (`seed/data/labels/`);
    /// a service's own texts are as its editors wrote them.
    pub reviewed: bool,
}

impl From<Localized> for LocalizedText {
    fn from(l: Localized) -> Self {
        LocalizedText {
            text: l.text,
            lang: l.lang,
            direction: l.direction.into(),
            reviewed: l.reviewed,
        }
    }
}

pub(crate) fn reference<'a>(ctx: &Context<'a>) -> &'a Arc<ReferenceData> {
    ctx.data_unchecked::<Arc<ReferenceData>>()
}

/// A Belgian region.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Region {
    /// REFNIS code, e.g. `02000` for the Flemish Region.
    pub code: String,
    #[graphql(skip)]
    name_nl: String,
    #[graphql(skip)]
    name_fr: String,
}

#[ComplexObject]
impl Region {
    /// Name in `lang` (English falls back to Dutch).
    async fn name(&self, #[graphql(default)] lang: Lang) -> &str {
        if lang == Lang::Fr { &self.name_fr } else { &self.name_nl }
    }
}

impl Region {
    pub fn by_code(reference: &ReferenceData, code: &str) -> Option<Self> {
        reference.region(code).map(|r| Region {
            code: r.code.clone(),
            name_nl: r.name_nl.clone(),
            name_fr: r.name_fr.clone(),
        })
    }
}

/// A Belgian province.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Province {
    /// REFNIS code, e.g. `40000` for Oost-Vlaanderen.
    pub code: String,
    #[graphql(skip)]
    name_nl: String,
    #[graphql(skip)]
    name_fr: String,
    #[graphql(skip)]
    region_code: String,
}

#[ComplexObject]
impl Province {
    /// Name in `lang` (English falls back to Dutch).
    async fn name(&self, #[graphql(default)] lang: Lang) -> &str {
        if lang == Lang::Fr { &self.name_fr } else { &self.name_nl }
    }

    async fn region(&self, ctx: &Context<'_>) -> Option<Region> {
        Region::by_code(reference(ctx), &self.region_code)
    }
}

impl Province {
    pub fn by_code(reference: &ReferenceData, code: &str) -> Option<Self> {
        reference.province(code).map(|p| Province {
            code: p.code.clone(),
            name_nl: p.name_nl.clone(),
            name_fr: p.name_fr.clone(),
            region_code: p.region_code.clone(),
        })
    }
}

/// A Belgian municipality (gemeente / commune).
pub struct Municipality(pub(crate) municipality::Model);

#[Object]
impl Municipality {
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Municipality, &self.0.code)
    }

    /// REFNIS code, e.g. `41002` for Aalst.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Name in `lang`: Aalst in Dutch, Alost in French (English falls back to Dutch).
    async fn name(&self, #[graphql(default)] lang: Lang) -> &str {
        if lang == Lang::Fr {
            &self.0.name_fr
        } else {
            &self.0.name_nl
        }
    }

    async fn postal_codes(&self, ctx: &Context<'_>) -> Vec<String> {
        reference(ctx).postal_codes_of(&self.0.code).to_vec()
    }

    /// Null for the 19 municipalities of the Brussels-Capital Region, which has no provinces.
    async fn province(&self, ctx: &Context<'_>) -> Option<Province> {
        Province::by_code(reference(ctx), self.0.province_code.as_deref()?)
    }

    async fn region(&self, ctx: &Context<'_>) -> Option<Region> {
        Region::by_code(reference(ctx), &self.0.region_code)
    }

    /// Mean position of its postal codes.
    async fn latitude(&self) -> f64 {
        self.0.latitude
    }

    async fn longitude(&self) -> f64 {
        self.0.longitude
    }
}

impl Municipality {
    pub fn by_code(reference: &ReferenceData, code: &str) -> Option<Self> {
        reference.municipality(code).cloned().map(Municipality)
    }
}

/// Whether a place is a whole municipality or one postal code in it.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum PlaceKind {
    Municipality,
    PostalCode,
}

/// An answer of the place autocomplete.
pub struct Place(super::Place);

#[Object]
impl Place {
    async fn kind(&self) -> PlaceKind {
        if self.0.postal_code.is_some() {
            PlaceKind::PostalCode
        } else {
            PlaceKind::Municipality
        }
    }

    /// What to show in a picker: "Aalst", or "9300 Aalst" and "1020 Laeken (Brussel)" for a postal code.
    async fn label(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> String {
        let reference = reference(ctx);
        let name = match reference.municipality(&self.0.municipality_code) {
            Some(m) if lang == Lang::Fr => &m.name_fr,
            Some(m) => &m.name_nl,
            None => &self.0.municipality_code,
        };
        match &self.0.postal_code {
            None => name.clone(),
            Some(code) => match reference.postal_code(code).and_then(|p| p.locality.as_deref()) {
                Some(locality)
                    if !entity::search_key::normalize(locality).contains(&entity::search_key::normalize(name)) =>
                {
                    format!("{code} {locality} ({name})")
                }
                _ => format!("{code} {name}"),
            },
        }
    }

    async fn postal_code(&self) -> Option<&str> {
        self.0.postal_code.as_deref()
    }

    async fn municipality(&self, ctx: &Context<'_>) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), &self.0.municipality_code)
    }
}

/// A life domain (`housing`) or a need under it (`housing.search`).
pub struct LifeDomain(pub(crate) life_domain::Model);

#[Object]
impl LifeDomain {
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::LifeDomain, &self.0.code)
    }

    /// Stable code front ends may hard-code, e.g. `housing` or `housing.tenancy_rights`.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// The label in `lang`, or in the language it falls back to (see `labelText`).
    async fn label(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> String {
        reference(ctx).domain_label(&self.0, lang).text
    }

    /// The label in `lang`, its macrolanguage or Dutch, saying which and which way it runs.
    async fn label_text(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> LocalizedText {
        reference(ctx).domain_label(&self.0, lang).into()
    }

    /// Words people type when they mean this domain, in `lang`.
    async fn synonyms(&self, ctx: &Context<'_>, #[graphql(default)] lang: Lang) -> Vec<String> {
        reference(ctx)
            .synonyms_of(&self.0.code)
            .iter()
            .filter(|s| s.lang == lang.code())
            .map(|s| s.synonym.clone())
            .collect()
    }

    /// Null for a top-level domain.
    async fn parent(&self, ctx: &Context<'_>) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), self.0.parent_code.as_deref()?)
    }

    /// The needs under a top-level domain; empty for a need.
    async fn children(&self, ctx: &Context<'_>) -> Vec<LifeDomain> {
        reference(ctx).needs_of(&self.0.code).cloned().map(LifeDomain).collect()
    }
}

impl LifeDomain {
    pub fn by_code(reference: &ReferenceData, code: &str) -> Option<Self> {
        reference.domain(code).cloned().map(LifeDomain)
    }
}

/// A language by ISO 639-3 code.
pub struct Language(pub(crate) language::Model);

#[Object]
impl Language {
    pub async fn id(&self) -> ID {
        relay::global_id(NodeKind::Language, &self.0.code)
    }

    /// ISO 639-3 code, e.g. `prs` for Dari.
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// ISO 639-1 code where the language has one, e.g. `ar`.
    async fn iso6391(&self) -> Option<&str> {
        self.0.iso639_1.as_deref()
    }

    /// English reference name (SIL).
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }

    /// The language's name for itself (CLDR), where known.
    async fn name_native(&self) -> Option<&str> {
        self.0.name_native.as_deref()
    }

    /// Which way the language is written: the way its name for itself runs, or its
    /// macrolanguage's.
    async fn direction(&self, ctx: &Context<'_>) -> TextDirection {
        let reference = reference(ctx);
        reference
            .answer_language(&self.0.code)
            .map_or(TextDirection::Ltr, |lang| reference.direction(lang).into())
    }

    async fn is_macrolanguage(&self) -> bool {
        self.0.scope == entity::enums::LanguageScope::Macrolanguage
    }

    /// The macrolanguage this language belongs to: Persian (`fas`) for Dari (`prs`).
    async fn macrolanguage(&self, ctx: &Context<'_>) -> Option<Language> {
        Language::by_code(reference(ctx), self.0.macrolanguage_code.as_deref()?)
    }

    /// For a macrolanguage, its individual languages: Dari and Iranian Persian for Persian.
    async fn members(&self, ctx: &Context<'_>) -> Vec<Language> {
        reference(ctx)
            .languages()
            .filter(|l| l.macrolanguage_code.as_deref() == Some(&self.0.code))
            .cloned()
            .map(Language)
            .collect()
    }
}

impl Language {
    pub fn by_code(reference: &ReferenceData, code: &str) -> Option<Self> {
        reference.language(code).cloned().map(Language)
    }
}

#[derive(Default)]
pub struct ReferenceQuery;

const MAX_PLACES: i32 = 50;

#[Object]
impl ReferenceQuery {
    /// Belgian municipalities ordered by Dutch name; `search` matches nl and fr names
    /// (accent- and case-insensitive) and REFNIS code prefixes.
    #[graphql(complexity = "crate::relay::page_cost(first, child_complexity)")]
    async fn municipalities(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Page<Municipality>> {
        let page = PageRequest::new(first, after.as_deref())?;
        let found = reference(ctx).search_municipalities(search.as_deref());
        Ok(relay::page_of_slice(
            page,
            found.into_iter().cloned().map(Municipality).collect(),
        ))
    }

    /// A municipality by REFNIS code; null if there is none.
    async fn municipality(&self, ctx: &Context<'_>, code: String) -> Option<Municipality> {
        Municipality::by_code(reference(ctx), code.trim())
    }

    /// Autocomplete for "where does the family live": postal codes ("9300"), municipality
    /// names in Dutch or French ("alost", "Sint-Niklaas", "Bruxelles") and localities
    /// ("Laeken"), accent- and case-insensitive. At most `first` (≤ 50) answers, best first.
    async fn places(
        &self,
        ctx: &Context<'_>,
        query: String,
        #[graphql(default = 10)] first: i32,
    ) -> ApiResult<Vec<Place>> {
        if !(0..=MAX_PLACES).contains(&first) {
            return Err(ApiError::new(
                Reason::PageTooLarge,
                format!("`first` must be between 0 and {MAX_PLACES}, got {first}"),
            ));
        }
        Ok(reference(ctx)
            .places(&query, first as usize)
            .into_iter()
            .map(Place)
            .collect())
    }

    /// The life-domain taxonomy: the 14 top-level domains in display order, each with its
    /// needs as `children`.
    async fn domains(&self, ctx: &Context<'_>) -> Vec<LifeDomain> {
        reference(ctx).top_domains().cloned().map(LifeDomain).collect()
    }

    /// A domain or need by code; null if there is none.
    async fn domain(&self, ctx: &Context<'_>, code: String) -> Option<LifeDomain> {
        LifeDomain::by_code(reference(ctx), code.trim())
    }

    /// The labels of target groups, cost and access in `lang` (or its fallback), for filters
    /// and for showing a service's values.
    async fn labels(&self, #[graphql(default)] lang: Lang) -> ValueLabels {
        ValueLabels(lang)
    }

    /// Known languages ordered by ISO 639-3 code.
    async fn languages(&self, ctx: &Context<'_>) -> Vec<Language> {
        reference(ctx).languages().cloned().map(Language).collect()
    }

    /// A language by ISO 639-3 or 639-1 code or BCP-47 tag (`prs`, `ar`, `fa-AF`); null if unknown.
    async fn language(&self, ctx: &Context<'_>, code: String) -> Option<Language> {
        reference(ctx).normalize_language(&code).ok().cloned().map(Language)
    }
}

/// Labels of the map's fixed values in one language.
pub struct ValueLabels(Lang);

#[Object]
impl ValueLabels {
    async fn target_groups(&self, ctx: &Context<'_>) -> Vec<TargetGroupLabel> {
        entity::enums::TargetGroup::iter()
            .map(|v| TargetGroupLabel {
                target_group: v.into(),
                label: reference(ctx).value_label(Value::TargetGroup(v), self.0).into(),
            })
            .collect()
    }

    async fn costs(&self, ctx: &Context<'_>) -> Vec<CostLabel> {
        entity::enums::Cost::iter()
            .map(|v| CostLabel {
                cost: v.into(),
                label: reference(ctx).value_label(Value::Cost(v), self.0).into(),
            })
            .collect()
    }

    async fn access(&self, ctx: &Context<'_>) -> Vec<AccessLabel> {
        entity::enums::Access::iter()
            .map(|v| AccessLabel {
                access: v.into(),
                label: reference(ctx).value_label(Value::Access(v), self.0).into(),
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct TargetGroupLabel {
    pub target_group: TargetGroup,
    pub label: LocalizedText,
}

#[derive(SimpleObject)]
pub struct CostLabel {
    pub cost: Cost,
    pub label: LocalizedText,
}

#[derive(SimpleObject)]
pub struct AccessLabel {
    pub access: Access,
    pub label: LocalizedText,
}
