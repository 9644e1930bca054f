//! The index on disk: opened, rebuilt when it cannot be trusted, and kept in step with the
//! change log. One writer per index (tantivy enforces it with a lock file), so each replica
//! has an index of its own under its data directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use tantivy::directory::MmapDirectory;
use tantivy::schema::Term;
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Searcher, TantivyError};
use tokio::sync::{Mutex, Notify, watch};

use super::SearchError;
use super::analysis;
use super::change_log::{self, LogPosition};
use super::document::{self, ServiceDocument};
use super::fields::{Fields, SCHEMA_VERSION};
use super::query::DomainVocabulary;
use crate::reference::ReferenceData;

/// Memory the writer may use before it flushes a segment.
const WRITER_MEMORY: usize = 128 * 1024 * 1024;
/// How long to wait for a stopping server to release the index.
const LOCK_PATIENCE: Duration = Duration::from_secs(5);
/// How often a replica looks at the change log when nobody nudges it.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(250);
/// The least time between two commits of a replica under a stream of writes. Every commit is
/// a new segment and a merge; committing each write on its own (dozens a second in the soak)
/// left merges behind and grew the heap.
const COMMIT_SPACING: Duration = Duration::from_millis(100);
/// How long a mutation waits for this server's index to show its change before it answers
/// anyway (README, "Read your writes").
pub const READ_YOUR_WRITES_WAIT: Duration = Duration::from_secs(5);

pub struct SearchIndex {
    reader: IndexReader,
    /// The index's files, kept to prune its map of mapped files (see `commit`).
    directory: MmapDirectory,
    pub(super) fields: Fields,
    pub(super) reference: Arc<ReferenceData>,
    pub(super) vocabulary: DomainVocabulary,
    dir: PathBuf,
    writer: Mutex<IndexState>,
    changed: Notify,
    /// The last change-log id the searchable index reflects, for lag without the writer lock.
    applied: AtomicI64,
    /// Catch-up rounds begun, and the last one finished: a round begun after a write
    /// committed reads that write, so a writer waits for such a round to finish.
    rounds_begun: AtomicU64,
    rounds_done: watch::Sender<u64>,
    /// One search at a time per core (`search_in_turn`).
    pub(super) search_slots: tokio::sync::Semaphore,
    /// What ranking reads per hit, decoded once per segment.
    pub(super) columns: super::columns::ColumnCache,
    /// The rows pages show, following the change log with the index.
    pub(super) rows: super::rows::ServiceRows,
    /// Per-document sums of the searches running now.
    pub(super) scratch: super::execute::ScratchPool,
    /// The documents the filters asked for most allow, per segment.
    pub(super) filters: super::execute::FilterCache,
}

struct IndexState {
    writer: IndexWriter,
    position: LogPosition,
}

/// What the last commit says about the index, in tantivy's commit payload.
#[derive(Serialize, Deserialize)]
struct CommitPayload {
    schema_version: u32,
    log: LogPosition,
}

/// What a full build did.
#[derive(Clone, Copy, Debug)]
pub struct BuildReport {
    pub services: usize,
    pub elapsed: Duration,
}

