//! Writing one HSDS record: found by the id it has in the directory it came from, and written
//! through the map's one write path (`listings::write`), checked as an edit is, with its audit
//! entries and change-log row in a transaction of its own — or, when anything is wrong with
//! it, not at all.
//!
//! A document's own fields say what the record is: one it leaves out is none. Its nested
//! lists (`phones`, `attributes`, `languages`, `service_areas`, `service_at_locations`,
//! `addresses`, …) replace what the map holds when they are there, and leave it when they
//! are not, because HSDS list responses leave them out.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use entity::enums::{Access, Cost, InterpreterKind, LanguageMode, OrganizationKind, ServiceStatus};
use entity::{location, organization, search_key, service};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, Iterable, QueryFilter};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::document::{self, Attribute, CostOption, Language, Phone, ServiceArea, ServiceAtLocation};
use super::read::Item;
use super::{ImportReport, RecordKind, Rejection, TaxonomyMap, Warning};
use crate::hsds::HsdsError;
use crate::listings::editing::new_id;
use crate::listings::editing::service::{ServiceRecord, municipalities_of, normalize_languages};
use crate::listings::editing::validate::invalid;
use crate::listings::write::{Change, Draft, MapRecord, MapWriter, Outcome as WriteOutcome, Written};
use crate::listings::{AreaPart, Field, LanguageOffer, ListingsError, TranslationText};
use crate::reference::ReferenceData;

/// `identifier_scheme` of a Belgian enterprise (KBO/BCE) number, after org-id.guide.
const KBO_SCHEME: &str = "BE-BCE_KBO";

/// One import: what it has read so far and what it reports.
pub(super) struct Run<'a> {
    writer: &'a MapWriter<'a>,
    reference: &'a ReferenceData,
    taxonomy_map: &'a TaxonomyMap,
    /// The codes of the taxonomy terms read, by id, for attributes that name a term by id.
    terms: HashMap<String, Option<String>>,
    /// Why records of this run were rejected, for the records that refer to them.
    refused: HashMap<(RecordKind, String), String>,
    pub report: ImportReport,
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
    /// A taxonomy or taxonomy term, read for the attributes that use it.
    Read,
}

/// A record written, or found as it is, and what its editors should know about it.
struct Imported {
    outcome: Outcome,
    warnings: Vec<String>,
}

impl From<Outcome> for Imported {
    fn from(outcome: Outcome) -> Self {
        Imported {
            outcome,
            warnings: Vec::new(),
        }
    }
}

impl<R> From<Written<R>> for Imported {
    fn from(written: Written<R>) -> Self {
        Imported {
            outcome: match written.outcome {
                WriteOutcome::Created => Outcome::Created,
                WriteOutcome::Updated => Outcome::Updated,
                WriteOutcome::Unchanged => Outcome::Unchanged,
            },
            warnings: written.warnings,
        }
    }
}

/// One HSDS record of a run, as a change to the map.
struct Document<'r, D> {
    run: &'r Run<'r>,
    item: &'r Item,
    doc: &'r D,
}

impl<'a> Run<'a> {
    pub fn new(writer: &'a MapWriter<'a>, taxonomy_map: &'a TaxonomyMap) -> Self {
        Run {
            writer,
            reference: writer.reference(),
            taxonomy_map,
            terms: HashMap::new(),
            refused: HashMap::new(),
            report: ImportReport::default(),
        }
    }

