//! Bulk inserts in chunks small enough for SQLite's and PostgreSQL's bind-parameter limits.

use entity::{
    location, organization, service, service_area, service_domain, service_language, service_location,
    service_target_group, service_translation,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel, TransactionTrait,
};

const ROWS_PER_STATEMENT: usize = 400;

pub(crate) async fn insert_all<E, M, C>(db: &C, models: Vec<M>) -> Result<(), DbErr>
where
    E: EntityTrait,
    M: IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    C: ConnectionTrait,
{
    let mut rows = models.into_iter().map(IntoActiveModel::into_active_model).peekable();
    while rows.peek().is_some() {
        let chunk: Vec<E::ActiveModel> = rows.by_ref().take(ROWS_PER_STATEMENT).collect();
        E::insert_many(chunk).exec_without_returning(db).await?;
    }
    Ok(())
}

/// The rows of a whole map (demo or synthetic), inserted parents first in one transaction.
#[derive(Default)]
pub(crate) struct MapRows {
    pub organizations: Vec<organization::Model>,
    pub locations: Vec<location::Model>,
    pub services: Vec<service::Model>,
    pub translations: Vec<service_translation::Model>,
    pub domains: Vec<service_domain::Model>,
    pub languages: Vec<service_language::Model>,
    pub target_groups: Vec<service_target_group::Model>,
    pub service_locations: Vec<service_location::Model>,
    pub areas: Vec<service_area::Model>,
}

impl MapRows {
    pub async fn insert(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let txn = db.begin().await?;
        insert_all::<organization::Entity, _, _>(&txn, self.organizations).await?;
        insert_all::<location::Entity, _, _>(&txn, self.locations).await?;
        insert_all::<service::Entity, _, _>(&txn, self.services).await?;
        insert_all::<service_translation::Entity, _, _>(&txn, self.translations).await?;
        insert_all::<service_domain::Entity, _, _>(&txn, self.domains).await?;
        insert_all::<service_language::Entity, _, _>(&txn, self.languages).await?;
        insert_all::<service_target_group::Entity, _, _>(&txn, self.target_groups).await?;
        insert_all::<service_location::Entity, _, _>(&txn, self.service_locations).await?;
        insert_all::<service_area::Entity, _, _>(&txn, self.areas).await?;
        txn.commit().await
    }
}
