//! Services: create, update, status, area, languages, translations, capacity, verification.
//! A service and its parts (domains, target groups, languages, translations, area,
//! locations) are read, changed and written as one record, so every edit is checked and
//! audited the same way.

use chrono::{DateTime, Utc};
use entity::enums::{
    Access, AuditAction, AuditResource, ChangedResource, Cost, InterpreterKind, LanguageMode, ServiceAreaKind,
    ServiceStatus, TargetGroup,
};
use entity::{
    location, organization, search_key, service, service_area, service_domain, service_language, service_location,
    service_target_group, service_translation,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::Serialize;
use serde_json::{Value, json};

use super::validate::{self, MAX_TEXT_CHARS, invalid};
use super::{Edit, may_edit_service, new_id};
use crate::auth::Viewer;
use crate::listings::write::{Change, Draft, Fields, MapRecord, MapWriter, write_row};
use crate::listings::{Field, ListingsError};
use crate::reference::{Lang, ReferenceData};

/// The widest radius a service may serve around a location.
const MAX_RADIUS_KM: f64 = 100.0;

/// A language a service works in, and how.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LanguageOffer {
    /// As given: ISO 639-3, ISO 639-1 or a BCP-47 tag; stored as ISO 639-3.
    pub code: String,
    pub mode: LanguageMode,
    pub interpreter_kind: Option<InterpreterKind>,
}

/// A service's name and description in one more language. An empty description is shown
/// in Dutch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TranslationText {
    /// The shortest ISO 639 code of a language of the reference list (`fr`, `ar`, `prs`).
    pub lang: String,
    pub name: String,
    pub description: String,
}

/// One part of where a service accepts people from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AreaPart {
    National,
    Region(String),
    Province(String),
    Municipality(String),
    /// Around one of the service's own locations.
    Radius {
        location_id: String,
        km: f64,
    },
}

/// A new service of an organization.
#[derive(Clone, Debug)]
pub struct NewService {
    pub organization_id: String,
    pub name: String,
    pub description: String,
    pub cost: Cost,
    pub access: Access,
    pub access_description: Option<String>,
    pub age_min: Option<i32>,
    pub age_max: Option<i32>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub url: Option<String>,
    pub domains: Vec<String>,
    pub target_groups: Vec<TargetGroup>,
    pub languages: Vec<LanguageOffer>,
    pub location_ids: Vec<String>,
    /// Without one, the municipalities of its locations.
    pub area: Option<Vec<AreaPart>>,
}

/// What `updateService` may change; absent fields stay as they are, an empty string clears
/// an optional text.
#[derive(Clone, Debug, Default)]
pub struct ServiceChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub cost: Option<Cost>,
    pub access: Option<Access>,
    pub access_description: Option<String>,
    pub age_min: Option<i32>,
    pub age_max: Option<i32>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub url: Option<String>,
    pub domains: Option<Vec<String>>,
    pub target_groups: Option<Vec<TargetGroup>>,
    pub location_ids: Option<Vec<String>>,
}

/// A service with all its parts, as one unit of editing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ServiceRecord {
    pub(crate) service: service::Model,
    pub(crate) domains: Vec<String>,
    pub(crate) target_groups: Vec<TargetGroup>,
    pub(crate) languages: Vec<LanguageOffer>,
    pub(crate) translations: Vec<TranslationText>,
    pub(crate) area: Vec<AreaPart>,
    pub(crate) location_ids: Vec<String>,
}

pub async fn create_service(writer: &MapWriter<'_>, new: NewService) -> Result<service::Model, ListingsError> {
    Ok(writer.write(&new).await?.record.service)
}