    /// Imports one record and reports what became of it. Only a failing database stops the
    /// import.
    pub async fn import(&mut self, item: &Item) -> Result<(), HsdsError> {
        let result = match item.kind {
            // Documents are read, never queued.
            RecordKind::Document => return Ok(()),
            RecordKind::Taxonomy => parse::<document::Taxonomy>(item)
                .and_then(|taxonomy| required_id(&taxonomy.id).map(|_| Outcome::Read.into()).map_err(reason)),
            RecordKind::TaxonomyTerm => parse::<document::TaxonomyTerm>(item).and_then(|term| {
                let id = required_id(&term.id).map_err(reason)?;
                self.terms.insert(id.to_owned(), term.code.clone());
                Ok(Outcome::Read.into())
            }),
            RecordKind::Organization => self.write::<document::Organization, organization::Model>(item).await?,
            RecordKind::Location => self.write::<document::Location, location::Model>(item).await?,
            RecordKind::Service => self.write::<document::Service, ServiceRecord>(item).await?,
            RecordKind::ServiceAtLocation => {
                self.write::<ServiceAtLocation, ServiceRecord>(item)
                    .await?
                    .map(|mut imported| {
                        // A link written to its service is a link created.
                        if let Outcome::Updated = imported.outcome {
                            imported.outcome = Outcome::Created;
                        }
                        imported
                    })
            }
        };
        let id = item.id();
        match result {
            Ok(imported) => {
                let count = match imported.outcome {
                    Outcome::Created => &mut self.report.created,
                    Outcome::Updated => &mut self.report.updated,
                    Outcome::Unchanged => &mut self.report.unchanged,
                    Outcome::Read => &mut self.report.taxonomies,
                };
                *count += 1;
                if let Some(id) = &id {
                    self.refused.remove(&(item.kind, id.clone()));
                }
                for message in imported.warnings {
                    // A record that comes several times (nested in each file of the examples)
                    // is warned about once.
                    let said = |w: &Warning| w.kind == item.kind && w.id == id && w.message == message;
                    if !self.report.warnings.iter().any(said) {
                        self.report.warnings.push(Warning {
                            source: item.source.clone(),
                            kind: item.kind,
                            id: id.clone(),
                            message,
                        });
                    }
                }
            }
            Err(reason) => {
                // The first reason is the one that tells: a later copy of the record may be a
                // summary that lacks what the first one got wrong.
                if let Some(id) = &id {
                    self.refused
                        .entry((item.kind, id.clone()))
                        .or_insert_with(|| reason.clone());
                }
                self.report.rejected.push(Rejection {
                    source: item.source.clone(),
                    kind: item.kind,
                    id,
                    reason,
                });
            }
        }
        Ok(())
    }

    /// Reads `item` as a `D` and writes it through the map's write path: what became of it, or
    /// why it was rejected. Only a failing database stops the import.
    async fn write<D, R>(&self, item: &Item) -> Result<Result<Imported, String>, DbErr>
    where
        D: DeserializeOwned + Sync,
        R: MapRecord,
        for<'r> Document<'r, D>: Change<R>,
    {
        let doc: D = match parse(item) {
            Ok(doc) => doc,
            Err(why) => return Ok(Err(why)),
        };
        let change = Document {
            run: self,
            item,
            doc: &doc,
        };
        settle(self.writer.write(&change).await.map(Imported::from))
    }

    async fn organization(
        &self,
        txn: &DatabaseTransaction,
        doc: &document::Organization,
    ) -> Result<Draft<organization::Model>, ListingsError> {
        let hsds_id = required_id(&doc.id)?;
        let existing = find_organization(txn, hsds_id).await?;
        let now = Utc::now();
        let mut record = existing.clone().unwrap_or_else(|| organization::Model {
            id: new_id(),
            name: String::new(),
            kind: OrganizationKind::Ngo,
            description: None,
            website: None,
            email: None,
            phone: None,
            kbo_number: None,
            name_search: String::new(),
            external_id: Some(hsds_id.to_owned()),
            version: 1,
            created_at: now,
            updated_at: now,
        });
        record.name = doc.name.clone().unwrap_or_default();
        record.description = doc.description.clone();
        record.email = doc.email.clone();
        record.website = doc.website.clone();
        if let Some(phones) = &doc.phones {
            record.phone = first_phone(phones);
        }
        if let Some(identifiers) = &doc.organization_identifiers {
            record.kbo_number = identifiers
                .iter()
                .find(|i| i.identifier_scheme.as_deref().map(str::trim) == Some(KBO_SCHEME))
                .and_then(|i| i.identifier.clone());
        }
        if let Some(attributes) = &doc.attributes {
            // Without one, an NGO, as `createOrganization` assumes of no kind either.
            record.kind = match attribute(attributes, "organization_kind") {
                Some(kind) => enum_value(Field::Kind, "organization_kind", Some(kind))?,
                None => OrganizationKind::Ngo,
            };
        }
        Ok(Draft::over(existing, record))
    }

