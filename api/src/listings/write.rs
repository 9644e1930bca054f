//! The one write path of the map: every change to an organization, location or service, from
//! an editor or from an HSDS import, runs the steps of [`MapWriter::write`] in this order:
//!
//! read → permission → version → tidy → check → (nothing changes: nothing is written) →
//! version bump → conditional write → permission again → audit → change log → commit →
//! searchable.
//!
//! What differs between kinds of record (how one is tidied, checked, written and audited, who
//! may edit it) is a [`MapRecord`]; what differs between kinds of change (an edit, a new
//! record, an HSDS document) is a [`Change`], which reads the record and says what it becomes.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use entity::audit_entry;
use entity::enums::{AuditAction, AuditResource, ChangedResource};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Set,
};
use serde_json::{Map, Value};

use super::ListingsError;
use super::editing::permissions::{Moment, may_write};
use crate::auth::{AuthError, SignedIn, Viewer};
use crate::reference::ReferenceData;
use crate::search::{self, SearchIndex};

/// A record's audited fields as JSON values, by name.
pub(crate) type Fields = Map<String, Value>;

/// A kind of record of the map, as the write path handles it.
pub(crate) trait MapRecord: Clone + PartialEq + Send + Sync {
    /// How the audit trail names this kind of record.
    const RESOURCE: AuditResource;
    /// How the change log names it, for search.
    const CHANGED: ChangedResource;

    /// The record with this id, as the transaction holds it.
    fn find(txn: &DatabaseTransaction, id: &str) -> impl Future<Output = Result<Option<Self>, DbErr>> + Send;

    fn id(&self) -> &str;

    /// The organization it belongs to; an organization's own id.
    fn organization_id(&self) -> &str;

    /// Its version and when it last changed.
    fn stamp(&self) -> (i32, DateTime<Utc>);

    fn set_stamp(&mut self, version: i32, updated_at: DateTime<Utc>);

    /// One spelling of everything, so that comparing two records compares what they say.
    fn tidy(&mut self);

    /// What the map accepts, naming the field that breaks a rule.
    fn check(
        &self,
        txn: &DatabaseTransaction,
        reference: &ReferenceData,
    ) -> impl Future<Output = Result<(), ListingsError>> + Send;

    /// Whether `viewer` may edit the record, as the transaction holds it now.
    fn editable_by(
        &self,
        txn: &DatabaseTransaction,
        reference: &ReferenceData,
        viewer: &Viewer,
    ) -> impl Future<Output = Result<bool, ListingsError>> + Send;

    /// Writes the record: inserts it when there is no `before`, else writes over `before` only
    /// if the row is still at `before`'s version (see [`write_row`]).
    fn write(
        &self,
        txn: &DatabaseTransaction,
        before: Option<&Self>,
    ) -> impl Future<Output = Result<(), ListingsError>> + Send;

    /// The fields the audit trail records, by their HSDS-like names.
    fn fields(&self) -> Fields;
}

/// The part of a [`MapRecord`] that a record kept in one row of `$entity` (with its `id`,
/// `version` and `updated_at`) spells like every other such record.
macro_rules! one_row_record {
    ($entity:ident) => {
        async fn find(txn: &::sea_orm::DatabaseTransaction, id: &str) -> Result<Option<Self>, ::sea_orm::DbErr> {
            <$entity::Entity as ::sea_orm::EntityTrait>::find_by_id(id)
                .one(txn)
                .await
        }

        fn id(&self) -> &str {
            &self.id
        }

        fn stamp(&self) -> (i32, ::chrono::DateTime<::chrono::Utc>) {
            (self.version, self.updated_at)
        }

        fn set_stamp(&mut self, version: i32, updated_at: ::chrono::DateTime<::chrono::Utc>) {
            (self.version, self.updated_at) = (version, updated_at);
        }

        async fn write(
            &self,
            txn: &::sea_orm::DatabaseTransaction,
            before: Option<&Self>,
        ) -> Result<(), $crate::listings::ListingsError> {
            $crate::listings::write::write_row(
                txn,
                ::sea_orm::IntoActiveModel::into_active_model(self.clone()),
                ($entity::Column::Id, &self.id),
                ($entity::Column::Version, before.map(|b| b.version)),
            )
            .await
        }
    };
}
pub(crate) use one_row_record;

