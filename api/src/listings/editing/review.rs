//! What editors review: the audit trail of a record and the listings due for verification.

use chrono::Utc;
use entity::enums::{AuditResource, Role, ServiceStatus};
use entity::{audit_entry, location, organization, service, service_location};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{may_edit_location, may_edit_organization, may_edit_service};
use crate::auth::Viewer;
use crate::listings::{ListingsError, STALE_AFTER_DAYS, serving_municipality};
use crate::reference::ReferenceData;

/// The audit trail of a record, newest first, for those who may edit it. The trail of a
/// deleted location is for admins.
pub async fn audit_log(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    resource: AuditResource,
    id: &str,
) -> Result<Vec<audit_entry::Model>, ListingsError> {
    let admin = viewer.signed_in()?.account.role == Role::Admin;
    let not_found = || ListingsError::NotFound(resource.as_str(), id.to_owned());
    let may = match resource {
        AuditResource::Service => match service::Entity::find_by_id(id).one(db).await? {
            Some(service) => may_edit_service(db, reference, viewer, &service).await?,
            None => return Err(not_found()),
        },
        AuditResource::Organization => match organization::Entity::find_by_id(id).one(db).await? {
            Some(_) => may_edit_organization(db, reference, viewer, id).await?,
            None => return Err(not_found()),
        },
        AuditResource::Location => match location::Entity::find_by_id(id).one(db).await? {
            Some(location) => may_edit_location(viewer, &location)?,
            None if admin => true,
            None => return Err(not_found()),
        },
    };
    if !may {
        return Err(ListingsError::Forbidden(format!(
            "the audit log of this {} is for its editors and admins",
            resource.as_str()
        )));
    }
    Ok(audit_entry::Entity::find()
        .filter(audit_entry::Column::ResourceType.eq(resource))
        .filter(audit_entry::Column::ResourceId.eq(id))
        .order_by_desc(audit_entry::Column::LastActionDate)
        .order_by_asc(audit_entry::Column::FieldName)
        .all(db)
        .await?)
}

/// The services located in or serving a municipality that are not verified for a year (or
/// never), oldest first: what its editors should review. For those editors and admins.
pub async fn stale_services(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    municipality_code: &str,
) -> Result<Vec<service::Model>, ListingsError> {
    let signed_in = viewer.signed_in()?;
    let responsible = signed_in.account.role == Role::Admin
        || (signed_in.account.role == Role::MunicipalityEditor
            && signed_in.municipalities.iter().any(|m| m == municipality_code));
    if !responsible {
        return Err(ListingsError::Forbidden(format!(
            "stale listings of {municipality_code} are for its municipality editors and admins"
        )));
    }
    let located_there = Query::select()
        .column(service_location::Column::ServiceId)
        .from(service_location::Entity)
        .and_where(
            service_location::Column::LocationId.in_subquery(
                Query::select()
                    .column(location::Column::Id)
                    .from(location::Entity)
                    .and_where(location::Column::MunicipalityCode.eq(municipality_code))
                    .to_owned(),
            ),
        )
        .to_owned();
    let year_ago = Utc::now() - chrono::Duration::days(STALE_AFTER_DAYS);
    let mut stale: Vec<service::Model> = service::Entity::find()
        .filter(
            Condition::any()
                .add(service::Column::Id.in_subquery(located_there))
                .add(serving_municipality(db, reference, municipality_code).await?),
        )
        .filter(service::Column::Status.ne(ServiceStatus::Inactive))
        .filter(
            Condition::any()
                .add(service::Column::LastVerifiedAt.is_null())
                .add(service::Column::LastVerifiedAt.lt(year_ago)),
        )
        .all(db)
        .await?;
    // Never verified first, then the oldest verification; by name within a date.
    stale.sort_by(|a, b| {
        a.last_verified_at
            .cmp(&b.last_verified_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(stale)
}