    async fn location(
        &self,
        txn: &DatabaseTransaction,
        item: &Item,
        doc: &document::Location,
    ) -> Result<Draft<location::Model>, ListingsError> {
        let hsds_id = required_id(&doc.id)?;
        if doc.location_type.as_deref().map(str::trim) == Some("virtual") {
            return invalid(
                Field::LocationType,
                "is `virtual`: the map holds places where people are received; give an online service its `url` instead",
            );
        }
        if let Some(country) = doc
            .addresses
            .iter()
            .flatten()
            .next()
            .and_then(|a| a.country.as_deref())
            .map(str::trim)
            .filter(|country| !is_belgium(country))
        {
            return invalid(
                Field::Country,
                format!("is `{country}`, not Belgium (`BE`): the map places every location in a Belgian municipality"),
            );
        }
        let organization_id = doc
            .organization_id
            .as_deref()
            .or(item.organization.as_deref())
            .ok_or_else(|| {
                ListingsError::Invalid(
                    Field::OrganizationId,
                    "is missing: say whose location this is, or nest it in its organization or service".to_owned(),
                )
            })?;
        let organization = find_organization(txn, organization_id)
            .await?
            .ok_or_else(|| self.not_on_map(Field::OrganizationId, RecordKind::Organization, organization_id))?;
        let existing = find_location(txn, hsds_id).await?;
        let now = Utc::now();
        let mut record = existing.clone().unwrap_or_else(|| location::Model {
            id: new_id(),
            organization_id: String::new(),
            name: String::new(),
            address: String::new(),
            postal_code: String::new(),
            municipality_code: String::new(),
            latitude: None,
            longitude: None,
            accessibility: None,
            opening_hours: None,
            confidential: false,
            external_id: Some(hsds_id.to_owned()),
            version: 1,
            created_at: now,
            updated_at: now,
        });
        if existing.as_ref().is_some_and(|e| e.organization_id != organization.id) {
            return Err(moved("location", organization_id));
        }
        record.organization_id = organization.id;
        record.name = doc.name.clone().unwrap_or_default();
        (record.latitude, record.longitude) = (doc.latitude, doc.longitude);

        // A confidential location has no address in an export: its postal code and
        // municipality come as attributes.
        let (mut postal_code, mut municipality, mut city) = (None, None, None);
        if let Some(attributes) = &doc.attributes {
            record.confidential = attribute(attributes, "confidential").is_some_and(|c| c.eq_ignore_ascii_case("true"));
            postal_code = attribute(attributes, "postal_code");
            municipality = attribute(attributes, "municipality");
        }
        if let Some(addresses) = &doc.addresses {
            let address = addresses.first();
            record.address = address.and_then(|a| a.address_1.clone()).unwrap_or_default();
            postal_code = address.and_then(|a| a.postal_code.clone()).or(postal_code);
            city = address.and_then(|a| a.city.clone());
        }
        if let Some(existing) = &existing {
            // Nothing said about the place: it stays where it is.
            postal_code = postal_code.or_else(|| Some(existing.postal_code.clone()));
            if municipality.is_none() && city.is_none() && postal_code.as_deref() == Some(&existing.postal_code) {
                municipality = Some(existing.municipality_code.clone());
            }
        }
        let postal_code = postal_code.map(|p| p.trim().to_owned()).ok_or_else(|| {
            let (field, what) = match doc.addresses {
                Some(_) => (Field::PostalCode, "is missing"),
                // As in a list response, which leaves addresses out.
                None => (Field::Addresses, "are missing"),
            };
            ListingsError::Invalid(
                field,
                format!("{what}: the map places every location in a Belgian municipality by its postal code"),
            )
        })?;
        record.municipality_code = self.place(&postal_code, municipality.as_deref(), city.as_deref())?;
        record.postal_code = postal_code;
        if let Some(accessibility) = &doc.accessibility {
            record.accessibility = accessibility.first().and_then(|a| a.description.clone());
        }
        if let Some(schedules) = &doc.schedules {
            record.opening_hours = schedules.first().and_then(|s| s.description.clone());
        }
        Ok(Draft::over(existing, record))
    }

