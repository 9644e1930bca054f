//! Our records as HSDS 3.0 documents (`docs/hsds-mapping.md`): the one mapping the HSDS API
//! and `export-hsds` write. A confidential location never carries its address or position.

use std::collections::HashMap;

use entity::enums::{InterpreterKind, LanguageMode, ServiceAreaKind, ServiceStatus};
use entity::{
    location, organization, service, service_area, service_domain, service_language, service_location,
    service_target_group, service_translation,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::reference::ReferenceData;

/// The namespace of the ids of objects we derive rather than store (addresses, phones, …).
const NAMESPACE: Uuid = Uuid::from_u128(0x6c1b_52f4_0c8e_4b6e_9d0a_3f1e_2a7c_5b90);

/// The HSDS id of a derived object: stable for the same parent and key.
pub fn derived_id(parent: &str, kind: &str, key: &str) -> String {
    Uuid::new_v5(&NAMESPACE, format!("{parent}/{kind}/{key}").as_bytes()).to_string()
}

/// The id of the life-domain taxonomy.
pub fn taxonomy_id() -> String {
    derived_id("socialmap", "taxonomy", "life-domains")
}

/// The id of the taxonomy term of a life domain or need.
pub fn term_id(code: &str) -> String {
    derived_id("socialmap", "life-domain", code)
}

/// A record's HSDS id: the id it had where it was imported from, else ours.
pub fn hsds_id(external_id: &Option<String>, id: &str) -> String {
    external_id.clone().unwrap_or_else(|| id.to_owned())
}

/// How much of a record a document carries: one-to-one fields (lists) or everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    List,
    Full,
}

/// Services with everything their documents need, loaded in a few queries.
pub struct Catalog<'a> {
    reference: &'a ReferenceData,
    organizations: HashMap<String, organization::Model>,
    locations: HashMap<String, location::Model>,
    locations_of_organization: HashMap<String, Vec<String>>,
    services_of_organization: HashMap<String, Vec<service::Model>>,
    locations_of_service: HashMap<String, Vec<String>>,
    areas: HashMap<String, Vec<service_area::Model>>,
    languages: HashMap<String, Vec<service_language::Model>>,
    domains: HashMap<String, Vec<String>>,
    target_groups: HashMap<String, Vec<entity::enums::TargetGroup>>,
    translations: HashMap<String, Vec<service_translation::Model>>,
}

fn group<T, K: std::hash::Hash + Eq>(rows: Vec<T>, key: impl Fn(&T) -> K) -> HashMap<K, Vec<T>> {
    let mut grouped: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(row);
    }
    grouped
}