impl Change<ServiceRecord> for NewService {
    async fn draft(
        &self,
        txn: &DatabaseTransaction,
        reference: &ReferenceData,
    ) -> Result<Draft<ServiceRecord>, ListingsError> {
        if organization::Entity::find_by_id(self.organization_id.as_str())
            .one(txn)
            .await?
            .is_none()
        {
            return Err(ListingsError::NotFound("organization", self.organization_id.clone()));
        }
        let area = match &self.area {
            Some(area) => area.clone(),
            None => municipalities_of(txn, &self.location_ids).await?,
        };
        let mut record = ServiceRecord::new(self.organization_id.clone(), None);
        let s = &mut record.service;
        s.name = self.name.clone();
        s.description = self.description.clone();
        (s.cost, s.access) = (self.cost, self.access);
        s.access_description = self.access_description.clone();
        (s.age_min, s.age_max) = (self.age_min, self.age_max);
        s.email = self.email.clone();
        s.phone = self.phone.clone();
        s.url = self.url.clone();
        record.domains = self.domains.clone();
        record.target_groups = self.target_groups.clone();
        record.languages = normalize_languages(reference, &self.languages)?;
        record.area = area;
        record.location_ids = self.location_ids.clone();
        Ok(Draft::over(None, record))
    }
}

pub async fn update_service(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    changes: ServiceChanges,
) -> Result<service::Model, ListingsError> {
    edit_service(writer, id, Some(version), AuditAction::Update, |record| {
        let s = &mut record.service;
        let changes = changes.clone();
        s.name = changes.name.unwrap_or(s.name.clone());
        s.description = changes.description.unwrap_or(s.description.clone());
        s.cost = changes.cost.unwrap_or(s.cost);
        s.access = changes.access.unwrap_or(s.access);
        s.age_min = changes.age_min.or(s.age_min);
        s.age_max = changes.age_max.or(s.age_max);
        for (column, change) in [
            (&mut s.access_description, changes.access_description),
            (&mut s.email, changes.email),
            (&mut s.phone, changes.phone),
            (&mut s.url, changes.url),
        ] {
            if let Some(text) = change {
                *column = Some(text);
            }
        }
        if let Some(domains) = changes.domains {
            record.domains = domains;
        }
        if let Some(groups) = changes.target_groups {
            record.target_groups = groups;
        }
        if let Some(location_ids) = changes.location_ids {
            record.location_ids = location_ids;
        }
        Ok(())
    })
    .await
}

pub async fn set_service_status(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    status: ServiceStatus,
) -> Result<service::Model, ListingsError> {
    edit_service(writer, id, Some(version), AuditAction::Update, |record| {
        record.service.status = status;
        Ok(())
    })
    .await
}

/// Replaces where the service accepts people from.
pub async fn set_service_area(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    area: Vec<AreaPart>,
) -> Result<service::Model, ListingsError> {
    edit_service(writer, id, Some(version), AuditAction::Update, |record| {
        record.area = area.clone();
        Ok(())
    })
    .await
}

/// Replaces the languages the service works in.
pub async fn set_service_languages(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    languages: Vec<LanguageOffer>,
) -> Result<service::Model, ListingsError> {
    let languages = normalize_languages(writer.reference(), &languages)?;
    edit_service(writer, id, Some(version), AuditAction::Update, |record| {
        record.languages = languages.clone();
        Ok(())
    })
    .await
}

/// Replaces the service's names and descriptions in other languages than Dutch.
pub async fn set_service_translations(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    translations: Vec<TranslationText>,
) -> Result<service::Model, ListingsError> {
    edit_service(writer, id, Some(version), AuditAction::Update, |record| {
        record.translations = translations.clone();
        Ok(())
    })
    .await
}

/// Says how many places are available now; `None` clears a figure.
pub async fn set_service_capacity(
    writer: &MapWriter<'_>,
    id: &str,
    version: i32,
    available: Option<i32>,
    maximum: Option<i32>,
) -> Result<service::Model, ListingsError> {
    edit_service(writer, id, Some(version), AuditAction::Update, |record| {
        let s = &mut record.service;
        // The same figures again change nothing: `capacity_updated_at` says when they last
        // changed (`verifyService` says the listing is still right).
        if (s.capacity_available, s.capacity_maximum) != (available, maximum) {
            (s.capacity_available, s.capacity_maximum) = (available, maximum);
            s.capacity_updated_at = Some(Utc::now());
        }
        Ok(())
    })
    .await
}

