//! What ranking and the page read of each hit, decoded once per segment into plain arrays and
//! kept while the segment lives. Opening tantivy's columns per search and decoding them per
//! hit (bit-unpacking, optional-index ranks, zstd-compressed dictionary blocks for string
//! columns) cost more than scoring the text did. A segment never changes once written
//! (deletes are a separate bitset), so its decoded columns stay right until a merge replaces it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader, TantivyError};

use super::fields::unpack_position;
use crate::geo::Position;

/// Values per document, stored back to back.
struct PerDoc<T> {
    /// Where each document's values start in `values`; one more than documents.
    starts: Vec<u32>,
    values: Vec<T>,
}

impl<T> PerDoc<T> {
    fn build(docs: u32, mut values_of: impl FnMut(DocId, &mut Vec<T>)) -> PerDoc<T> {
        let mut starts = Vec::with_capacity(docs as usize + 1);
        let mut values = Vec::new();
        for doc in 0..docs {
            starts.push(values.len() as u32);
            values_of(doc, &mut values);
        }
        starts.push(values.len() as u32);
        values.shrink_to_fit();
        PerDoc { starts, values }
    }

    fn of(&self, doc: DocId) -> &[T] {
        let at = doc as usize;
        match (self.starts.get(at), self.starts.get(at + 1)) {
            (Some(start), Some(end)) => &self.values[*start as usize..*end as usize],
            _ => &[],
        }
    }
}

/// A located service's place, and whether it is confidential (a shelter).
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub position: Position,
    pub confidential: bool,
}

/// One segment's columns, by document id.
pub struct SegmentColumns {
    ids: Vec<Box<str>>,
    tie_breakers: Vec<u64>,
    freshness: Vec<i64>,
    places: PerDoc<Place>,
    /// `LanguageOffer::packed` values, sorted.
    language_offers: PerDoc<u64>,
    /// Indexes into `domain_codes`.
    domains: PerDoc<u32>,
    domain_codes: Vec<String>,
    /// Indexes into `area_terms`.
    areas: PerDoc<u32>,
    /// Sorted, as tantivy's dictionary is.
    area_terms: Vec<String>,
}

impl SegmentColumns {
    fn decode(segment: &SegmentReader) -> Result<SegmentColumns, TantivyError> {
        let docs = segment.max_doc();
        let fast = segment.fast_fields();
        let u64s = |name: &str| fast.u64(name);
        let (tie_breaker, location, confidential) =
            (u64s("tie_breaker")?, u64s("location")?, u64s("confidential_location")?);
        let (language_offer, freshness) = (u64s("language_offer")?, fast.i64("freshness")?);
        let (ids, id_terms) = ords(fast.str("id")?, docs)?;
        let (domains, domain_codes) = ords(fast.str("domain")?, docs)?;
        let (areas, area_terms) = ords(fast.str("area")?, docs)?;
        Ok(SegmentColumns {
            ids: (0..docs)
                .map(|doc| {
                    let id = ids.of(doc).first().map_or("", |ord| id_terms[*ord as usize].as_str());
                    Box::from(id)
                })
                .collect(),
            tie_breakers: (0..docs).map(|doc| tie_breaker.first(doc).unwrap_or(0)).collect(),
            freshness: (0..docs).map(|doc| freshness.first(doc).unwrap_or(0)).collect(),
            places: PerDoc::build(docs, |doc, out| {
                let place = |confidential| {
                    move |packed| Place {
                        position: unpack_position(packed),
                        confidential,
                    }
                };
                out.extend(location.values_for_doc(doc).map(place(false)));
                out.extend(confidential.values_for_doc(doc).map(place(true)));
            }),
            language_offers: PerDoc::build(docs, |doc, out| out.extend(language_offer.values_for_doc(doc))),
            domains,
            domain_codes,
            areas,
            area_terms,
        })
    }

    pub fn id(&self, doc: DocId) -> &str {
        self.ids.get(doc as usize).map_or("", |id| id)
    }

    pub fn tie_breaker(&self, doc: DocId) -> u64 {
        self.tie_breakers.get(doc as usize).copied().unwrap_or(0)
    }

    /// Unix seconds of the last verification times two, plus one when temporarily closed.
    pub fn freshness(&self, doc: DocId) -> i64 {
        self.freshness.get(doc as usize).copied().unwrap_or(0)
    }

    pub fn places(&self, doc: DocId) -> &[Place] {
        self.places.of(doc)
    }

    pub fn language_offers(&self, doc: DocId) -> &[u64] {
        self.language_offers.of(doc)
    }

    /// The document's domains as indexes into `domain_codes`.
    pub fn domains(&self, doc: DocId) -> &[u32] {
        self.domains.of(doc)
    }

    pub fn domain_codes(&self) -> &[String] {
        &self.domain_codes
    }

    /// The document's areas as indexes into the segment's area terms.
    pub fn areas(&self, doc: DocId) -> &[u32] {
        self.areas.of(doc)
    }

    /// Indexes of these area terms in this segment.
    pub fn area_indexes(&self, terms: &[String]) -> Vec<u32> {
        terms
            .iter()
            .filter_map(|term| self.area_terms.binary_search(term).ok())
            .map(|at| at as u32)
            .collect()
    }
}

/// A string column as term ordinals per document, and the terms in ordinal order.
fn ords(column: Option<StrColumn>, docs: u32) -> Result<(PerDoc<u32>, Vec<String>), TantivyError> {
    let Some(column) = column else {
        return Ok((PerDoc::build(docs, |_, _| {}), Vec::new()));
    };
    let mut terms = Vec::with_capacity(column.num_terms());
    let mut stream = column.dictionary().stream()?;
    while stream.advance() {
        terms.push(String::from_utf8_lossy(stream.key()).into_owned());
    }
    let per_doc = PerDoc::build(docs, |doc, out| out.extend(column.term_ords(doc).map(|ord| ord as u32)));
    Ok((per_doc, terms))
}

/// Decoded columns of the segments searched lately.
#[derive(Default)]
pub struct ColumnCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl ColumnCache {
    /// The segment's columns, decoded now if this is the first search that reads it; segments
    /// no longer in `searcher` are forgotten then.
    pub fn of(&self, searcher: &Searcher, segment: &SegmentReader) -> Result<Arc<SegmentColumns>, TantivyError> {
        let id = segment.segment_id();
        if let Some(columns) = self.lock().get(&id) {
            return Ok(columns.clone());
        }
        // Decoded outside the lock: other searches go on meanwhile.
        let columns = Arc::new(SegmentColumns::decode(segment)?);
        let mut segments = self.lock();
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        segments.retain(|kept, _| live.contains(kept));
        segments.insert(id, columns.clone());
        Ok(columns)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<SegmentColumns>>> {
        // A search that panicked mid-insert leaves a map that is still whole.
        self.segments.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
