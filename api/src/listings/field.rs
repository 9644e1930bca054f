//! The fields a refusal can name, each as the GraphQL API and HSDS 3.0 call it: an editor's
//! error says `kboNumber` (`extensions.field`), an import's report says
//! `organization_identifiers`, for the same check.

use std::fmt;

/// A field of the map's records (and the few arguments checked the same way), or a part of an
/// HSDS document that the map keeps no field for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Id,
    Name,
    Description,
    Email,
    Phone,
    Url,
    Status,
    OrganizationId,
    // Organizations.
    Kind,
    Website,
    KboNumber,
    /// The first location of a new organization.
    Location,
    // Locations.
    Address,
    PostalCode,
    MunicipalityCode,
    Latitude,
    Longitude,
    Accessibility,
    OpeningHours,
    // Services.
    Cost,
    Access,
    AccessDescription,
    AgeMin,
    AgeMax,
    CapacityAvailable,
    CapacityMaximum,
    LastVerifiedAt,
    UpdatedAt,
    Domains,
    TargetGroups,
    Languages,
    Translations,
    Area,
    LocationIds,
    // Links of a service to a location.
    ServiceId,
    LocationId,
    // Arguments that are no record's field.
    Search,
    Message,
    Note,
    // Parts of an HSDS location the map has no field for.
    LocationType,
    /// `addresses` as a whole, when a document leaves it out.
    Addresses,
    Country,
    City,
}

/// Who has a name for a field.
enum Names {
    Both { graphql: &'static str, hsds: &'static str },
    GraphqlOnly(&'static str),
    HsdsOnly(&'static str),
}

impl Field {
    fn names(self) -> Names {
        use Names::{Both, GraphqlOnly, HsdsOnly};
        let both = |graphql, hsds| Both { graphql, hsds };
        match self {
            Field::Id => both("id", "id"),
            Field::Name => both("name", "name"),
            Field::Description => both("description", "description"),
            Field::Email => both("email", "email"),
            Field::Phone => both("phone", "phones[0].number"),
            Field::Url => both("url", "url"),
            Field::Status => both("status", "status"),
            Field::OrganizationId => both("organizationId", "organization_id"),
            // Our enumerations travel as HSDS `attributes` (docs/hsds-mapping.md).
            Field::Kind => both("kind", "attributes"),
            Field::Website => both("website", "website"),
            Field::KboNumber => both("kboNumber", "organization_identifiers"),
            Field::Location => both("location", "locations"),
            Field::Address => both("address", "addresses[0].address_1"),
            Field::PostalCode => both("postalCode", "addresses[0].postal_code"),
            Field::MunicipalityCode => both("municipalityCode", "attributes"),
            Field::Latitude => both("latitude", "latitude"),
            Field::Longitude => both("longitude", "longitude"),
            Field::Accessibility => both("accessibility", "accessibility[0].description"),
            Field::OpeningHours => both("openingHours", "schedules[0].description"),
            Field::Cost => both("cost", "attributes"),
            Field::Access => both("access", "attributes"),
            Field::AccessDescription => both("accessDescription", "application_process"),
            Field::AgeMin => both("ageMin", "minimum_age"),
            Field::AgeMax => both("ageMax", "maximum_age"),
            Field::CapacityAvailable => GraphqlOnly("capacityAvailable"),
            Field::CapacityMaximum => GraphqlOnly("capacityMaximum"),
            Field::LastVerifiedAt => both("lastVerifiedAt", "assured_date"),
            Field::UpdatedAt => both("updatedAt", "last_modified"),
            Field::Domains => both("domains", "attributes"),
            Field::TargetGroups => both("targetGroups", "attributes"),
            Field::Languages => both("languages", "languages"),
            Field::Translations => both("translations", "attributes"),
            Field::Area => both("area", "service_areas"),
            Field::LocationIds => both("locationIds", "service_at_locations"),
            Field::ServiceId => both("serviceId", "service_id"),
            Field::LocationId => both("locationId", "location_id"),
            Field::Search => GraphqlOnly("search"),
            Field::Message => GraphqlOnly("message"),
            Field::Note => GraphqlOnly("note"),
            Field::LocationType => HsdsOnly("location_type"),
            Field::Addresses => HsdsOnly("addresses"),
            Field::Country => HsdsOnly("addresses[0].country"),
            Field::City => HsdsOnly("addresses[0].city"),
        }
    }

    /// As the GraphQL API names it (`extensions.field`); a part of an HSDS document that the
    /// API has no field for, as HSDS does.
    pub fn graphql(self) -> &'static str {
        match self.names() {
            Names::Both { graphql, .. } | Names::GraphqlOnly(graphql) => graphql,
            Names::HsdsOnly(hsds) => hsds,
        }
    }

    /// As HSDS 3.0 names it, for an import's report; a field HSDS has none for (capacity), as
    /// the API does.
    pub fn hsds(self) -> &'static str {
        match self.names() {
            Names::Both { hsds, .. } | Names::HsdsOnly(hsds) => hsds,
            Names::GraphqlOnly(graphql) => graphql,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.graphql())
    }
}