    async fn service(
        &self,
        txn: &DatabaseTransaction,
        item: &Item,
        doc: &document::Service,
    ) -> Result<Draft<ServiceRecord>, ListingsError> {
        let hsds_id = required_id(&doc.id)?;
        let organization_id = doc
            .organization
            .as_ref()
            .and_then(|o| o.id.as_deref())
            .or(doc.organization_id.as_deref())
            .or(item.organization.as_deref())
            .ok_or_else(|| {
                ListingsError::Invalid(
                    Field::OrganizationId,
                    "is missing: give the service's `organization_id` or its nested `organization`".to_owned(),
                )
            })?;
        let organization = find_organization(txn, organization_id)
            .await?
            .ok_or_else(|| self.not_on_map(Field::OrganizationId, RecordKind::Organization, organization_id))?;
        let before = match find_service(txn, hsds_id).await? {
            Some(found) => Some(ServiceRecord::load(txn, found).await?),
            None => None,
        };
        if before
            .as_ref()
            .is_some_and(|b| b.service.organization_id != organization.id)
        {
            return Err(moved("service", organization_id));
        }
        let mut record = before
            .clone()
            .unwrap_or_else(|| ServiceRecord::new(organization.id.clone(), Some(hsds_id.to_owned())));
        let mut warnings = Vec::new();

        let s = &mut record.service;
        s.organization_id = organization.id;
        s.name = doc.name.clone().unwrap_or_default();
        s.description = doc.description.clone().unwrap_or_default();
        s.status = status(doc.status.as_deref())?;
        s.url = doc.url.clone();
        s.email = doc.email.clone();
        s.access_description = doc.application_process.clone();
        s.age_min = whole_years(Field::AgeMin, doc.minimum_age)?;
        s.age_max = whole_years(Field::AgeMax, doc.maximum_age)?;
        let verified = date(Field::LastVerifiedAt, doc.assured_date.as_deref())?;
        if verified != s.last_verified_at {
            // Who verified it is not exchanged: a date from elsewhere has no verifier here.
            (s.last_verified_at, s.verified_by) = (verified, None);
        }
        // The document says when the service last changed; without that, the map does.
        if let Some(modified) = timestamp(Field::UpdatedAt, doc.last_modified.as_deref())? {
            s.updated_at = modified;
        }
        if let Some(phones) = &doc.phones {
            s.phone = first_phone(phones);
        }
        if let Some(languages) = &doc.languages {
            record.languages = self.languages(languages)?;
        }
        let mut unmapped_terms = Vec::new();
        if let Some(attributes) = &doc.attributes {
            unmapped_terms = self.service_attributes(&mut record, attributes, doc.cost_options.as_deref())?;
        }
        if let Some(links) = &doc.service_at_locations {
            record.location_ids = self.locations_of(txn, links, &mut warnings).await?;
        }
        if let Some(areas) = &doc.service_areas {
            record.area = self.area(txn, areas, &mut warnings).await?;
        }
        if record.area.is_empty() {
            // As `createService` without an area: where its locations are.
            record.area = municipalities_of(txn, &record.location_ids).await?;
        }
        if record.area.is_empty() {
            record.area = vec![AreaPart::National];
            warnings.push(
                "has no service area the map can read and no location on the map, so it is listed as serving all of Belgium: set its area with `setServiceArea`"
                    .to_owned(),
            );
        }
        if record.domains.is_empty() {
            return Err(no_life_domain(&unmapped_terms));
        }
        for term in &unmapped_terms {
            warnings.push(format!(
                "has taxonomy term {term}, which stands for no life domain of the map and is left out; a taxonomy map can say which it is"
            ));
        }
        Ok(Draft {
            warnings,
            ..Draft::over(before, record)
        })
    }

    /// A service offered at a location: the link is added to the service, or found as it is.
    async fn service_at_location(
        &self,
        txn: &DatabaseTransaction,
        doc: &ServiceAtLocation,
    ) -> Result<Draft<ServiceRecord>, ListingsError> {
        let missing = |field: Field, what: &str| ListingsError::Invalid(field, format!("is missing: say which {what}"));
        let service_id = doc
            .service_id()
            .ok_or_else(|| missing(Field::ServiceId, "service is offered"))?;
        let location_id = doc
            .location_id()
            .ok_or_else(|| missing(Field::LocationId, "location offers it"))?;
        let service = find_service(txn, service_id)
            .await?
            .ok_or_else(|| self.not_on_map(Field::ServiceId, RecordKind::Service, service_id))?;
        let location = find_location(txn, location_id)
            .await?
            .ok_or_else(|| self.not_on_map(Field::LocationId, RecordKind::Location, location_id))?;
        let before = ServiceRecord::load(txn, service).await?;
        let mut record = before.clone();
        record.location_ids.push(location.id);
        Ok(Draft::over(Some(before), record))
    }

    /// The municipality of a location: its `municipality` attribute, which must include the
    /// postal code; else the postal code's only municipality; else the one `city` names.
    fn place(
        &self,
        postal_code: &str,
        municipality: Option<&str>,
        city: Option<&str>,
    ) -> Result<String, ListingsError> {
        let reference = self.reference;
        if reference.postal_code(postal_code).is_none() {
            return invalid(
                Field::PostalCode,
                format!(
                    "`{postal_code}` is not a Belgian postal code: the map places every location in a Belgian municipality by its postal code"
                ),
            );
        }
        let candidates = reference.municipalities_of_postal_code(postal_code);
        let named = |code: &str| {
            reference
                .municipality(code)
                .map_or_else(|| code.to_owned(), |m| format!("{} ({code})", m.name_nl))
        };
        let all_named = || candidates.iter().map(|c| named(c)).collect::<Vec<_>>().join(", ");
        if let Some(code) = municipality.map(str::trim) {
            if reference.municipality(code).is_none() {
                return invalid(
                    Field::MunicipalityCode,
                    format!("`municipality` is `{code}`, which is no REFNIS municipality code such as 41002 (Aalst)"),
                );
            }
            if !candidates.iter().any(|c| c == code) {
                return invalid(
                    Field::MunicipalityCode,
                    format!(
                        "`municipality` is {}, which does not include postal code {postal_code} ({})",
                        named(code),
                        all_named()
                    ),
                );
            }
            return Ok(code.to_owned());
        }
        if let [only] = candidates {
            return Ok(only.clone());
        }
        let city = city.map(search_key::normalize).unwrap_or_default();
        let named_by_city: Vec<&String> = candidates
            .iter()
            .filter(|code| {
                reference.municipality(code).is_some_and(|m| {
                    search_key::normalize(&m.name_nl) == city || search_key::normalize(&m.name_fr) == city
                })
            })
            .collect();
        match named_by_city[..] {
            [only] => Ok(only.clone()),
            _ => invalid(
                Field::City,
                format!(
                    "does not say which municipality of postal code {postal_code} it is: {}; give one of their names as `city`, or a `municipality` attribute with its REFNIS code",
                    all_named()
                ),
            ),
        }
    }