impl<'a> Catalog<'a> {
    /// Loads what the documents of `services` and of `organizations` (with their locations
    /// and services) need.
    pub async fn load(
        db: &impl ConnectionTrait,
        reference: &'a ReferenceData,
        services: &[service::Model],
        organization_ids: &[String],
    ) -> Result<Catalog<'a>, DbErr> {
        let mut organization_ids: Vec<String> = organization_ids.to_vec();
        organization_ids.extend(services.iter().map(|s| s.organization_id.clone()));
        organization_ids.sort();
        organization_ids.dedup();
        let organizations = organization::Entity::find()
            .filter(organization::Column::Id.is_in(organization_ids.clone()))
            .all(db)
            .await?;
        let mut all_services: Vec<service::Model> = service::Entity::find()
            .filter(service::Column::OrganizationId.is_in(organization_ids.clone()))
            .order_by_asc(service::Column::NameSearch)
            .order_by_asc(service::Column::Id)
            .all(db)
            .await?;
        all_services.extend(services.iter().cloned());
        all_services.sort_by_key(|s| (s.name_search.clone(), hsds_id(&s.external_id, &s.id)));
        all_services.dedup_by(|a, b| a.id == b.id);
        let service_ids: Vec<String> = all_services.iter().map(|s| s.id.clone()).collect();
        let links = service_location::Entity::find()
            .filter(service_location::Column::ServiceId.is_in(service_ids.clone()))
            .order_by_asc(service_location::Column::LocationId)
            .all(db)
            .await?;
        let mut locations = location::Entity::find()
            .filter(location::Column::OrganizationId.is_in(organization_ids))
            .all(db)
            .await?;
        locations.sort_by_key(|l| (l.name.clone(), hsds_id(&l.external_id, &l.id)));
        let areas = service_area::Entity::find()
            .filter(service_area::Column::ServiceId.is_in(service_ids.clone()))
            .all(db)
            .await?;
        let languages = service_language::Entity::find()
            .filter(service_language::Column::ServiceId.is_in(service_ids.clone()))
            .order_by_asc(service_language::Column::LanguageCode)
            .all(db)
            .await?;
        let domains = service_domain::Entity::find()
            .filter(service_domain::Column::ServiceId.is_in(service_ids.clone()))
            .order_by_asc(service_domain::Column::DomainCode)
            .all(db)
            .await?;
        let target_groups = service_target_group::Entity::find()
            .filter(service_target_group::Column::ServiceId.is_in(service_ids.clone()))
            .all(db)
            .await?;
        let translations = service_translation::Entity::find()
            .filter(service_translation::Column::ServiceId.is_in(service_ids))
            .order_by_asc(service_translation::Column::Lang)
            .all(db)
            .await?;
        Ok(Catalog {
            reference,
            locations_of_organization: group(locations.clone(), |l| l.organization_id.clone())
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|l| l.id).collect()))
                .collect(),
            locations: locations.into_iter().map(|l| (l.id.clone(), l)).collect(),
            organizations: organizations.into_iter().map(|o| (o.id.clone(), o)).collect(),
            services_of_organization: group(all_services, |s| s.organization_id.clone()),
            locations_of_service: group(links, |l| l.service_id.clone())
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|l| l.location_id).collect()))
                .collect(),
            areas: group(areas, |a| a.service_id.clone()),
            languages: group(languages, |l| l.service_id.clone()),
            domains: group(domains, |d| d.service_id.clone())
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|d| d.domain_code).collect()))
                .collect(),
            target_groups: group(target_groups, |g| g.service_id.clone())
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().map(|g| g.target_group).collect()))
                .collect(),
            translations: group(translations, |t| t.service_id.clone()),
        })
    }

    fn organization_hsds_id(&self, id: &str) -> String {
        self.organizations
            .get(id)
            .map_or_else(|| id.to_owned(), |o| hsds_id(&o.external_id, &o.id))
    }

    fn location_hsds_id(&self, id: &str) -> String {
        self.locations
            .get(id)
            .map_or_else(|| id.to_owned(), |l| hsds_id(&l.external_id, &l.id))
    }

    /// The locations (ours) where a service is offered, in the order of their HSDS ids, which
    /// survive an export and import where our own ids do not.
    pub fn locations_of(&self, service_id: &str) -> Vec<&location::Model> {
        let mut locations: Vec<&location::Model> = self
            .locations_of_service
            .get(service_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.locations.get(id))
            .collect();
        locations.sort_by_key(|l| hsds_id(&l.external_id, &l.id));
        locations
    }

    /// A service; in full form with its areas, languages, locations and organization.
    pub fn service(&self, service: &service::Model, form: Form) -> Value {
        self.service_document(service, form, true)
    }

    fn service_document(&self, s: &service::Model, form: Form, with_locations: bool) -> Value {
        let id = hsds_id(&s.external_id, &s.id);
        let mut document = json!({
            "id": id,
            "organization_id": self.organization_hsds_id(&s.organization_id),
            "name": s.name,
            "description": s.description,
            "url": s.url,
            "email": s.email,
            "status": status(s.status),
            "application_process": s.access_description,
            "minimum_age": s.age_min,
            "maximum_age": s.age_max,
            "assured_date": s.last_verified_at.map(|at| at.format("%Y-%m-%d").to_string()),
            "last_modified": s.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        let languages = self.languages.get(&s.id).map(Vec::as_slice).unwrap_or_default();
        let interpreted: Vec<String> = languages
            .iter()
            .filter(|l| l.mode == LanguageMode::Interpreter)
            .map(|l| self.language_name(&l.language_code))
            .collect();
        if !interpreted.is_empty() {
            document["interpretation_services"] = json!(format!("Interpreters for {}", interpreted.join(", ")));
        }
        if let Some(organization) = self.organizations.get(&s.organization_id) {
            document["organization"] = self.organization_document(organization, Form::List);
        }
        if form == Form::Full {
            document["phones"] = json!(s.phone.iter().map(|number| phone(&id, number)).collect::<Vec<_>>());
            document["languages"] = json!(
                languages
                    .iter()
                    .map(|l| json!({
                        "id": derived_id(&id, "language", &l.language_code),
                        "service_id": id,
                        "name": self.language_name(&l.language_code),
                        "code": l.language_code,
                        "note": language_note(l),
                    }))
                    .collect::<Vec<_>>()
            );
            document["service_areas"] = json!(self.areas_of(s, &id));
            document["attributes"] = json!(self.service_attributes(s, &id));
            if let Some(organization) = self.organizations.get(&s.organization_id) {
                document["organization"] = self.organization_document(organization, Form::Full);
            }
            if with_locations {
                document["service_at_locations"] = json!(
                    self.locations_of(&s.id)
                        .into_iter()
                        .map(|l| {
                            let location_id = self.location_hsds_id(&l.id);
                            json!({
                                "id": derived_id(&id, "service_at_location", &location_id),
                                "service_id": id,
                                "location_id": location_id,
                                "location": self.location(l, Form::Full),
                            })
                        })
                        .collect::<Vec<_>>()
                );
            }
        }
        compact(document)
    }

    fn language_name(&self, code: &str) -> String {
        self.reference
            .language(code)
            .map_or_else(|| code.to_owned(), |l| l.name_en.clone())
    }

    fn areas_of(&self, s: &service::Model, id: &str) -> Vec<Value> {
        let mut areas: Vec<Value> = self
            .areas
            .get(&s.id)
            .into_iter()
            .flatten()
            .filter_map(|area| {
                let (extent_type, extent, name, description) = match area.kind {
                    ServiceAreaKind::National => ("national", "BE".to_owned(), "België".to_owned(), None),
                    ServiceAreaKind::Region => {
                        let code = area.region_code.clone()?;
                        let name = self.reference.region(&code).map(|r| r.name_nl.clone())?;
                        ("region", code, name, None)
                    }
                    ServiceAreaKind::Province => {
                        let code = area.province_code.clone()?;
                        let name = self.reference.province(&code).map(|p| p.name_nl.clone())?;
                        ("province", code, name, None)
                    }
                    ServiceAreaKind::Municipality => {
                        let code = area.municipality_code.clone()?;
                        let name = self.reference.municipality(&code).map(|m| m.name_nl.clone())?;
                        ("municipality", code, name, None)
                    }
                    ServiceAreaKind::Radius => {
                        let km = area.radius_km?;
                        let centre = self.locations.get(area.location_id.as_ref()?)?;
                        let name = format!("{km} km rond {}", centre.name);
                        ("radius", format!("{km} km"), name, Some(self.location_hsds_id(&centre.id)))
                    }
                };
                Some(compact(json!({
                    "id": derived_id(id, "service_area", &format!("{extent_type}/{extent}/{}", description.clone().unwrap_or_default())),
                    "service_id": id,
                    "name": name,
                    "description": description,
                    "extent": extent,
                    "extent_type": extent_type,
                })))
            })
            .collect();
        areas.sort_by_key(|a| a["id"].as_str().unwrap_or_default().to_owned());
        areas
    }

    fn service_attributes(&self, s: &service::Model, id: &str) -> Vec<Value> {
        let attribute = |link_type: &str, key: &str, value: Value, term: Option<&str>| {
            let mut attribute = json!({
                "id": derived_id(id, "attribute", &format!("{link_type}/{key}")),
                "link_id": id,
                "link_type": link_type,
                "link_entity": "service",
                "value": value,
            });
            if let Some(code) = term
                && let Some(term) = self.reference.domain(code).map(term_document)
            {
                attribute["taxonomy_term_id"] = term["id"].clone();
                attribute["taxonomy_term"] = term;
            }
            compact(attribute)
        };
        let mut attributes = Vec::new();
        for code in self.domains.get(&s.id).into_iter().flatten() {
            attributes.push(attribute("life_domain", code, Value::Null, Some(code)));
        }
        let mut groups: Vec<String> = self
            .target_groups
            .get(&s.id)
            .into_iter()
            .flatten()
            .map(enum_value)
            .collect();
        groups.sort();
        for group in groups {
            attributes.push(attribute("target_group", &group, json!(group), None));
        }
        attributes.push(attribute("cost", "cost", json!(enum_value(&s.cost)), None));
        attributes.push(attribute("access", "access", json!(enum_value(&s.access)), None));
        for t in self.translations.get(&s.id).into_iter().flatten() {
            let text = json!({ "lang": t.lang, "name": t.name, "description": t.description }).to_string();
            attributes.push(attribute("translation", &t.lang, json!(text), None));
        }
        attributes
    }

    /// An organization; in full form with its locations (and services when `full_services`).
    pub fn organization(&self, o: &organization::Model, form: Form, full_services: bool) -> Value {
        let mut document = self.organization_document(o, form);
        if form == Form::Full {
            document["services"] = json!(
                self.services_of_organization
                    .get(&o.id)
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        let mut service =
                            self.service_document(s, if full_services { Form::Full } else { Form::List }, false);
                        // A service nested in its organization does not repeat it.
                        if let Some(fields) = service.as_object_mut() {
                            fields.remove("organization");
                        }
                        service
                    })
                    .collect::<Vec<_>>()
            );
        }
        document
    }

    fn organization_document(&self, o: &organization::Model, form: Form) -> Value {
        let id = hsds_id(&o.external_id, &o.id);
        let mut document = json!({
            "id": id,
            "name": o.name,
            "description": o.description.clone().unwrap_or_default(),
            "email": o.email,
            "website": o.website,
        });
        if form == Form::Full {
            document["phones"] = json!(o.phone.iter().map(|number| phone(&id, number)).collect::<Vec<_>>());
            document["organization_identifiers"] = json!(
                o.kbo_number
                    .iter()
                    .map(|kbo| json!({
                        "id": derived_id(&id, "organization_identifier", "kbo"),
                        "organization_id": id,
                        "identifier_scheme": "BE-BCE_KBO",
                        "identifier_type": "enterprise number",
                        "identifier": kbo,
                    }))
                    .collect::<Vec<_>>()
            );
            document["attributes"] = json!([{
                "id": derived_id(&id, "attribute", "organization_kind"),
                "link_id": id,
                "link_type": "organization_kind",
                "link_entity": "organization",
                "value": enum_value(&o.kind),
            }]);
            document["locations"] = json!(
                self.locations_of_organization
                    .get(&o.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|l| self.locations.get(l))
                    .map(|l| self.location(l, Form::Full))
                    .collect::<Vec<_>>()
            );
        }
        compact(document)
    }

    /// A location, without address or position when it is confidential; in list form only
    /// its one-to-one fields.
    pub fn location(&self, l: &location::Model, form: Form) -> Value {
        let mut document = self.full_location(l);
        if form == Form::List
            && let Some(fields) = document.as_object_mut()
        {
            fields.retain(|_, value| !value.is_array());
        }
        document
    }

    fn full_location(&self, l: &location::Model) -> Value {
        let id = hsds_id(&l.external_id, &l.id);
        let attribute = |link_type: &str, value: &str| {
            json!({
                "id": derived_id(&id, "attribute", link_type),
                "link_id": id,
                "link_type": link_type,
                "link_entity": "location",
                "value": value,
            })
        };
        let mut attributes = vec![attribute("municipality", &l.municipality_code)];
        let mut document = json!({
            "id": id,
            "location_type": "physical",
            "organization_id": self.organization_hsds_id(&l.organization_id),
            "name": l.name,
        });
        if l.confidential {
            attributes.push(attribute("confidential", "true"));
            attributes.push(attribute("postal_code", &l.postal_code));
        } else {
            let municipality = self.reference.municipality(&l.municipality_code);
            let province = municipality.and_then(|m| {
                m.province_code
                    .as_deref()
                    .and_then(|p| self.reference.province(p))
                    .map(|p| p.name_nl.clone())
                    .or_else(|| self.reference.region(&m.region_code).map(|r| r.name_nl.clone()))
            });
            document["latitude"] = json!(l.latitude);
            document["longitude"] = json!(l.longitude);
            document["addresses"] = json!([{
                "id": derived_id(&id, "address", "physical"),
                "location_id": id,
                "address_1": l.address,
                "city": municipality.map(|m| m.name_nl.clone()).unwrap_or_default(),
                "state_province": province.unwrap_or_default(),
                "postal_code": l.postal_code,
                "country": "BE",
                "address_type": "physical",
            }]);
        }
        if let Some(text) = &l.accessibility {
            document["accessibility"] = json!([{
                "id": derived_id(&id, "accessibility", "description"),
                "location_id": id,
                "description": text,
            }]);
        }
        if let Some(hours) = &l.opening_hours {
            document["schedules"] = json!([{
                "id": derived_id(&id, "schedule", "opening_hours"),
                "location_id": id,
                "description": hours,
            }]);
        }
        document["attributes"] = json!(attributes);
        compact(document)
    }

    /// A service at one of its locations.
    pub fn service_at_location(&self, s: &service::Model, l: &location::Model, form: Form) -> Value {
        let service_id = hsds_id(&s.external_id, &s.id);
        let location_id = self.location_hsds_id(&l.id);
        let mut service = self.service_document(s, form, false);
        if let Some(fields) = service.as_object_mut() {
            fields.remove("service_at_locations");
        }
        json!({
            "id": derived_id(&service_id, "service_at_location", &location_id),
            "service_id": service_id,
            "location_id": location_id,
            "location": self.location(l, form),
            "service": service,
        })
    }
}

