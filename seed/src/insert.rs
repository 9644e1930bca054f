//! Bulk inserts in chunks small enough for SQLite's and PostgreSQL's bind-parameter limits.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel};

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
