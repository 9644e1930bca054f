//! The HSDS 3.0 objects as the import reads them: only the fields `docs/hsds-mapping.md`
//! maps, every other field of a document is left alone. A list that is absent (`None`) is not
//! an empty one: list responses (`GET /services`) leave nested lists out, and a record read
//! from one keeps what the map already holds for them.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub(super) struct Taxonomy {
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct TaxonomyTerm {
    pub id: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Organization {
    pub id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub phones: Option<Vec<Phone>>,
    pub organization_identifiers: Option<Vec<OrganizationIdentifier>>,
    pub attributes: Option<Vec<Attribute>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Location {
    pub id: Option<String>,
    pub location_type: Option<String>,
    pub organization_id: Option<String>,
    pub name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub addresses: Option<Vec<Address>>,
    pub accessibility: Option<Vec<Described>>,
    pub schedules: Option<Vec<Described>>,
    pub attributes: Option<Vec<Attribute>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Service {
    pub id: Option<String>,
    pub organization_id: Option<String>,
    pub organization: Option<Nested>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub status: Option<String>,
    pub application_process: Option<String>,
    pub minimum_age: Option<f64>,
    pub maximum_age: Option<f64>,
    pub assured_date: Option<String>,
    pub last_modified: Option<String>,
    pub phones: Option<Vec<Phone>>,
    pub languages: Option<Vec<Language>>,
    pub service_areas: Option<Vec<ServiceArea>>,
    pub service_at_locations: Option<Vec<ServiceAtLocation>>,
    pub attributes: Option<Vec<Attribute>>,
    pub cost_options: Option<Vec<CostOption>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ServiceAtLocation {
    pub service_id: Option<String>,
    pub location_id: Option<String>,
    pub service: Option<Nested>,
    pub location: Option<Nested>,
}

impl ServiceAtLocation {
    pub fn service_id(&self) -> Option<&str> {
        self.service
            .as_ref()
            .and_then(|s| s.id.as_deref())
            .or(self.service_id.as_deref())
    }

    pub fn location_id(&self) -> Option<&str> {
        self.location
            .as_ref()
            .and_then(|l| l.id.as_deref())
            .or(self.location_id.as_deref())
    }
}

/// A record nested in another, read for its id: it is imported as a record of its own.
#[derive(Debug, Deserialize)]
pub(super) struct Nested {
    pub id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Phone {
    pub number: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct OrganizationIdentifier {
    pub identifier_scheme: Option<String>,
    pub identifier: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Address {
    pub address_1: Option<String>,
    pub city: Option<String>,
    /// Directories that keep postal codes as numbers write `9300`, not `"9300"`.
    #[serde(default, deserialize_with = "text_or_number")]
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// An `accessibility` or `schedules` entry: the map keeps its description.
#[derive(Debug, Deserialize)]
pub(super) struct Described {
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Language {
    pub code: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ServiceArea {
    pub description: Option<String>,
    pub extent: Option<String>,
    pub extent_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct CostOption {
    pub amount: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Attribute {
    pub link_type: Option<String>,
    pub taxonomy_term_id: Option<String>,
    pub taxonomy_term: Option<TaxonomyTerm>,
    /// A string in HSDS; `true` or a JSON object are read as their text.
    pub value: Option<Value>,
}

impl Attribute {
    pub fn is(&self, link_type: &str) -> bool {
        self.link_type.as_deref().map(str::trim) == Some(link_type)
    }

    pub fn value(&self) -> Option<String> {
        match &self.value {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(text.trim().to_owned()),
            Some(other) => Some(other.to_string()),
        }
    }
}

fn text_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(
        Option::<TextOrNumber>::deserialize(deserializer)?.map(|value| match value {
            TextOrNumber::Text(text) => text,
            TextOrNumber::Number(number) => number.to_string(),
        }),
    )
}