/// A record that can be taken off the map (locations).
pub(crate) trait Removable: MapRecord {
    /// Deletes the record if it may go and is still at its version, in the caller's
    /// transaction. Returns what search must read again.
    fn remove(
        &self,
        txn: &DatabaseTransaction,
    ) -> impl Future<Output = Result<Vec<(ChangedResource, String)>, ListingsError>> + Send;
}

/// What one change does to one record: reads the record as it is (none, for a new one) and
/// says what it becomes.
pub(crate) trait Change<R: MapRecord>: Sync {
    fn draft(
        &self,
        txn: &DatabaseTransaction,
        reference: &ReferenceData,
    ) -> impl Future<Output = Result<Draft<R>, ListingsError>> + Send;

    /// Records that come with this one, written in its transaction right after it and before
    /// it must be the author's (a new organization's first location, which makes it a
    /// municipality editor's).
    fn also(
        &self,
        _writer: &MapWriter<'_>,
        _txn: &DatabaseTransaction,
        _written: &R,
    ) -> impl Future<Output = Result<(), ListingsError>> + Send {
        async { Ok(()) }
    }
}

/// A record as it is and as a change makes it.
pub(crate) struct Draft<R> {
    /// As the transaction holds it; none for a new record.
    pub before: Option<R>,
    pub after: R,
    /// The version the author read, when they say (an editor); else the change is written over
    /// whatever version it read.
    pub read_version: Option<i32>,
    /// How the audit trail names a change to an existing record.
    pub action: AuditAction,
    /// What the author should know was left out or assumed (an import's warnings).
    pub warnings: Vec<String>,
}

impl<R> Draft<R> {
    /// `after` over `before`, or as a new record.
    pub fn over(before: Option<R>, after: R) -> Self {
        let action = match before {
            Some(_) => AuditAction::Update,
            None => AuditAction::Create,
        };
        Draft {
            before,
            after,
            read_version: None,
            action,
            warnings: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Created,
    Updated,
    /// The record already said what the change says: nothing was written.
    Unchanged,
}

/// A record after a write: as written, or as it was when nothing changed.
pub(crate) struct Written<R> {
    pub record: R,
    pub outcome: Outcome,
    pub warnings: Vec<String>,
}

/// Who writes: held to the rules of editing, and named in the audit trail.
#[derive(Clone, Copy)]
pub enum Author<'a> {
    /// Someone using the API (an import's admin too): each record passes `permissions`.
    Viewer(&'a Viewer),
    /// The server's operator on the command line (`socialmap import-hsds`), who could write
    /// the database directly: any record, recorded as `name`.
    Operator(&'a str),
}

impl<'a> Author<'a> {
    /// The signed-in account behind the author; the operator has none.
    pub fn account(self) -> Result<&'a SignedIn, ListingsError> {
        match self {
            Author::Viewer(viewer) => Ok(viewer.signed_in()?),
            Author::Operator(_) => Err(AuthError::NotLoggedIn.into()),
        }
    }

    /// Who the audit trail names; an anonymous viewer writes nothing.
    fn name(self) -> Result<&'a str, ListingsError> {
        match self {
            Author::Viewer(viewer) => Ok(&viewer.signed_in()?.account.id),
            Author::Operator(name) => Ok(name),
        }
    }
}

/// When this server's search must show what was committed.
#[derive(Clone, Copy)]
pub enum Searchable<'a> {
    /// Before the write returns: an editor finds their change at once.
    Now(&'a SearchIndex),
    /// Once, at [`MapWriter::finish`]: an import of many records waits once, not per record.
    AtEnd(&'a SearchIndex),
    /// When the search of whichever server follows the change log (the command line serves no
    /// search).
    Later,
}

/// Writes changes to the map for one author: an edit, or the records of one import.
pub struct MapWriter<'a> {
    db: &'a DatabaseConnection,
    reference: &'a ReferenceData,
    author: Author<'a>,
    search: Searchable<'a>,
    /// Something was committed that `Searchable::AtEnd` has not yet waited for.
    unsearched: AtomicBool,
}

impl<'a> MapWriter<'a> {
    pub fn new(
        db: &'a DatabaseConnection,
        reference: &'a ReferenceData,
        author: Author<'a>,
        search: Searchable<'a>,
    ) -> Self {
        MapWriter {
            db,
            reference,
            author,
            search,
            unsearched: AtomicBool::new(false),
        }
    }