/// Confirms the listing is right: sets when and by whom, changes no content.
pub async fn verify_service(writer: &MapWriter<'_>, id: &str) -> Result<service::Model, ListingsError> {
    let by = writer.author().account()?.account.email.clone();
    edit_service(writer, id, None, AuditAction::Verify, |record| {
        record.service.last_verified_at = Some(Utc::now());
        record.service.verified_by = Some(by.clone());
        Ok(())
    })
    .await
}

/// An edit of the service and its parts, as one record.
async fn edit_service(
    writer: &MapWriter<'_>,
    id: &str,
    version: Option<i32>,
    action: AuditAction,
    apply: impl Fn(&mut ServiceRecord) -> Result<(), ListingsError> + Sync,
) -> Result<service::Model, ListingsError> {
    let edit = Edit {
        id,
        version,
        action,
        apply,
    };
    Ok(writer.write(&edit).await?.record.service)
}

impl ServiceRecord {
    /// A new service of the organization that says nothing yet: active, free, open to
    /// self-referral, with no parts; `external_id` is its id in the directory it came from.
    pub(crate) fn new(organization_id: String, external_id: Option<String>) -> Self {
        let now = Utc::now();
        ServiceRecord {
            service: service::Model {
                id: new_id(),
                organization_id,
                name: String::new(),
                description: String::new(),
                status: ServiceStatus::Active,
                cost: Cost::Free,
                access: Access::SelfReferral,
                access_description: None,
                age_min: None,
                age_max: None,
                email: None,
                phone: None,
                url: None,
                capacity_available: None,
                capacity_maximum: None,
                capacity_updated_at: None,
                last_verified_at: None,
                verified_by: None,
                name_search: String::new(),
                external_id,
                version: 1,
                created_at: now,
                updated_at: now,
            },
            domains: Vec::new(),
            target_groups: Vec::new(),
            languages: Vec::new(),
            translations: Vec::new(),
            area: Vec::new(),
            location_ids: Vec::new(),
        }
    }

