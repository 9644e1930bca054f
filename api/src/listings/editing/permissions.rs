//! Who may change which part of the map (DESIGN.md, roles): admins everything; an
//! organization editor its own organization, its services and locations; a municipality
//! editor what is located in or serves its municipalities; referrers and anonymous nothing.

use entity::enums::Role;
use entity::{location, service, service_location};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::super::{ListingsError, serving_municipality};
use crate::auth::Viewer;
use crate::reference::ReferenceData;

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