impl SearchIndex {
    /// Opens the index in `dir`, or builds it from the database when it is missing, corrupt or
    /// of an older schema version (or when `rebuild` asks for it); then catches up with the
    /// change log.
    pub async fn open(
        dir: &Path,
        db: &DatabaseConnection,
        reference: Arc<ReferenceData>,
        rebuild: bool,
    ) -> Result<Arc<SearchIndex>, SearchError> {
        let io = |e: std::io::Error| SearchError::Io(dir.to_owned(), e);
        std::fs::create_dir_all(dir).map_err(io)?;
        let (schema, fields) = Fields::schema();
        let open_directory = || MmapDirectory::open(dir).map_err(TantivyError::from);
        let directory = open_directory()?;
        let (directory, index, position) = match open_existing(&directory) {
            Ok((index, position)) => (directory, index, position),
            Err(reason) => {
                tracing::info!(dir = %dir.display(), %reason, "building the search index");
                drop(directory);
                std::fs::remove_dir_all(dir).map_err(io)?;
                std::fs::create_dir_all(dir).map_err(io)?;
                let directory = open_directory()?;
                let index = Index::create(directory.clone(), schema, IndexSettings::default())?;
                (directory, index, None)
            }
        };
        analysis::register(&index);
        let writer = take_writer(&index, dir).await?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let needs_build = position.is_none() || rebuild;
        let search = Arc::new(SearchIndex {
            vocabulary: DomainVocabulary::new(&reference),
            reader,
            directory,
            fields,
            reference,
            dir: dir.to_owned(),
            applied: AtomicI64::new(position.as_ref().map_or(0, |p| p.last_id)),
            writer: Mutex::new(IndexState {
                writer,
                position: position.unwrap_or_default(),
            }),
            changed: Notify::new(),
            rounds_begun: AtomicU64::new(0),
            rounds_done: watch::Sender::new(0),
            search_slots: tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            columns: super::columns::ColumnCache::default(),
            rows: super::rows::ServiceRows::default(),
            scratch: super::execute::ScratchPool::default(),
            filters: super::execute::FilterCache::default(),
        });
        if needs_build {
            let report = search.rebuild(db).await?;
            tracing::info!(
                services = report.services,
                "search index built in {:.1?}",
                report.elapsed
            );
        }
        search.catch_up(db).await?;
        Ok(search)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Replaces the whole index with the services in the database.
    pub async fn rebuild(&self, db: &DatabaseConnection) -> Result<BuildReport, SearchError> {
        let mut state = self.writer.lock().await;
        self.rebuild_locked(&mut state, db).await
    }

    async fn rebuild_locked(
        &self,
        state: &mut IndexState,
        db: &DatabaseConnection,
    ) -> Result<BuildReport, SearchError> {
        let started = Instant::now();
        // Read the log position first: changes committed while we load are applied again
        // by the next catch-up, which is harmless.
        let position = LogPosition::now(db).await?;
        self.rows.forget_all();
        state.writer.delete_all_documents()?;
        let mut services = 0;
        let mut after: Option<String> = None;
        loop {
            let documents = document::load_page(db, after.as_deref()).await?;
            let Some(last) = documents.last() else { break };
            after = Some(last.service.id.clone());
            services += self.add(&state.writer, &documents)?;
        }
        self.commit(state, position)?;
        Ok(BuildReport {
            services,
            elapsed: started.elapsed(),
        })
    }

    /// Applies the change-log rows this index has not seen; returns how many services it
    /// re-indexed.
    pub async fn catch_up(&self, db: &DatabaseConnection) -> Result<usize, SearchError> {
        let mut state = self.writer.lock().await;
        let round = self.rounds_begun.fetch_add(1, Ordering::SeqCst) + 1;
        let applied = self.apply_log(&mut state, db).await;
        self.rounds_done.send_if_modified(|done| {
            let newer = *done < round;
            *done = (*done).max(round);
            newer
        });
        applied
    }

    async fn apply_log(&self, state: &mut IndexState, db: &DatabaseConnection) -> Result<usize, SearchError> {
        let applied = state.position.last_id;
        if change_log::pruned_past(db, applied).await? {
            // Rows this index never applied were pruned: only the database knows them now.
            tracing::warn!(applied, "the change log was pruned past this index; rebuilding it");
            return Ok(self.rebuild_locked(state, db).await?.services);
        }
        let (changes, position) = state.position.read(db, Utc::now()).await?;
        if position == state.position {
            return Ok(0);
        }
        let ids = change_log::affected_services(db, &changes).await?;
        // Before the commit: once a change is searchable, pages show it.
        self.rows.forget(&ids);
        let documents = document::load(db, &ids).await?;
        for id in &ids {
            state.writer.delete_term(Term::from_field_text(self.fields.id, id));
        }
        self.add(&state.writer, &documents)?;
        self.commit(state, position)?;
        Ok(ids.len())
    }

    /// Read your writes: waits until this index shows every change committed before the
    /// call, by nudging the follower and waiting for a catch-up round that began after now.
    /// Gives up after `READ_YOUR_WRITES_WAIT` (the change still follows, as on every other
    /// replica) and says whether it got there.
    pub async fn reflect_committed(&self) -> bool {
        let target = self.rounds_begun.load(Ordering::SeqCst) + 1;
        let mut done = self.rounds_done.subscribe();
        self.changed.notify_one();
        let caught_up = tokio::time::timeout(READ_YOUR_WRITES_WAIT, done.wait_for(|done| *done >= target)).await;
        let reflected = matches!(caught_up, Ok(Ok(_)));
        if !reflected {
            tracing::warn!(
                "the search index did not take a change within {READ_YOUR_WRITES_WAIT:?}; it will on its next round"
            );
        }
        reflected
    }

    /// How many change-log rows were written after the last one this index reflects.
    pub async fn lag(&self, db: &DatabaseConnection) -> Result<i64, SearchError> {
        let newest = change_log::newest(db).await?.unwrap_or(0);
        Ok((newest - self.applied.load(Ordering::Relaxed)).max(0))
    }

    fn add(&self, writer: &IndexWriter, documents: &[ServiceDocument]) -> Result<usize, SearchError> {
        let mut added = 0;
        for document in documents.iter().filter(|d| d.searchable()) {
            writer.add_document(self.fields.document(&self.reference, document))?;
            added += 1;
        }
        Ok(added)
    }

    fn commit(&self, state: &mut IndexState, position: LogPosition) -> Result<(), SearchError> {
        let payload = serde_json::to_string(&CommitPayload {
            schema_version: SCHEMA_VERSION,
            log: position.clone(),
        })
        .map_err(|e| SearchError::Io(self.dir.clone(), e.into()))?;
        let mut prepared = state.writer.prepare_commit()?;
        prepared.set_payload(&payload);
        prepared.commit()?;
        self.reader.reload()?;
        // tantivy's MmapDirectory remembers every file it ever mapped and forgets the deleted
        // ones only when asked for its cache figures. Each commit and merge maps new segment
        // files, so under a stream of writes that map grew the heap by about a megabyte a
        // minute (the soak's live-heap column).
        self.directory.get_cache_info();
        self.applied.store(position.last_id, Ordering::Relaxed);
        state.position = position;
        Ok(())
    }
}

/// Follows the change log until the index is dropped or the returned task is aborted (as a
/// stopping server does before its last catch-up). Aborting is safe at any await: a round
/// touches the writer only after its last await.
pub fn follow(search: &Arc<SearchIndex>, db: DatabaseConnection) -> tokio::task::JoinHandle<()> {
    let weak: Weak<SearchIndex> = Arc::downgrade(search);
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(FOLLOW_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let Some(search) = weak.upgrade() else { break };
            tokio::select! {
                _ = interval.tick() => {}
                _ = search.changed.notified() => {}
            }
            match search.catch_up(&db).await {
                Ok(0) => {}
                // Changes made meanwhile wait for the next commit (the nudge is kept).
                Ok(_) => tokio::time::sleep(COMMIT_SPACING).await,
                Err(error) => tracing::warn!(%error, "search index could not follow the change log; retrying"),
            }
        }
    })
}