    /// Languages as the export writes them: ISO codes, with `note` saying how they are
    /// offered (`staff`, `interpreter`, `interpreter: social`). Any other note is read as
    /// staff speaking it: HSDS lists the languages a service is delivered in.
    fn languages(&self, languages: &[Language]) -> Result<Vec<LanguageOffer>, ListingsError> {
        let offers = languages
            .iter()
            .map(|language| {
                let code = language
                    .code
                    .as_deref()
                    .map(str::trim)
                    .filter(|code| !code.is_empty())
                    .ok_or_else(|| {
                        ListingsError::Invalid(
                            Field::Languages,
                            "has a language without a `code` (ISO 639-1 or 639-3)".to_owned(),
                        )
                    })?;
                let note = language.note.as_deref().unwrap_or_default().trim().to_lowercase();
                let (mode, interpreter_kind) = if note.starts_with("interpret") {
                    let kind = match note.split_once(':').map(|(_, kind)| kind.trim()) {
                        Some("professional") => Some(InterpreterKind::Professional),
                        Some("social") => Some(InterpreterKind::Social),
                        Some("volunteer") => Some(InterpreterKind::Volunteer),
                        _ => None,
                    };
                    (LanguageMode::Interpreter, kind)
                } else {
                    (LanguageMode::Staff, None)
                };
                Ok(LanguageOffer {
                    code: code.to_owned(),
                    mode,
                    interpreter_kind,
                })
            })
            .collect::<Result<Vec<_>, ListingsError>>()?;
        let mut offers = normalize_languages(self.reference, &offers)?;
        // A language listed twice (`nl` and `nld`, or by staff and by interpreter) is offered
        // once, by staff when staff speak it.
        offers.sort_by_key(|offer| (offer.code.clone(), offer.mode != LanguageMode::Staff));
        offers.dedup_by(|later, first| later.code == first.code);
        Ok(offers)
    }

    /// Domains, target groups, cost, access and translations from a service's attributes.
    /// Returns the taxonomy terms that stand for no life domain, to name them when none does.
    fn service_attributes(
        &self,
        record: &mut ServiceRecord,
        attributes: &[Attribute],
        cost_options: Option<&[CostOption]>,
    ) -> Result<Vec<String>, ListingsError> {
        let (mut cost, mut access, mut unmapped) = (None, None, Vec::new());
        record.domains.clear();
        record.target_groups.clear();
        record.translations.clear();
        for attribute in attributes {
            match attribute.link_type.as_deref().map(str::trim) {
                Some("target_group") => {
                    record
                        .target_groups
                        .push(enum_value(Field::TargetGroups, "target_group", attribute.value())?)
                }
                Some("cost") => cost = Some(enum_value(Field::Cost, "cost", attribute.value())?),
                Some("access") => access = Some(enum_value(Field::Access, "access", attribute.value())?),
                Some("translation") => record
                    .translations
                    .push(translation(self.reference, attribute.value())?),
                // What the export says of organizations and locations says nothing of a service.
                Some("organization_kind" | "municipality" | "confidential" | "postal_code") => {}
                _ => match self.domain_of(attribute) {
                    Some(Ok(domain)) => record.domains.push(domain),
                    Some(Err(term)) => unmapped.push(term),
                    None => {}
                },
            }
        }
        // Without a `cost` attribute, a price among the cost options means it is not free.
        let priced = cost_options
            .unwrap_or_default()
            .iter()
            .any(|option| option.amount.is_some_and(|amount| amount > 0.0));
        record.service.cost = cost.unwrap_or(if priced { Cost::Paid } else { Cost::Free });
        record.service.access = access.unwrap_or(Access::SelfReferral);
        Ok(unmapped)
    }