    pub(crate) async fn load(db: &impl ConnectionTrait, service: service::Model) -> Result<Self, DbErr> {
        let id = service.id.clone();
        let domains = service_domain::Entity::find()
            .filter(service_domain::Column::ServiceId.eq(id.as_str()))
            .all(db)
            .await?
            .into_iter()
            .map(|d| d.domain_code)
            .collect();
        let target_groups = service_target_group::Entity::find()
            .filter(service_target_group::Column::ServiceId.eq(id.as_str()))
            .all(db)
            .await?
            .into_iter()
            .map(|g| g.target_group)
            .collect();
        let languages = service_language::Entity::find()
            .filter(service_language::Column::ServiceId.eq(id.as_str()))
            .all(db)
            .await?
            .into_iter()
            .map(|l| LanguageOffer {
                code: l.language_code,
                mode: l.mode,
                interpreter_kind: l.interpreter_kind,
            })
            .collect();
        let translations = service_translation::Entity::find()
            .filter(service_translation::Column::ServiceId.eq(id.as_str()))
            .all(db)
            .await?
            .into_iter()
            .map(|t| TranslationText {
                lang: t.lang,
                name: t.name,
                description: t.description,
            })
            .collect();
        let area = service_area::Entity::find()
            .filter(service_area::Column::ServiceId.eq(id.as_str()))
            .all(db)
            .await?
            .into_iter()
            .filter_map(AreaPart::from_row)
            .collect();
        let location_ids = service_location::Entity::find()
            .filter(service_location::Column::ServiceId.eq(id.as_str()))
            .order_by_asc(service_location::Column::LocationId)
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.location_id)
            .collect();
        let mut record = ServiceRecord {
            service,
            domains,
            target_groups,
            languages,
            translations,
            area,
            location_ids,
        };
        record.tidy();
        Ok(record)
    }

    fn validate(&self, reference: &ReferenceData) -> Result<(), ListingsError> {
        let s = &self.service;
        validate::name(Field::Name, &s.name)?;
        validate::required(Field::Description, &s.description)?;
        validate::text(Field::Description, &s.description, MAX_TEXT_CHARS)?;
        validate::optional_text(
            Field::AccessDescription,
            s.access_description.as_deref(),
            MAX_TEXT_CHARS,
        )?;
        validate::age_range(s.age_min, s.age_max)?;
        validate::email(Field::Email, s.email.as_deref())?;
        validate::phone(Field::Phone, s.phone.as_deref())?;
        validate::url(Field::Url, s.url.as_deref())?;
        for (field, places) in [
            (Field::CapacityAvailable, s.capacity_available),
            (Field::CapacityMaximum, s.capacity_maximum),
        ] {
            if let Some(n) = places.filter(|n| *n < 0) {
                return invalid(field, format!("must not be negative, got {n}"));
            }
        }
        if let (Some(available), Some(maximum)) = (s.capacity_available, s.capacity_maximum)
            && available > maximum
        {
            return invalid(
                Field::CapacityAvailable,
                format!("must not be above capacityMaximum ({maximum}), got {available}"),
            );
        }
        if self.domains.is_empty() {
            return invalid(
                Field::Domains,
                "must name at least one life domain or need, such as `housing.search`",
            );
        }
        if let Some(unknown) = self.domains.iter().find(|code| reference.domain(code).is_none()) {
            return invalid(
                Field::Domains,
                format!("has unknown life domain `{unknown}`: use a code from the `domains` query"),
            );
        }
        self.validate_languages()?;
        self.validate_translations()?;
        self.validate_area(reference)
    }

    fn validate_languages(&self) -> Result<(), ListingsError> {
        if let Some(twice) = self.languages.windows(2).find(|pair| pair[0].code == pair[1].code) {
            return invalid(
                Field::Languages,
                format!("names `{}` twice; give each language once", twice[0].code),
            );
        }
        if let Some(offer) = self
            .languages
            .iter()
            .find(|l| l.mode == LanguageMode::Staff && l.interpreter_kind.is_some())
        {
            return invalid(
                Field::Languages,
                format!("`{}`: interpreterKind goes with mode INTERPRETER only", offer.code),
            );
        }
        Ok(())
    }

    fn validate_translations(&self) -> Result<(), ListingsError> {
        for (i, t) in self.translations.iter().enumerate() {
            match Lang::from_code(&t.lang) {
                Some(Lang::Nl) => {
                    return invalid(
                        Field::Translations,
                        "has Dutch: the service's own name and description are Dutch; change them with updateService",
                    );
                }
                Some(_) => {}
                None => {
                    return invalid(
                        Field::Translations,
                        format!(
                            "has language `{}`: use a language of the reference list by its shortest ISO 639 code, such as `fr`, `ar`, `prs` or `uk`",
                            t.lang
                        ),
                    );
                }
            }
            if i > 0 && self.translations[i - 1].lang == t.lang {
                return invalid(Field::Translations, format!("has `{}` twice", t.lang));
            }
            if validate::is_blank(&t.name) {
                return invalid(
                    Field::Translations,
                    format!(
                        "`{}` has an empty name (spaces and invisible characters do not count)",
                        t.lang
                    ),
                );
            }
            if !t.description.is_empty() && validate::is_blank(&t.description) {
                return invalid(
                    Field::Translations,
                    format!(
                        "`{}` has a description of only spaces and invisible characters: leave it out to show the Dutch one",
                        t.lang
                    ),
                );
            }
            validate::text(Field::Translations, &t.name, validate::MAX_NAME_CHARS)?;
            validate::text(Field::Translations, &t.description, MAX_TEXT_CHARS)?;
        }
        Ok(())
    }

    fn validate_area(&self, reference: &ReferenceData) -> Result<(), ListingsError> {
        if self.area.is_empty() {
            return invalid(
                Field::Area,
                "must say where the service accepts people from: national, regions, provinces, municipalities or a radius around one of its locations",
            );
        }
        let mut centres: Vec<(&String, f64)> = Vec::new();
        for part in &self.area {
            if let AreaPart::Radius { location_id, km } = part {
                // Two circles around one place: which one holds is anyone's guess.
                if let Some((_, other)) = centres.iter().find(|(centre, _)| *centre == location_id) {
                    return invalid(
                        Field::Area,
                        format!(
                            "has two radius areas around location `{location_id}` ({other} km and {km} km): give one radius per location"
                        ),
                    );
                }
                centres.push((location_id, *km));
            }
            let known = match part {
                AreaPart::National => true,
                AreaPart::Region(code) => reference.region(code).is_some(),
                AreaPart::Province(code) => reference.province(code).is_some(),
                AreaPart::Municipality(code) => reference.municipality(code).is_some(),
                AreaPart::Radius { location_id, km } => {
                    if !self.location_ids.contains(location_id) {
                        return invalid(
                            Field::Area,
                            format!(
                                "radius around location `{location_id}`, which is not one of the service's locations"
                            ),
                        );
                    }
                    if !(*km > 0.0 && *km <= MAX_RADIUS_KM) {
                        return invalid(
                            Field::Area,
                            format!("radius must be above 0 and at most {MAX_RADIUS_KM} km, got {km}"),
                        );
                    }
                    true
                }
            };
            if !known {
                let (kind, code) = match part {
                    AreaPart::Region(code) => ("region", code),
                    AreaPart::Province(code) => ("province", code),
                    AreaPart::Municipality(code) => ("municipality", code),
                    _ => unreachable!("national and radius parts are always known"),
                };
                return invalid(
                    Field::Area,
                    format!("has unknown {kind} code `{code}`: use a REFNIS code from the reference data"),
                );
            }
        }
        Ok(())
    }

    /// Rewrites each part that differs from `before` (all parts of a new service).
    async fn write_parts(&self, db: &impl ConnectionTrait, before: Option<&ServiceRecord>) -> Result<(), DbErr> {
        let id = self.service.id.as_str();
        let changed = |same: fn(&ServiceRecord, &ServiceRecord) -> bool| before.is_none_or(|b| !same(b, self));
        if changed(|a, b| a.domains == b.domains) {
            replace_rows(
                db,
                service_domain::Column::ServiceId,
                id,
                self.domains.iter().map(|code| service_domain::Model {
                    service_id: id.to_owned(),
                    domain_code: code.clone(),
                }),
            )
            .await?;
        }
        if changed(|a, b| a.target_groups == b.target_groups) {
            replace_rows(
                db,
                service_target_group::Column::ServiceId,
                id,
                self.target_groups.iter().map(|group| service_target_group::Model {
                    service_id: id.to_owned(),
                    target_group: *group,
                }),
            )
            .await?;
        }
        if changed(|a, b| a.languages == b.languages) {
            replace_rows(
                db,
                service_language::Column::ServiceId,
                id,
                self.languages.iter().map(|l| service_language::Model {
                    service_id: id.to_owned(),
                    language_code: l.code.clone(),
                    mode: l.mode,
                    interpreter_kind: l.interpreter_kind,
                }),
            )
            .await?;
        }
        if changed(|a, b| a.translations == b.translations) {
            replace_rows(
                db,
                service_translation::Column::ServiceId,
                id,
                self.translations.iter().map(|t| service_translation::Model {
                    service_id: id.to_owned(),
                    lang: t.lang.clone(),
                    name: t.name.clone(),
                    description: t.description.clone(),
                }),
            )
            .await?;
        }
        // Locations before the area: a radius area points at one of them.
        if changed(|a, b| a.location_ids == b.location_ids && a.area == b.area) {
            service_area::Entity::delete_many()
                .filter(service_area::Column::ServiceId.eq(id))
                .exec(db)
                .await?;
            replace_rows(
                db,
                service_location::Column::ServiceId,
                id,
                self.location_ids.iter().map(|location_id| service_location::Model {
                    service_id: id.to_owned(),
                    location_id: location_id.clone(),
                }),
            )
            .await?;
            insert_rows(db, self.area.iter().map(|part| part.to_row(id))).await?;
        }
        Ok(())
    }
}

