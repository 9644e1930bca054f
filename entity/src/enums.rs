//! Enumerations stored as text. Their string values are the GraphQL enum values front ends
//! rely on (DESIGN.md), so a row reads the same in SQL as in the API.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)", rename_all = "SCREAMING_SNAKE_CASE")]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),+ }
    };
}

text_enum!(
    /// What kind of actor an organization is.
    OrganizationKind { Public, Ngo, VolunteerGroup, Informal }
);
text_enum!(
    /// Whether a service is open to people now.
    ServiceStatus { Active, TemporarilyClosed, Inactive }
);
text_enum!(
    /// What a service costs the family.
    Cost { Free, Contribution, Paid }
);
text_enum!(
    /// How a family gets in: on its own, or only when a professional refers it.
    Access { SelfReferral, ProfessionalReferral }
);
text_enum!(
    /// Who a service is meant for.
    TargetGroup {
        Everyone,
        AsylumSeekers,
        Refugees,
        TemporaryProtection,
        Undocumented,
        UnaccompaniedMinors,
        FamiliesWithChildren,
        Women,
        Youth,
    }
);
text_enum!(
    /// How a service offers a language: its staff speak it, or it arranges an interpreter.
    LanguageMode { Staff, Interpreter }
);
text_enum!(
    /// Which kind of interpreter a service arranges.
    InterpreterKind { Professional, Social, Volunteer }
);
text_enum!(
    /// ISO 639-3 scope of a language code.
    LanguageScope { Individual, Macrolanguage }
);
text_enum!(
    /// What one service-area row covers.
    ServiceAreaKind { National, Region, Province, Municipality, Radius }
);

text_enum!(
    /// Which kind of record a change-log row is about.
    ChangedResource { Organization, Service, Location }
);

/// Which kind of record an audit entry is about. Stored in lower case, as HSDS names the
/// objects (unlike the enumerations above, which the GraphQL API shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AuditResource {
    #[sea_orm(string_value = "organization")]
    Organization,
    #[sea_orm(string_value = "service")]
    Service,
    #[sea_orm(string_value = "location")]
    Location,
}

impl AuditResource {
    /// The stored value, for messages that name the kind of record.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditResource::Organization => "organization",
            AuditResource::Service => "service",
            AuditResource::Location => "location",
        }
    }
}

/// What an audit entry records, in HSDS `metadata`'s words (`last_action_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AuditAction {
    #[sea_orm(string_value = "create")]
    Create,
    #[sea_orm(string_value = "update")]
    Update,
    /// An editor confirmed the listing is right.
    #[sea_orm(string_value = "verify")]
    Verify,
    #[sea_orm(string_value = "delete")]
    Delete,
}

text_enum!(
    /// Where a suggested correction stands: waiting for an editor, or resolved.
    SuggestionStatus { Pending, Accepted, Rejected }
);

text_enum!(
    /// What an account may do (DESIGN.md, roles).
    Role { Admin, MunicipalityEditor, OrganizationEditor, Referrer }
);
text_enum!(
    /// How a token was issued: by `login` (expires) or for a program (`account create --token`).
    TokenKind { Session, Api }
);
text_enum!(
    /// Where a referral is in its life (DESIGN.md, after the HL7 referral task).
    ReferralStatus { Sent, Received, Accepted, Declined, Completed, NoShow, Cancelled, Expired }
);
text_enum!(
    /// How the service reaches the family: through the referrer, or by phone with consent.
    ContactVia { Referrer, Phone }
);
text_enum!(
    /// Why a service declined a referral.
    DeclineReason { NoCapacity, OutsideTargetGroup, OutsideArea, NotOurService, FamilyUnreachable, Other }
);

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn audit_resources_name_themselves_as_they_are_stored() {
        for resource in AuditResource::iter() {
            assert_eq!(resource.as_str(), resource.to_value());
        }
    }
}
