//! The service rows a page of hits shows, kept in memory for the services shown recently.
//! Reading twenty rows from the database cost more per search than ranking them (a fifth of
//! the server's time under load at 100,000 services); the same services come up again and
//! again, so most pages are served from here.
//!
//! The rows follow the change log as the index does: every service the log names is forgotten
//! before the index commits its change, so once a change is searchable its rows are too. A
//! search that read a row from the database while a change was being forgotten does not keep
//! what it read (the `generation` check), so an old row can never outlive its change.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use entity::service;
use lru::LruCache;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

/// Rows kept: a few megabytes, far more than the services the questions of a day bring up.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(20_000).unwrap();

pub struct ServiceRows {
    rows: Mutex<LruCache<String, Arc<service::Model>>>,
    /// Bumped whenever rows are forgotten.
    generation: AtomicU64,
}

impl Default for ServiceRows {
    fn default() -> Self {
        ServiceRows {
            rows: Mutex::new(LruCache::new(CAPACITY)),
            generation: AtomicU64::new(0),
        }
    }
}

impl ServiceRows {
    /// The rows of `ids` that exist, by id: from memory where kept, else from the database.
    pub async fn of(
        &self,
        db: &DatabaseConnection,
        ids: &[String],
    ) -> Result<HashMap<String, Arc<service::Model>>, DbErr> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = Vec::new();
        {
            let mut rows = self.lock();
            for id in ids {
                match rows.get(id) {
                    Some(row) => {
                        found.insert(id.clone(), row.clone());
                    }
                    None => missing.push(id.clone()),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let read: Vec<Arc<service::Model>> = service::Entity::find()
            .filter(service::Column::Id.is_in(missing))
            .all(db)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect();
        {
            let mut rows = self.lock();
            // Rows forgotten while we read may be older than their change: not kept.
            if self.generation.load(Ordering::SeqCst) == generation {
                for row in &read {
                    rows.put(row.id.clone(), row.clone());
                }
            }
        }
        found.extend(read.into_iter().map(|row| (row.id.clone(), row)));
        Ok(found)
    }

    /// Forgets the rows of services that changed.
    pub(super) fn forget(&self, ids: &[String]) {
        let mut rows = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        for id in ids {
            rows.pop(id);
        }
    }

    pub(super) fn forget_all(&self) {
        let mut rows = self.lock();
        self.generation.fetch_add(1, Ordering::SeqCst);
        rows.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<service::Model>>> {
        // A panic while holding it cannot leave a half-written row: keep serving.
        self.rows.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