impl MapRecord for ServiceRecord {
    const RESOURCE: AuditResource = AuditResource::Service;
    const CHANGED: ChangedResource = ChangedResource::Service;

    async fn find(txn: &DatabaseTransaction, id: &str) -> Result<Option<Self>, DbErr> {
        match service::Entity::find_by_id(id).one(txn).await? {
            Some(service) => Ok(Some(ServiceRecord::load(txn, service).await?)),
            None => Ok(None),
        }
    }

    fn id(&self) -> &str {
        &self.service.id
    }

    fn organization_id(&self) -> &str {
        &self.service.organization_id
    }

    fn stamp(&self) -> (i32, DateTime<Utc>) {
        (self.service.version, self.service.updated_at)
    }

    fn set_stamp(&mut self, version: i32, updated_at: DateTime<Utc>) {
        (self.service.version, self.service.updated_at) = (version, updated_at);
    }

    /// One spelling of everything: trimmed texts, empty optional texts as none, parts in a
    /// stable order without repeats, so comparing two records compares what they say.
    fn tidy(&mut self) {
        let s = &mut self.service;
        s.name = validate::tidy_name(&s.name);
        s.name_search = search_key::normalize(&s.name);
        s.description = s.description.trim().to_owned();
        for text in [&mut s.access_description, &mut s.email, &mut s.phone, &mut s.url] {
            *text = text.take().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        }
        for code in &mut self.domains {
            *code = code.trim().to_owned();
        }
        self.domains.sort();
        self.domains.dedup();
        self.target_groups.sort_by_key(|g| format!("{g:?}"));
        self.target_groups.dedup();
        self.languages.sort_by(|a, b| a.code.cmp(&b.code));
        for t in &mut self.translations {
            t.lang = t.lang.trim().to_lowercase();
            t.name = validate::tidy_name(&t.name);
            t.description = t.description.trim().to_owned();
        }
        self.translations.sort_by(|a, b| a.lang.cmp(&b.lang));
        self.area
            .sort_by_key(|part| serde_json::to_string(part).unwrap_or_default());
        self.area.dedup();
        self.location_ids.sort();
        self.location_ids.dedup();
    }