    /// The life domain an attribute's taxonomy term stands for: its `code` when that is one
    /// of ours, else what the taxonomy map says of its id or code. `None` without a term;
    /// `Err` names a term that stands for none.
    fn domain_of(&self, attribute: &Attribute) -> Option<Result<String, String>> {
        let term = attribute.taxonomy_term.as_ref();
        let id = term
            .and_then(|t| t.id.clone())
            .or_else(|| attribute.taxonomy_term_id.clone());
        let code = term
            .and_then(|t| t.code.clone())
            .or_else(|| id.as_ref().and_then(|id| self.terms.get(id).cloned().flatten()));
        if id.is_none() && code.is_none() {
            return None;
        }
        let ours = code
            .as_deref()
            .map(str::trim)
            .filter(|code| self.reference.domain(code).is_some());
        let mapped = || {
            [id.as_deref(), code.as_deref()]
                .into_iter()
                .flatten()
                .find_map(|key| self.taxonomy_map.domain(key))
        };
        Some(match ours.or_else(mapped) {
            Some(domain) => Ok(domain.to_owned()),
            None => Err(match (&code, &id) {
                (Some(code), Some(id)) => format!("`{code}` (id `{id}`)"),
                (Some(code), None) => format!("`{code}`"),
                (None, Some(id)) => format!("id `{id}`"),
                (None, None) => unreachable!("returned above"),
            }),
        })
    }

    /// The service's locations on the map; one that is not is left out, with a warning.
    async fn locations_of(
        &self,
        db: &impl ConnectionTrait,
        links: &[ServiceAtLocation],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, DbErr> {
        let mut ids = Vec::new();
        for link in links {
            let Some(location_id) = link.location_id() else {
                warnings.push("has a service_at_location without a location, which is left out".to_owned());
                continue;
            };
            match find_location(db, location_id).await? {
                Some(location) => ids.push(location.id),
                None => warnings.push(format!(
                    "is offered at location `{location_id}`, which is left out: {}",
                    self.why_missing(RecordKind::Location, location_id)
                )),
            }
        }
        Ok(ids)
    }

    /// The parts of a service's area the map can read; the others are left out, with a
    /// warning.
    async fn area(
        &self,
        db: &impl ConnectionTrait,
        areas: &[ServiceArea],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<AreaPart>, ListingsError> {
        let mut parts = Vec::new();
        for area in areas {
            let extent = area.extent.as_deref().map(str::trim).unwrap_or_default();
            let extent_type = area
                .extent_type
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_lowercase();
            match extent_type.as_str() {
                "national" if extent.is_empty() || extent.eq_ignore_ascii_case("BE") => parts.push(AreaPart::National),
                "national" => warnings.push(format!(
                    "has a national service area for `{extent}`, which is left out: the map covers Belgium (`BE`)"
                )),
                "region" => parts.push(AreaPart::Region(extent.to_owned())),
                "province" => parts.push(AreaPart::Province(extent.to_owned())),
                "municipality" => parts.push(AreaPart::Municipality(extent.to_owned())),
                "radius" => {
                    let km: f64 = extent.trim_end_matches("km").trim().parse().map_err(|_| {
                        ListingsError::Invalid(
                            Field::Area,
                            format!("has radius `{extent}`: write it as `<km> km`, such as `15 km`"),
                        )
                    })?;
                    // The export names the centre by its HSDS id in `description`.
                    let centre = area.description.as_deref().map(str::trim).unwrap_or_default();
                    match find_location(db, centre).await? {
                        Some(location) => parts.push(AreaPart::Radius {
                            location_id: location.id,
                            km,
                        }),
                        None => warnings.push(format!(
                            "has a {km} km radius area around location `{centre}`, which is left out: {}",
                            self.why_missing(RecordKind::Location, centre)
                        )),
                    }
                }
                other => warnings.push(format!(
                    "has a service area of extent_type `{other}`, which is left out: the map reads `national` (`BE`), `region`, `province` and `municipality` (REFNIS codes) and `radius` areas"
                )),
            }
        }
        Ok(parts)
    }

    fn why_missing(&self, kind: RecordKind, id: &str) -> String {
        match self.refused.get(&(kind, id.to_owned())) {
            Some(reason) => format!("it was rejected: {reason}"),
            None => "it is not on the map".to_owned(),
        }
    }

    fn not_on_map(&self, field: Field, kind: RecordKind, id: &str) -> ListingsError {
        let why = match self.refused.get(&(kind, id.to_owned())) {
            Some(reason) => format!("it was rejected: {reason}"),
            None => "import it first, or in the same run".to_owned(),
        };
        ListingsError::Invalid(
            field,
            format!("names {} `{id}`, which is not on the map: {why}", kind.as_str()),
        )
    }
}

impl Change<organization::Model> for Document<'_, document::Organization> {
    async fn draft(
        &self,
        txn: &DatabaseTransaction,
        _: &ReferenceData,
    ) -> Result<Draft<organization::Model>, ListingsError> {
        self.run.organization(txn, self.doc).await
    }
}

impl Change<location::Model> for Document<'_, document::Location> {
    async fn draft(
        &self,
        txn: &DatabaseTransaction,
        _: &ReferenceData,
    ) -> Result<Draft<location::Model>, ListingsError> {
        self.run.location(txn, self.item, self.doc).await
    }
}

