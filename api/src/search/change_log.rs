//! The change log: every committed change to the map adds a row in the same transaction, and
//! each replica's index follows the rows it has not applied yet.
//!
//! Ids come from a sequence, so they increase, but concurrent transactions on PostgreSQL may
//! commit out of order: id 7 can become visible after id 8. A reader that only remembered
//! "up to 8" would miss 7 for good. So the position also remembers the gaps it has seen and
//! looks for them again until they fill or `GAP_PATIENCE` passes (a rolled-back transaction
//! leaves a gap that never fills).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::change_log;
use entity::enums::ChangedResource;
use entity::{service, service_area, service_location};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, NotSet, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

/// How long a missing id is waited for. Transactions that write the map are short.
const GAP_PATIENCE_SECONDS: i64 = 60;
/// How many rows one catch-up reads; the rest follow on the next round.
const ROWS_PER_READ: u64 = 2_000;
/// Ids below the newest that a rebuild treats as possibly still in flight.
const IN_FLIGHT_WINDOW: i64 = 1_000;

/// Records that `resource_id` changed. Call it inside the transaction that changes it.
pub async fn record(db: &impl ConnectionTrait, resource: ChangedResource, resource_id: &str) -> Result<(), DbErr> {
    change_log::ActiveModel {
        id: NotSet,
        resource: Set(resource),
        resource_id: Set(resource_id.to_owned()),
        changed_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Deletes the rows older than `before`, except the newest row, which keeps the id sequence's
/// high-water mark visible. A replica whose index had not applied a deleted row rebuilds from
/// the database when it next catches up (`pruned_past`). Returns how many rows it deleted.
pub async fn prune(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let Some(newest) = newest(db).await? else {
        return Ok(0);
    };
    let deleted = change_log::Entity::delete_many()
        .filter(change_log::Column::ChangedAt.lt(before))
        .filter(change_log::Column::Id.lt(newest))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// The id of the newest row; none for an empty log.
pub async fn newest(db: &impl ConnectionTrait) -> Result<Option<i64>, DbErr> {
    Ok(change_log::Entity::find()
        .select_only()
        .column_as(change_log::Column::Id.max(), "newest")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten())
}

/// Whether rows after `applied` were pruned, so the log can no longer bring an index that
/// applied up to `applied` up to date.
pub async fn pruned_past(db: &impl ConnectionTrait, applied: i64) -> Result<bool, DbErr> {
    let oldest: Option<i64> = change_log::Entity::find()
        .select_only()
        .column_as(change_log::Column::Id.min(), "oldest")
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten();
    Ok(oldest.is_some_and(|oldest| oldest > applied + 1))
}

/// How far an index has followed the log.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPosition {
    /// The highest id applied.
    pub last_id: i64,
    /// Ids below `last_id` not seen yet, with when they were first missed (Unix seconds).
    pub gaps: BTreeMap<i64, i64>,
}

impl LogPosition {
    /// The position of an index built from the database as it is now: everything up to the
    /// newest row, except recent ids that are not visible yet.
    pub async fn now(db: &impl ConnectionTrait) -> Result<LogPosition, DbErr> {
        let Some(newest) = newest(db).await? else {
            return Ok(LogPosition::default());
        };
        let window_start = (newest - IN_FLIGHT_WINDOW).max(1);
        let visible: Vec<i64> = change_log::Entity::find()
            .select_only()
            .column(change_log::Column::Id)
            .filter(change_log::Column::Id.gte(window_start))
            .into_tuple()
            .all(db)
            .await?;
        let now = Utc::now().timestamp();
        let mut position = LogPosition {
            last_id: newest,
            gaps: (window_start..newest).map(|id| (id, now)).collect(),
        };
        for id in visible {
            position.gaps.remove(&id);
        }
        Ok(position)
    }

    /// The rows after this position (and in its gaps), and the position after them.
    pub async fn read(
        &self,
        db: &impl ConnectionTrait,
        now: DateTime<Utc>,
    ) -> Result<(Vec<change_log::Model>, LogPosition), DbErr> {
        let mut newer = Condition::any().add(change_log::Column::Id.gt(self.last_id));
        if !self.gaps.is_empty() {
            newer = newer.add(change_log::Column::Id.is_in(self.gaps.keys().copied()));
        }
        let rows = change_log::Entity::find()
            .filter(newer)
            .order_by_asc(change_log::Column::Id)
            .limit(ROWS_PER_READ)
            .all(db)
            .await?;
        let now = now.timestamp();
        let mut next = self.clone();
        for row in &rows {
            if row.id > next.last_id {
                next.gaps.extend((next.last_id + 1..row.id).map(|id| (id, now)));
                next.last_id = row.id;
            } else {
                next.gaps.remove(&row.id);
            }
        }
        next.gaps.retain(|_, seen| now - *seen < GAP_PATIENCE_SECONDS);
        Ok((rows, next))
    }
}

/// The services whose index documents the changes touch: a changed service, the services of
/// a changed organization (its name is searchable), the services at a changed location.
pub async fn affected_services(db: &impl ConnectionTrait, changes: &[change_log::Model]) -> Result<Vec<String>, DbErr> {
    let ids_of = |resource: ChangedResource| -> Vec<String> {
        changes
            .iter()
            .filter(|c| c.resource == resource)
            .map(|c| c.resource_id.clone())
            .collect()
    };
    let mut services = ids_of(ChangedResource::Service);
    let organizations = ids_of(ChangedResource::Organization);
    let locations = ids_of(ChangedResource::Location);
    if !organizations.is_empty() {
        services.extend(
            service::Entity::find()
                .select_only()
                .column(service::Column::Id)
                .filter(service::Column::OrganizationId.is_in(organizations))
                .into_tuple::<String>()
                .all(db)
                .await?,
        );
    }
    if !locations.is_empty() {
        services.extend(
            service_location::Entity::find()
                .select_only()
                .column(service_location::Column::ServiceId)
                .filter(service_location::Column::LocationId.is_in(locations.clone()))
                .into_tuple::<String>()
                .all(db)
                .await?,
        );
        services.extend(
            service_area::Entity::find()
                .select_only()
                .column(service_area::Column::ServiceId)
                .filter(service_area::Column::LocationId.is_in(locations))
                .into_tuple::<String>()
                .all(db)
                .await?,
        );
    }
    services.sort();
    services.dedup();
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_serialises_for_the_commit_payload() {
        let position = LogPosition {
            last_id: 9,
            gaps: BTreeMap::from([(7, 100)]),
        };
        let json = serde_json::to_string(&position).unwrap();
        assert_eq!(serde_json::from_str::<LogPosition>(&json).unwrap(), position);
    }
}