    async fn check(&self, txn: &DatabaseTransaction, reference: &ReferenceData) -> Result<(), ListingsError> {
        self.validate(reference)?;
        check_locations(txn, self).await
    }

    async fn editable_by(
        &self,
        txn: &DatabaseTransaction,
        reference: &ReferenceData,
        viewer: &Viewer,
    ) -> Result<bool, ListingsError> {
        may_edit_service(txn, reference, viewer, &self.service).await
    }

    /// The service's row, then each of its parts that differs from `before`.
    async fn write(&self, txn: &DatabaseTransaction, before: Option<&Self>) -> Result<(), ListingsError> {
        write_row(
            txn,
            self.service.clone().into_active_model(),
            (service::Column::Id, &self.service.id),
            (service::Column::Version, before.map(|b| b.service.version)),
        )
        .await?;
        Ok(self.write_parts(txn, before).await?)
    }

    /// The audited fields: the service's columns and its parts as JSON.
    fn fields(&self) -> Fields {
        let s = &self.service;
        let mut fields = Fields::new();
        let mut put = |name: &str, value: Value| {
            fields.insert(name.to_owned(), value);
        };
        put("name", s.name.clone().into());
        put("description", s.description.clone().into());
        put("status", json!(s.status));
        put("cost", json!(s.cost));
        put("access", json!(s.access));
        put("access_description", s.access_description.clone().into());
        put("age_min", s.age_min.into());
        put("age_max", s.age_max.into());
        put("email", s.email.clone().into());
        put("phone", s.phone.clone().into());
        put("url", s.url.clone().into());
        put("capacity_available", s.capacity_available.into());
        put("capacity_maximum", s.capacity_maximum.into());
        put("last_verified_at", s.last_verified_at.map(|at| at.to_rfc3339()).into());
        put("verified_by", s.verified_by.clone().into());
        put("organization_id", s.organization_id.clone().into());
        put("domains", json!(self.domains));
        put("target_groups", json!(self.target_groups));
        put("languages", json!(self.languages));
        put("translations", json!(self.translations));
        put("area", json!(self.area));
        put("location_ids", json!(self.location_ids));
        fields
    }
}