/// The index's one writer. A server that is stopping in this process may still hold it for a
/// moment, so a busy lock is retried briefly before it is reported.
async fn take_writer(index: &Index, dir: &Path) -> Result<IndexWriter, SearchError> {
    let deadline = Instant::now() + LOCK_PATIENCE;
    loop {
        match index.writer(WRITER_MEMORY) {
            Ok(writer) => return Ok(writer),
            Err(TantivyError::LockFailure(..)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(TantivyError::LockFailure(..)) => return Err(SearchError::Locked(dir.to_owned())),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The index in `dir` and its log position, or why it must be rebuilt.
fn open_existing(directory: &MmapDirectory) -> Result<(Index, Option<LogPosition>), String> {
    if !Index::exists(directory).map_err(|e| format!("unreadable index: {e}"))? {
        return Err("no index yet".to_owned());
    }
    let index = Index::open(directory.clone()).map_err(|e| format!("unreadable index: {e}"))?;
    let payload: Option<CommitPayload> = index
        .load_metas()
        .map_err(|e| format!("unreadable index metadata: {e}"))?
        .payload
        .and_then(|p| serde_json::from_str(&p).ok());
    let Some(payload) = payload else {
        return Err("index was never completely built".to_owned());
    };
    if payload.schema_version != SCHEMA_VERSION {
        return Err(format!(
            "index schema version {} is not the current {SCHEMA_VERSION}",
            payload.schema_version
        ));
    }
    let damaged = index
        .validate_checksum()
        .map_err(|e| format!("index files unreadable: {e}"))?;
    if !damaged.is_empty() {
        return Err(format!("{} index files are corrupt", damaged.len()));
    }
    Ok((index, Some(payload.log)))
}
