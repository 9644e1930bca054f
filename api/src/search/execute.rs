//! Runs a search plan over the index, one segment at a time: the filters become the set of
//! documents they allow (kept per segment for the places, domains and languages asked again,
//! `FilterCache`), then the text is scored a term at a time into a sum per document, reading
//! each posting list once, in order, block by block; a document is scored only when the
//! filters allow it, and only documents with a text score reach the collector.
//!
//! tantivy's boolean query did the same work document at a time: it intersected the filters
//! with the union of the text's terms by seeking every term's postings for each candidate,
//! and scored every document of the union, allowed or not. Under the bench's mix of questions
//! that was most of a search's time (BENCHMARKS.md, "Profiles").
//!
//! The scores are tantivy's: the same BM25 statistics and weights (`Bm25Weight`), boosted as
//! its `BoostQuery` does and summed as its `BooleanQuery` does (in another order, so the last
//! bit of a float may differ); `TextMatch::query` is that query, for snippets.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use fixedbitset::FixedBitSet;
use lru::LruCache;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::{BlockSegmentPostings, TermInfo};
use tantivy::query::{Bm25Weight, EnableScoring, Weight};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::{DocId, Score, Searcher, SegmentReader};

use super::collect::{Collected, RankingCollector, RankingSegmentCollector};
use super::query::{Filter, Plan, TextClause};

/// Per-document sums, reused from search to search: a map of 100,000 services needs 400 kB
/// of them, and allocating and zeroing that per search would cost more than scoring.
#[derive(Default)]
pub struct Scratch {
    /// Text score per document of the segment; zero where `touched` does not list it.
    scores: Vec<Score>,
    touched: Vec<DocId>,
}

impl Scratch {
    /// Zeroes what the last segment touched, also when it stopped half-way on an error.
    fn reset(&mut self, max_doc: DocId) {
        for doc in self.touched.drain(..) {
            self.scores[doc as usize] = 0.0;
        }
        if self.scores.len() < max_doc as usize {
            self.scores.resize(max_doc as usize, 0.0);
        }
    }

    fn add(&mut self, doc: DocId, score: Score) {
        let sum = &mut self.scores[doc as usize];
        // Every clause scores above zero, so zero means not touched yet.
        if *sum == 0.0 {
            self.touched.push(doc);
        }
        *sum += score;
    }
}

/// The scratch space of the searches running now: at most one per search slot.
#[derive(Default)]
pub struct ScratchPool(Mutex<Vec<Scratch>>);

impl ScratchPool {
    fn take(&self) -> Scratch {
        self.0.lock().ok().and_then(|mut pool| pool.pop()).unwrap_or_default()
    }

    fn give(&self, scratch: Scratch) {
        if let Ok(mut pool) = self.0.lock() {
            pool.push(scratch);
        }
    }
}

/// Touched documents a result list orders at a time, best text first (`score_text`).
const ORDERED_AT_ONCE: usize = 256;

/// Filters kept: the places and domains asked for most. A filter of a map of 100,000
/// services is 12.5 kB per segment.
const CACHED_FILTERS: NonZeroUsize = NonZeroUsize::new(512).unwrap();

/// The documents each term filter allows, per segment: the family's place and the domains
/// come back search after search, and a segment never changes once written (deletes are
/// checked apart), so its sets stay right until a merge retires it; retired ones age out.
pub struct FilterCache(Mutex<LruCache<FilterKey, Arc<FixedBitSet>>>);

/// A segment, and the terms of which a document must have one.
type FilterKey = (SegmentId, Vec<Term>);

impl Default for FilterCache {
    fn default() -> Self {
        FilterCache(Mutex::new(LruCache::new(CACHED_FILTERS)))
    }
}