    pub fn author(&self) -> Author<'a> {
        self.author
    }

    pub fn reference(&self) -> &'a ReferenceData {
        self.reference
    }

    /// Writes one change in a transaction of its own (its `also` records included), or
    /// nothing: the steps are those of [`MapWriter::write_in`], then commit, then searchable.
    /// A transaction SQLite refused for another's write is tried again from the start.
    pub(crate) async fn write<R: MapRecord>(&self, change: &impl Change<R>) -> Result<Written<R>, ListingsError> {
        let written = with_write_retry(|| async {
            let txn = crate::db::begin_write(self.db).await?;
            let written = self.write_in(&txn, change).await?;
            // Commit; a change that changes nothing has nothing to commit.
            if written.outcome != Outcome::Unchanged {
                txn.commit().await?;
            }
            Ok(written)
        })
        .await?;
        // Searchable.
        if written.outcome != Outcome::Unchanged {
            self.committed().await;
        }
        Ok(written)
    }

    /// The steps of a write inside `txn`, up to the change log.
    pub(crate) async fn write_in<R: MapRecord>(
        &self,
        txn: &DatabaseTransaction,
        change: &impl Change<R>,
    ) -> Result<Written<R>, ListingsError> {
        let by = self.author.name()?;
        // Read: the record as it is, and as the change makes it.
        let Draft {
            before,
            mut after,
            read_version,
            action,
            warnings,
        } = change.draft(txn, self.reference).await?;
        // Permission: the author may edit the record as stored, or add one to that organization.
        // Before any check, so that a refusal never tells a stranger what a record holds (a
        // confidential location's position).
        match &before {
            Some(before) => may_write(txn, self.reference, self.author, before, Moment::Stored).await?,
            None => may_write(txn, self.reference, self.author, &after, Moment::New).await?,
        }
        // Version: the one the author read must still be current.
        if let (Some(before), Some(read)) = (&before, read_version)
            && read != before.stamp().0
        {
            return Err(ListingsError::Conflict(before.stamp().0));
        }
        // Tidy, check.
        after.tidy();
        after.check(txn, self.reference).await?;
        // Nothing changes: nothing is written, and the version stays for other editors.
        if let Some(before) = &before {
            let mut stored = before.clone();
            stored.tidy();
            if stored == after {
                return Ok(Written {
                    record: before.clone(),
                    outcome: Outcome::Unchanged,
                    warnings,
                });
            }
        }
        // Version bump. A time the change gives itself (an HSDS document's `last_modified`)
        // stands; otherwise it changed now.
        let now = Utc::now();
        if let Some(before) = &before {
            let (version, changed_at) = before.stamp();
            let (_, given_at) = after.stamp();
            after.set_stamp(version + 1, if given_at == changed_at { now } else { given_at });
        }
        // Conditional write: of two writes from the same version, one lands.
        after.write(txn, before.as_ref()).await?;
        change.also(self, txn, &after).await?;
        // Permission again: what was written must still be the author's to edit (a location
        // not moved, a service not taken, out of a municipality editor's municipalities).
        let moment = match before {
            Some(_) => Moment::Changed,
            None => Moment::Created,
        };
        may_write(txn, self.reference, self.author, &after, moment).await?;
        // Audit.
        let audited_before = before.as_ref().map(MapRecord::fields).unwrap_or_default();
        record_audit(
            txn,
            (R::RESOURCE, after.id()),
            action,
            by,
            now,
            &audited_before,
            &after.fields(),
        )
        .await?;
        // Change log.
        search::record(txn, R::CHANGED, after.id()).await?;
        Ok(Written {
            record: after,
            outcome: if before.is_some() {
                Outcome::Updated
            } else {
                Outcome::Created
            },
            warnings,
        })
    }

    /// Takes a record off the map: read → permission → version → its own removal (checked,
    /// conditional) → audit → change log → commit → searchable.
    pub(crate) async fn remove<R: Removable>(&self, id: &str, version: i32) -> Result<R, ListingsError> {
        let by = self.author.name()?;
        let removed = with_write_retry(|| async {
            let txn = crate::db::begin_write(self.db).await?;
            let before = R::find(&txn, id)
                .await?
                .ok_or_else(|| ListingsError::NotFound(R::RESOURCE.as_str(), id.to_owned()))?;
            may_write(&txn, self.reference, self.author, &before, Moment::Stored).await?;
            if version != before.stamp().0 {
                return Err(ListingsError::Conflict(before.stamp().0));
            }
            let changed = before.remove(&txn).await?;
            record_audit(
                &txn,
                (R::RESOURCE, id),
                AuditAction::Delete,
                by,
                Utc::now(),
                &before.fields(),
                &Fields::new(),
            )
            .await?;
            for (resource, id) in &changed {
                search::record(&txn, *resource, id).await?;
            }
            txn.commit().await?;
            Ok(before)
        })
        .await?;
        self.committed().await;
        Ok(removed)
    }

    /// Waits, when asked to at the end, for search to show what this writer committed.
    pub async fn finish(&self) {
        if let Searchable::AtEnd(index) = self.search
            && self.unsearched.swap(false, Ordering::Relaxed)
        {
            index.reflect_committed().await;
        }
    }

    /// After a commit: searchable now, at the end, or later.
    async fn committed(&self) {
        match self.search {
            Searchable::Now(index) => {
                index.reflect_committed().await;
            }
            Searchable::AtEnd(_) => self.unsearched.store(true, Ordering::Relaxed),
            Searchable::Later => {}
        }
    }
}