impl Change<ServiceRecord> for Document<'_, document::Service> {
    async fn draft(&self, txn: &DatabaseTransaction, _: &ReferenceData) -> Result<Draft<ServiceRecord>, ListingsError> {
        self.run.service(txn, self.item, self.doc).await
    }
}

impl Change<ServiceRecord> for Document<'_, ServiceAtLocation> {
    async fn draft(&self, txn: &DatabaseTransaction, _: &ReferenceData) -> Result<Draft<ServiceRecord>, ListingsError> {
        self.run.service_at_location(txn, self.doc).await
    }
}

/// A record by its HSDS id: an imported record by the id it had where it came from, a
/// record of this map by its own (so importing the map's own export changes nothing).
async fn find<E: EntityTrait>(
    db: &impl ConnectionTrait,
    (external_id, id): (E::Column, E::Column),
    hsds_id: &str,
) -> Result<Option<E::Model>, DbErr> {
    let hsds_id = hsds_id.trim();
    match E::find().filter(external_id.eq(hsds_id)).one(db).await? {
        Some(found) => Ok(Some(found)),
        None => E::find().filter(id.eq(hsds_id)).one(db).await,
    }
}

async fn find_organization(db: &impl ConnectionTrait, hsds_id: &str) -> Result<Option<organization::Model>, DbErr> {
    find::<organization::Entity>(
        db,
        (organization::Column::ExternalId, organization::Column::Id),
        hsds_id,
    )
    .await
}

async fn find_location(db: &impl ConnectionTrait, hsds_id: &str) -> Result<Option<location::Model>, DbErr> {
    find::<location::Entity>(db, (location::Column::ExternalId, location::Column::Id), hsds_id).await
}

async fn find_service(db: &impl ConnectionTrait, hsds_id: &str) -> Result<Option<service::Model>, DbErr> {
    find::<service::Entity>(db, (service::Column::ExternalId, service::Column::Id), hsds_id).await
}

/// The record as its HSDS object, or what in it is not.
fn parse<T: DeserializeOwned>(item: &Item) -> Result<T, String> {
    serde_path_to_error::deserialize(&item.record).map_err(|error| format!("`{}` {}", error.path(), error.inner()))
}

/// A record's outcome, or why it was rejected; only a failing database stops the import.
fn settle(result: Result<Imported, ListingsError>) -> Result<Result<Imported, String>, DbErr> {
    match result {
        Ok(imported) => Ok(Ok(imported)),
        Err(ListingsError::Database(error)) => Err(error),
        Err(refused) => Ok(Err(reason(refused))),
    }
}

/// Why a record is refused, naming the field as HSDS does.
fn reason(refused: ListingsError) -> String {
    match refused {
        ListingsError::Invalid(field, why) => format!("`{}` {why}", field.hsds()),
        other => other.to_string(),
    }
}

fn required_id(id: &Option<String>) -> Result<&str, ListingsError> {
    id.as_deref().map(str::trim).filter(|id| !id.is_empty()).ok_or_else(|| {
        ListingsError::Invalid(
            Field::Id,
            "is missing: every HSDS record has one, and the next import finds the record by it".to_owned(),
        )
    })
}

/// The value of the first attribute of `link_type`.
fn attribute(attributes: &[Attribute], link_type: &str) -> Option<String> {
    attributes.iter().find(|a| a.is(link_type)).and_then(Attribute::value)
}

/// `phones[0].number`, without the quotes the official examples put around theirs.
fn first_phone(phones: &[Phone]) -> Option<String> {
    phones
        .first()
        .and_then(|phone| phone.number.as_deref())
        .map(|number| number.trim().trim_matches('"').trim().to_owned())
}

fn is_belgium(country: &str) -> bool {
    ["BE", "BEL", "Belgium", "België", "Belgique", "Belgien"]
        .iter()
        .any(|name| country.eq_ignore_ascii_case(name))
}