/// The life-domain taxonomy.
pub fn taxonomy() -> Value {
    json!({
        "id": taxonomy_id(),
        "name": "Socialmap life domains",
        "description": "The life domains and needs on which services help families, as used by socialmap.",
        "version": "1",
    })
}

/// A life domain or need as a taxonomy term.
pub fn term_document(domain: &entity::life_domain::Model) -> Value {
    compact(json!({
        "id": term_id(&domain.code),
        "code": domain.code,
        "name": domain.label_nl,
        "description": domain.label_en,
        "parent_id": domain.parent_code.as_deref().map(term_id),
        "taxonomy": "socialmap",
        "taxonomy_id": taxonomy_id(),
        "language": "nl",
    }))
}

fn phone(parent: &str, number: &str) -> Value {
    json!({ "id": derived_id(parent, "phone", number), "number": number })
}

/// A service's HSDS status.
pub fn status(status: ServiceStatus) -> &'static str {
    match status {
        ServiceStatus::Active => "active",
        ServiceStatus::TemporarilyClosed => "temporarily closed",
        ServiceStatus::Inactive => "inactive",
    }
}

fn language_note(language: &service_language::Model) -> String {
    match (language.mode, language.interpreter_kind) {
        (LanguageMode::Staff, _) => "staff".to_owned(),
        (LanguageMode::Interpreter, None) => "interpreter".to_owned(),
        (LanguageMode::Interpreter, Some(kind)) => format!(
            "interpreter: {}",
            match kind {
                InterpreterKind::Professional => "professional",
                InterpreterKind::Social => "social",
                InterpreterKind::Volunteer => "volunteer",
            }
        ),
    }
}

/// An enum's stored value (`SELF_REFERRAL`), as the GraphQL API spells it.
fn enum_value<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Drops null fields: HSDS has no nulls, an absent field is unknown.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, compact(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(compact).collect()),
        other => other,
    }
}