impl FilterCache {
    fn any_term(&self, reader: &SegmentReader, terms: &[Term]) -> tantivy::Result<Arc<FixedBitSet>> {
        let key = (reader.segment_id(), terms.to_vec());
        if let Some(set) = self.lock().get(&key) {
            return Ok(set.clone());
        }
        let mut set = FixedBitSet::with_capacity(reader.max_doc() as usize);
        for term in terms {
            let inverted = reader.inverted_index(term.field())?;
            if let Some(info) = inverted.get_term_info(term)? {
                let postings = inverted.read_block_postings_from_terminfo(&info, IndexRecordOption::Basic);
                each_block(postings, |docs, _| {
                    docs.iter().for_each(|doc| set.insert(*doc as usize))
                })?;
            }
        }
        let set = Arc::new(set);
        self.lock().put(key, set.clone());
        Ok(set)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<FilterKey, Arc<FixedBitSet>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A text clause weighed against the whole index, with where its postings are in each segment
/// (`None` where the segment does not hold it).
enum Weighed {
    Word {
        field: Field,
        bm25: Bm25Weight,
        at: Vec<Option<TermInfo>>,
    },
    Domain {
        field: Field,
        score: Score,
        at: Vec<Option<TermInfo>>,
    },
}

/// A filter ready for any segment.
enum Prepared<'a> {
    AnyTerm(&'a [Term]),
    Weight(Box<dyn Weight>),
}

/// Runs `plan`, handing what it matches to `collector`.
pub fn run(
    searcher: &Searcher,
    plan: &Plan,
    collector: &RankingCollector,
    pool: &ScratchPool,
    cache: &FilterCache,
) -> tantivy::Result<Collected> {
    let filters = plan
        .filters
        .iter()
        .map(|filter| match filter {
            Filter::AnyTerm(terms) => Ok(Prepared::AnyTerm(terms)),
            Filter::Query(query) => Ok(Prepared::Weight(
                query.weight(EnableScoring::disabled_from_searcher(searcher))?,
            )),
        })
        .collect::<tantivy::Result<Vec<Prepared>>>()?;
    let text = match &plan.text {
        Some(text) => Some(weigh(searcher, &text.clauses)?),
        None => None,
    };
    let mut scratch = pool.take();
    let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
    let mut result = Ok(());
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let segment = collector.for_segment(ord as u32, reader).and_then(|mut child| {
            let allowed = allowed(reader, &filters, cache)?;
            match &text {
                Some(clauses) => score_text(reader, ord, clauses, allowed.as_deref(), &mut scratch, &mut child)?,
                None => collect_allowed(reader, allowed.as_deref(), &mut child),
            }
            Ok(child.harvest())
        });
        match segment {
            Ok(fruit) => fruits.push(fruit),
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    pool.give(scratch);
    result.map(|()| collector.merge(fruits))
}

/// The text's clauses with their BM25 weights over the whole index, as `TermQuery` and
/// `BoostQuery` weigh them (`Bm25Weight::for_terms` with one term); words the index does not
/// hold are left out. Each term is looked up once per segment, here.
fn weigh(searcher: &Searcher, clauses: &[TextClause]) -> tantivy::Result<Vec<Weighed>> {
    let segments = searcher.segment_readers();
    let total_docs: u64 = segments.iter().map(|s| u64::from(s.max_doc())).sum();
    let mut weighed = Vec::with_capacity(clauses.len());
    for clause in clauses {
        let term = match clause {
            TextClause::Word { term, .. } | TextClause::Domain { term, .. } => term,
        };
        let at = segments
            .iter()
            .map(|segment| Ok(segment.inverted_index(term.field())?.get_term_info(term)?))
            .collect::<tantivy::Result<Vec<Option<TermInfo>>>>()?;
        let doc_freq: u64 = at.iter().flatten().map(|info| u64::from(info.doc_freq)).sum();
        if doc_freq == 0 {
            continue;
        }
        weighed.push(match clause {
            TextClause::Word { boost, .. } => {
                let tokens: u64 = segments
                    .iter()
                    .map(|segment| Ok(segment.inverted_index(term.field())?.total_num_tokens()))
                    .sum::<tantivy::Result<u64>>()?;
                let average_fieldnorm = tokens as Score / total_docs as Score;
                let bm25 = Bm25Weight::for_one_term(doc_freq, total_docs, average_fieldnorm).boost_by(*boost);
                Weighed::Word {
                    field: term.field(),
                    bm25,
                    at,
                }
            }
            TextClause::Domain { score, .. } => Weighed::Domain {
                field: term.field(),
                score: *score,
                at,
            },
        });
    }
    Ok(weighed)
}

/// Calls `visit` with each block of postings: documents, and their term frequencies when
/// `option` reads them.
fn each_block(
    postings: std::io::Result<BlockSegmentPostings>,
    mut visit: impl FnMut(&[DocId], &[u32]),
) -> tantivy::Result<()> {
    let mut postings = postings?;
    loop {
        let docs = postings.docs();
        if docs.is_empty() {
            return Ok(());
        }
        visit(docs, postings.freqs());
        postings.advance();
    }
}

/// The documents every filter allows, deleted ones included; `None` without filters. A lone
/// kept set is shared, not copied.
fn allowed(
    reader: &SegmentReader,
    filters: &[Prepared],
    cache: &FilterCache,
) -> tantivy::Result<Option<Arc<FixedBitSet>>> {
    let mut allowed: Option<Arc<FixedBitSet>> = None;
    for filter in filters {
        let set = match filter {
            Prepared::AnyTerm(terms) => cache.any_term(reader, terms)?,
            Prepared::Weight(weight) => {
                let mut set = FixedBitSet::with_capacity(reader.max_doc() as usize);
                weight.for_each_no_score(reader, &mut |docs| {
                    docs.iter().for_each(|doc| set.insert(*doc as usize));
                })?;
                Arc::new(set)
            }
        };
        allowed = Some(match allowed {
            Some(mut both) => {
                Arc::make_mut(&mut both).intersect_with(&set);
                both
            }
            None => set,
        });
    }
    Ok(allowed)
}

/// Scores the text in one segment and hands the documents it matches to `child`: every one
/// when the answer counts them, else best first until none can make the page.
fn score_text(
    reader: &SegmentReader,
    segment: usize,
    clauses: &[Weighed],
    allowed: Option<&FixedBitSet>,
    scratch: &mut Scratch,
    child: &mut RankingSegmentCollector,
) -> tantivy::Result<()> {
    scratch.reset(reader.max_doc());
    let alive = reader.alive_bitset();
    let passes =
        |doc: DocId| allowed.is_none_or(|set| set.contains(doc as usize)) && alive.is_none_or(|a| a.is_alive(doc));
    for clause in clauses {
        let (Weighed::Word { field, at, .. } | Weighed::Domain { field, at, .. }) = clause;
        let Some(info) = at.get(segment).and_then(Option::as_ref) else {
            continue;
        };
        let inverted = reader.inverted_index(*field)?;
        match clause {
            Weighed::Word { bm25, .. } => {
                // As `TermWeight` reads them: a field without norms counts every text as one token.
                let norms = match reader.fieldnorms_readers().get_field(*field)? {
                    Some(norms) => norms,
                    None => FieldNormReader::constant(reader.max_doc(), 1),
                };
                let postings = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs);
                each_block(postings, |docs, freqs| {
                    for (&doc, &freq) in docs.iter().zip(freqs) {
                        if passes(doc) {
                            scratch.add(doc, bm25.score(norms.fieldnorm_id(doc), freq));
                        }
                    }
                })?;
            }
            Weighed::Domain { score, .. } => {
                let postings = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic);
                each_block(postings, |docs, _| {
                    for &doc in docs {
                        if passes(doc) {
                            scratch.add(doc, *score);
                        }
                    }
                })?;
            }
        }
    }
    let Scratch { scores, touched } = scratch;
    if child.counts() {
        for &doc in touched.iter() {
            child.collect(doc, scores[doc as usize]);
        }
        return Ok(());
    }
    // Best text first: once a text score is below the page's worst, no later hit can make it.
    // Ordered a slice at a time: most searches stop within the first, and a text alone touches
    // a tenth of a large map, too many to sort whole.
    let best_first = |a: &DocId, b: &DocId| scores[*b as usize].total_cmp(&scores[*a as usize]);
    let mut rest = &mut touched[..];
    while !rest.is_empty() {
        let take = ORDERED_AT_ONCE.min(rest.len());
        if take < rest.len() {
            rest.select_nth_unstable_by(take - 1, best_first);
        }
        let (best, others) = rest.split_at_mut(take);
        best.sort_unstable_by(best_first);
        for &doc in best.iter() {
            let score = scores[doc as usize];
            if child.bar().is_some_and(|bar| score < bar) {
                return Ok(());
            }
            child.collect(doc, score);
        }
        rest = others;
    }
    Ok(())
}

/// Without text, every allowed document is a hit (every one of the segment without filters).
fn collect_allowed(reader: &SegmentReader, allowed: Option<&FixedBitSet>, child: &mut RankingSegmentCollector) {
    let alive = reader.alive_bitset();
    let mut visit = |doc: DocId| {
        if alive.is_none_or(|a| a.is_alive(doc)) {
            child.collect(doc, 0.0);
        }
    };
    match allowed {
        Some(set) => set.ones().for_each(|doc| visit(doc as DocId)),
        None => (0..reader.max_doc()).for_each(visit),
    }
}