/// One of our enumerations from an attribute's `value` (`FREE`, `SELF_REFERRAL`, …).
fn enum_value<T>(field: Field, link_type: &str, value: Option<String>) -> Result<T, ListingsError>
where
    T: DeserializeOwned + Serialize + Iterable,
{
    let allowed = || {
        T::iter()
            .filter_map(|v| serde_json::to_value(v).ok()?.as_str().map(str::to_owned))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(value) = value else {
        return invalid(field, format!("`{link_type}` has no value: give one of {}", allowed()));
    };
    let spelled = value.trim().to_uppercase().replace([' ', '-'], "_");
    serde_json::from_value(Value::String(spelled)).or_else(|_| {
        invalid(
            field,
            format!("`{link_type}` is `{value}`, which is not one of {}", allowed()),
        )
    })
}

/// A `translation` attribute: `{"lang": "fr", "name": "…", "description": "…"}`; the
/// language may be any code of the reference list (`ara`, `ar`, `fa-AF`).
fn translation(reference: &ReferenceData, value: Option<String>) -> Result<TranslationText, ListingsError> {
    #[derive(Deserialize)]
    struct Translation {
        lang: String,
        name: String,
        #[serde(default)]
        description: String,
    }
    let translation: Translation = value
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .ok_or_else(|| {
            ListingsError::Invalid(
                Field::Translations,
                "`translation` must be JSON such as {\"lang\": \"fr\", \"name\": \"…\", \"description\": \"…\"}"
                    .to_owned(),
            )
        })?;
    Ok(TranslationText {
        lang: reference
            .answer_language(&translation.lang)
            .map_or(translation.lang, |lang| lang.code().to_owned()),
        name: translation.name,
        description: translation.description,
    })
}

fn status(value: Option<&str>) -> Result<ServiceStatus, ListingsError> {
    const ALLOWED: &str = "active, temporarily closed, inactive or defunct";
    match value.map(|s| s.trim().to_lowercase().replace('_', " ")).as_deref() {
        Some("active") => Ok(ServiceStatus::Active),
        Some("temporarily closed") => Ok(ServiceStatus::TemporarilyClosed),
        // The map keeps no difference between a service that stopped and one that is gone.
        Some("inactive" | "defunct") => Ok(ServiceStatus::Inactive),
        Some(other) => invalid(Field::Status, format!("`{other}` is not one of {ALLOWED}")),
        None => invalid(Field::Status, format!("is missing: HSDS requires one of {ALLOWED}")),
    }
}

/// An age in whole years.
fn whole_years(field: Field, value: Option<f64>) -> Result<Option<i32>, ListingsError> {
    match value {
        None => Ok(None),
        Some(age) if age.fract() == 0.0 && (0.0..=130.0).contains(&age) => Ok(Some(age as i32)),
        Some(age) => invalid(field, format!("must be whole years between 0 and 130, got {age}")),
    }
}

/// An RFC 3339 time, kept to the microsecond both databases store, so that the next import
/// compares equal.
fn timestamp(field: Field, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ListingsError> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let time = DateTime::parse_from_rfc3339(text)
        .map_err(|_| ListingsError::Invalid(field, format!("`{text}` is not a time such as 2026-11-23T10:30:00Z")))?
        .with_timezone(&Utc);
    Ok(Some(
        time.with_nanosecond(time.nanosecond() / 1_000 * 1_000).unwrap_or(time),
    ))
}

/// A date (`2026-11-23`), as the start of that day in UTC; a full RFC 3339 time is read too.
fn date(field: Field, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ListingsError> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(Some(day.and_time(NaiveTime::MIN).and_utc()));
    }
    timestamp(field, Some(text))
        .map_err(|_| ListingsError::Invalid(field, format!("`{text}` is not a date such as 2026-11-23")))
}

/// Why a record is not moved to another organization: editing cannot do that either, since
/// an organization's editors and its services' locations depend on it.
fn moved(kind: &str, organization_id: &str) -> ListingsError {
    ListingsError::Invalid(
        Field::OrganizationId,
        format!(
            "is `{organization_id}`, but the {kind} belongs to another organization on the map; a {kind} does not move between organizations"
        ),
    )
}

/// Why a service without a life domain is refused, naming the terms that stand for none.
fn no_life_domain(unmapped_terms: &[String]) -> ListingsError {
    let reason = if unmapped_terms.is_empty() {
        "has no life domain: give the service an attribute whose taxonomy term has a life-domain code (`link_type` `life_domain`, `code` such as `housing.search`), or a term a taxonomy map maps to one".to_owned()
    } else {
        format!(
            "has no life domain: its taxonomy terms {} are none of the map's; pass a taxonomy map (`--taxonomy-map FILE`, or `taxonomyMap` of `importHsds`) from their ids or codes to life-domain codes such as `health.mental_health`",
            unmapped_terms.join(", ")
        )
    };
    ListingsError::Invalid(Field::Domains, reason)
}