impl AreaPart {
    fn from_row(row: service_area::Model) -> Option<AreaPart> {
        Some(match row.kind {
            ServiceAreaKind::National => AreaPart::National,
            ServiceAreaKind::Region => AreaPart::Region(row.region_code?),
            ServiceAreaKind::Province => AreaPart::Province(row.province_code?),
            ServiceAreaKind::Municipality => AreaPart::Municipality(row.municipality_code?),
            ServiceAreaKind::Radius => AreaPart::Radius {
                location_id: row.location_id?,
                km: row.radius_km?,
            },
        })
    }

    fn to_row(&self, service_id: &str) -> service_area::Model {
        let mut row = service_area::Model {
            id: new_id(),
            service_id: service_id.to_owned(),
            kind: ServiceAreaKind::National,
            region_code: None,
            province_code: None,
            municipality_code: None,
            location_id: None,
            radius_km: None,
        };
        match self {
            AreaPart::National => {}
            AreaPart::Region(code) => (row.kind, row.region_code) = (ServiceAreaKind::Region, Some(code.clone())),
            AreaPart::Province(code) => (row.kind, row.province_code) = (ServiceAreaKind::Province, Some(code.clone())),
            AreaPart::Municipality(code) => {
                (row.kind, row.municipality_code) = (ServiceAreaKind::Municipality, Some(code.clone()))
            }
            AreaPart::Radius { location_id, km } => {
                (row.kind, row.location_id, row.radius_km) =
                    (ServiceAreaKind::Radius, Some(location_id.clone()), Some(*km))
            }
        }
        row
    }
}

/// Replaces a service's rows of one part (the rows whose `service_column` is `service_id`).
async fn replace_rows<M, A>(
    db: &impl ConnectionTrait,
    service_column: <A::Entity as EntityTrait>::Column,
    service_id: &str,
    rows: impl Iterator<Item = M>,
) -> Result<(), DbErr>
where
    M: IntoActiveModel<A>,
    A: sea_orm::ActiveModelTrait,
{
    <A::Entity as EntityTrait>::delete_many()
        .filter(service_column.eq(service_id))
        .exec(db)
        .await?;
    insert_rows(db, rows).await
}

async fn insert_rows<M, A>(db: &impl ConnectionTrait, rows: impl Iterator<Item = M>) -> Result<(), DbErr>
where
    M: IntoActiveModel<A>,
    A: sea_orm::ActiveModelTrait,
{
    let rows: Vec<A> = rows.map(|row| row.into_active_model().reset_all()).collect();
    if rows.is_empty() {
        return Ok(());
    }
    <A::Entity as EntityTrait>::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Languages as ISO 639-3 codes; an unknown code names the field.
pub(crate) fn normalize_languages(
    reference: &ReferenceData,
    offers: &[LanguageOffer],
) -> Result<Vec<LanguageOffer>, ListingsError> {
    offers
        .iter()
        .map(|offer| {
            let language = reference
                .normalize_language(&offer.code)
                .map_err(|e| ListingsError::Invalid(Field::Languages, format!("has {e}")))?;
            Ok(LanguageOffer {
                code: language.code.clone(),
                ..offer.clone()
            })
        })
        .collect()
}

/// The service's locations must exist and belong to its organization.
async fn check_locations(db: &impl ConnectionTrait, record: &ServiceRecord) -> Result<(), ListingsError> {
    if record.location_ids.is_empty() {
        return Ok(());
    }
    let found = location::Entity::find()
        .filter(location::Column::Id.is_in(record.location_ids.clone()))
        .all(db)
        .await?;
    for id in &record.location_ids {
        match found.iter().find(|l| &l.id == id) {
            None => return invalid(Field::LocationIds, format!("has `{id}`, which is no location")),
            Some(l) if l.organization_id != record.service.organization_id => {
                return invalid(
                    Field::LocationIds,
                    format!("has `{id}`, a location of another organization"),
                );
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The default area of a new service: the municipalities of its locations.
pub(crate) async fn municipalities_of(
    db: &impl ConnectionTrait,
    location_ids: &[String],
) -> Result<Vec<AreaPart>, DbErr> {
    Ok(location::Entity::find()
        .filter(location::Column::Id.is_in(location_ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| AreaPart::Municipality(l.municipality_code))
        .collect())
}
