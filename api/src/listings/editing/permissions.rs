//! Who may change which part of the map (DESIGN.md, roles): admins everything; an
//! organization editor its own organization, its services and locations; a municipality
//! editor what is located in or serves its municipalities; referrers and anonymous nothing.

use entity::enums::{AuditResource, Role};
use entity::{location, service, service_location};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter};

use crate::auth::{SignedIn, Viewer};
use crate::listings::write::{Author, MapRecord};
use crate::listings::{ListingsError, serving_municipality};
use crate::reference::ReferenceData;

/// When the write path asks whether its author may write a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Moment {
    /// Before changing a record: as stored.
    Stored,
    /// Before adding a record: who may add to its organization at all.
    New,
    /// After adding it, in the transaction: whether it is theirs.
    Created,
    /// After changing it, in the transaction: whether it is still theirs.
    Changed,
}

/// Refuses, unless `author` may write `record` at `moment`. The operator may write anything;
/// a viewer what the rules of editing allow, whatever the change comes from (an import's admin
/// may everything).
pub(crate) async fn may_write<R: MapRecord>(
    txn: &DatabaseTransaction,
    reference: &ReferenceData,
    author: Author<'_>,
    record: &R,
    moment: Moment,
) -> Result<(), ListingsError> {
    let Author::Viewer(viewer) = author else {
        return Ok(());
    };
    let may = match moment {
        Moment::New => may_add_to(viewer.signed_in()?, record.organization_id()),
        Moment::Stored | Moment::Created | Moment::Changed => record.editable_by(txn, reference, viewer).await?,
    };
    if may {
        return Ok(());
    }
    let why = match (R::RESOURCE, moment) {
        (AuditResource::Organization, Moment::New | Moment::Created) => {
            "organizations are created by admins, and by municipality editors with a first location in their municipalities"
        }
        (AuditResource::Organization, Moment::Stored | Moment::Changed) => {
            "you may edit only your own organization or organizations in your municipalities"
        }
        (AuditResource::Location, Moment::New | Moment::Created) => {
            "you may add locations only to your organization, or in your municipalities"
        }
        (AuditResource::Location, Moment::Stored) => {
            "you may edit only locations of your organization or in your municipalities"
        }
        (AuditResource::Location, Moment::Changed) => "you may not move a location out of your municipalities",
        (AuditResource::Service, Moment::New | Moment::Created) => {
            "you may create services only for your organization, or located in or serving your municipalities"
        }
        (AuditResource::Service, Moment::Stored) => {
            "you may edit only services of your organization or of your municipalities"
        }
        (AuditResource::Service, Moment::Changed) => {
            "after this change the service would be neither located in nor serving your municipalities"
        }
    };
    Err(ListingsError::Forbidden(why.to_owned()))
}

/// Whether the account may add a record to the organization (a new organization is its own):
/// admins and municipality editors (whether it lies in their municipalities is asked once it
/// is written), an organization editor to its own; referrers never.
fn may_add_to(signed_in: &SignedIn, organization_id: &str) -> bool {
    let account = &signed_in.account;
    match account.role {
        Role::Admin | Role::MunicipalityEditor => true,
        Role::OrganizationEditor => account.organization_id.as_deref() == Some(organization_id),
        Role::Referrer => false,
    }
}

/// Whether the account may import HSDS documents: admins, who may write every record.
pub fn may_import(signed_in: &SignedIn) -> bool {
    signed_in.account.role == Role::Admin
}

/// Whether `viewer` may edit `service`: admins all; an organization editor its own
/// organization's; a municipality editor those located in or serving its municipalities.
pub async fn may_edit_service(
    db: &impl ConnectionTrait,
    reference: &ReferenceData,
    viewer: &Viewer,
    service: &service::Model,
) -> Result<bool, ListingsError> {
    let signed_in = viewer.signed_in()?;
    let account = &signed_in.account;
    Ok(match account.role {
        Role::Admin => true,
        Role::OrganizationEditor => account.organization_id.as_deref() == Some(service.organization_id.as_str()),
        Role::Referrer => false,
        Role::MunicipalityEditor => {
            let located_there = service_location::Entity::find()
                .filter(service_location::Column::ServiceId.eq(service.id.as_str()))
                .filter(
                    service_location::Column::LocationId.in_subquery(
                        Query::select()
                            .column(location::Column::Id)
                            .from(location::Entity)
                            .and_where(location::Column::MunicipalityCode.is_in(signed_in.municipalities.clone()))
                            .to_owned(),
                    ),
                )
                .count(db)
                .await?
                > 0;
            located_there
                || serves_any(
                    db,
                    reference,
                    &signed_in.municipalities,
                    service::Column::Id.eq(service.id.as_str()),
                )
                .await?
        }
    })
}

/// Whether `viewer` may edit the organization: admins all; its own organization editor; a
/// municipality editor when it has a location in, or a service serving, its municipalities.
pub async fn may_edit_organization(
    db: &impl ConnectionTrait,
    reference: &ReferenceData,
    viewer: &Viewer,
    organization_id: &str,
) -> Result<bool, ListingsError> {
    let signed_in = viewer.signed_in()?;
    let account = &signed_in.account;
    Ok(match account.role {
        Role::Admin => true,
        Role::OrganizationEditor => account.organization_id.as_deref() == Some(organization_id),
        Role::Referrer => false,
        Role::MunicipalityEditor => {
            let located_there = location::Entity::find()
                .filter(location::Column::OrganizationId.eq(organization_id))
                .filter(location::Column::MunicipalityCode.is_in(signed_in.municipalities.clone()))
                .count(db)
                .await?
                > 0;
            located_there
                || serves_any(
                    db,
                    reference,
                    &signed_in.municipalities,
                    service::Column::OrganizationId.eq(organization_id),
                )
                .await?
        }
    })
}

/// Whether `viewer` may edit the location: admins all; its organization's editor; a
/// municipality editor when it lies in one of its municipalities.
pub fn may_edit_location(viewer: &Viewer, location: &location::Model) -> Result<bool, ListingsError> {
    let signed_in = viewer.signed_in()?;
    let account = &signed_in.account;
    Ok(match account.role {
        Role::Admin => true,
        Role::OrganizationEditor => account.organization_id.as_deref() == Some(location.organization_id.as_str()),
        Role::Referrer => false,
        Role::MunicipalityEditor => signed_in.municipalities.contains(&location.municipality_code),
    })
}

/// Whether `viewer` may see a confidential location's address and position: those who may
/// edit it.
pub fn may_see_confidential(viewer: &Viewer, location: &location::Model) -> bool {
    matches!(may_edit_location(viewer, location), Ok(true))
}

/// Whether a service matching `which` serves one of `municipalities`.
async fn serves_any(
    db: &impl ConnectionTrait,
    reference: &ReferenceData,
    municipalities: &[String],
    which: sea_orm::sea_query::SimpleExpr,
) -> Result<bool, ListingsError> {
    for code in municipalities {
        let serving = service::Entity::find()
            .filter(which.clone())
            .filter(serving_municipality(db, reference, code).await?)
            .count(db)
            .await?;
        if serving > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}