/// The conditional write of one row: inserted when there is no `read_version`, else written
/// only if the row is still at `read_version`, so that of two writes from the same version
/// one lands and the other gets `CONFLICT`.
pub(crate) async fn write_row<A>(
    txn: &DatabaseTransaction,
    row: A,
    (id_column, id): (<A::Entity as EntityTrait>::Column, &str),
    (version_column, read_version): (<A::Entity as EntityTrait>::Column, Option<i32>),
) -> Result<(), ListingsError>
where
    A: ActiveModelTrait + Send,
{
    let Some(read_version) = read_version else {
        <A::Entity as EntityTrait>::insert(row.reset_all())
            .exec_without_returning(txn)
            .await?;
        return Ok(());
    };
    let written = <A::Entity as EntityTrait>::update_many()
        .set(row.reset_all())
        .filter(id_column.eq(id))
        .filter(version_column.eq(read_version))
        .exec(txn)
        .await?;
    if written.rows_affected != 1 {
        return Err(ListingsError::Conflict(read_version + 1));
    }
    Ok(())
}

/// One audit entry (HSDS `metadata`) per field whose value differs between `before` and
/// `after`; a created record has an empty `before`, a deleted one an empty `after`.
async fn record_audit(
    db: &impl ConnectionTrait,
    (resource_type, resource_id): (AuditResource, &str),
    action: AuditAction,
    by: &str,
    at: DateTime<Utc>,
    before: &Fields,
    after: &Fields,
) -> Result<(), DbErr> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let old = before.get(name).cloned().unwrap_or(Value::Null);
        let new = after.get(name).cloned().unwrap_or(Value::Null);
        if old == new {
            continue;
        }
        audit_entry::ActiveModel {
            id: Set(uuid::Uuid::new_v4().to_string()),
            resource_type: Set(resource_type),
            resource_id: Set(resource_id.to_owned()),
            last_action_type: Set(action),
            last_action_date: Set(at),
            field_name: Set(name.clone()),
            previous_value: Set((!old.is_null()).then(|| old.to_string())),
            replacement_value: Set((!new.is_null()).then(|| new.to_string())),
            updated_by: Set(by.to_owned()),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// How often a write is retried when SQLite refused it because another transaction was
/// writing; the retry then sees the other write (and its version).
const WRITE_ATTEMPTS: u64 = 5;

/// Runs `attempt` (one transaction) again while SQLite reports write contention.
async fn with_write_retry<T, F, Fut>(mut attempt: F) -> Result<T, ListingsError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ListingsError>>,
{
    let mut tried = 1;
    loop {
        match attempt().await {
            Err(ListingsError::Database(error)) if tried < WRITE_ATTEMPTS && is_write_contention(&error) => {
                tried += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20 * tried)).await;
            }
            outcome => return outcome,
        }
    }
}

/// SQLite lets one transaction write at a time and refuses, rather than waits for, a reader
/// that wants to become a writer while another writes.
fn is_write_contention(error: &DbErr) -> bool {
    let message = error.to_string();
    message.contains("database is locked") || message.contains("database table is locked")
}
