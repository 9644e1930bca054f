//! What a search keeps of the documents its plan matched (`execute`): each hit is scored with
//! the ranking formula (`rank`) and the best `keep` are kept in order. When the answer shows
//! the total or the facets, every hit is counted; otherwise only the hits that could still
//! make the page need to be looked at: the ranking multiplies the text score by factors of at
//! most 1, so a hit whose text score is below the page's worst score (`bar`) cannot make it.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

use std::sync::Arc;

use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use super::columns::{ColumnCache, SegmentColumns};
use super::fields::LanguageOffer;
use entity::enums::LanguageMode;

use super::query::{ResolvedPlace, WantedLanguage};
use super::rank::{self, Signals};
use crate::geo::{Position, distance_km};

/// What the collector needs to know of the request.
pub struct RankingCollector<'a> {
    pub searcher: &'a Searcher,
    pub columns: &'a ColumnCache,
    pub place: Option<&'a ResolvedPlace>,
    pub radius_km: Option<f64>,
    pub languages: &'a [WantedLanguage],
    pub include_interpreted: bool,
    pub scored_by_text: bool,
    pub now: i64,
    /// How many of the best hits to keep: the page's offset plus its length.
    pub keep: usize,
    /// Whether every hit is visited and counted: for the total, and for the facets.
    pub count: Counting,
}

/// What a search counts over the whole result set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// Only the best hits are looked for.
    Nothing,
    Total,
    TotalAndFacets,
}

/// Distance to a service's nearest location; confidential ones are only shown coarsely.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distance {
    pub km: f64,
    pub confidential: bool,
}

#[derive(Clone, Debug)]
pub struct RankedHit {
    pub score: Score,
    pub tie_breaker: u64,
    pub address: DocAddress,
    /// `None` without a place or without a located service.
    pub distance: Option<Distance>,
    pub stale: bool,
}

impl RankedHit {
    /// Better hits compare greater.
    fn rank_cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.tie_breaker.cmp(&self.tie_breaker))
    }
}

struct Ranked(RankedHit);

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.rank_cmp(&other.0)
    }
}

#[derive(Default)]
pub struct Collected {
    /// Best first.
    pub hits: Vec<RankedHit>,
    /// Counted unless `Counting::Nothing`.
    pub total: usize,
    pub domain_counts: BTreeMap<String, usize>,
    pub language_counts: BTreeMap<String, usize>,
}

impl RankingCollector<'_> {
    pub fn for_segment(
        &self,
        segment_ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<RankingSegmentCollector> {
        let columns = self.columns.of(self.searcher, segment)?;
        // Within a radius the area is checked here, not in the query (see `query`).
        let covering = match (self.radius_km, self.place) {
            (Some(_), Some(place)) => Some(columns.area_indexes(&place.coverage)),
            _ => None,
        };
        Ok(RankingSegmentCollector {
            segment_ord,
            origin: self.place.map(|p| p.position),
            radius_km: self.radius_km,
            languages: self
                .languages
                .iter()
                .map(|w| (LanguageOffer::packed_code(&w.code), w.exact))
                .collect(),
            include_interpreted: self.include_interpreted,
            scored_by_text: self.scored_by_text,
            now: self.now,
            keep: self.keep,
            count: self.count,
            domain_counts: vec![0; columns.domain_codes().len()],
            columns,
            covering,
            language_counts: Vec::new(),
            best: BinaryHeap::new(),
            total: 0,
        })
    }

    /// The segments' hits and counts as one.
    pub fn merge(&self, fruits: Vec<Collected>) -> Collected {
        let mut merged = Collected::default();
        for fruit in fruits {
            merged.total += fruit.total;
            merged.hits.extend(fruit.hits);
            for (code, count) in fruit.domain_counts {
                *merged.domain_counts.entry(code).or_default() += count;
            }
            for (code, count) in fruit.language_counts {
                *merged.language_counts.entry(code).or_default() += count;
            }
        }
        merged.hits.sort_by(|a, b| b.rank_cmp(a));
        merged.hits.truncate(self.keep);
        merged
    }
}

pub struct RankingSegmentCollector {
    segment_ord: SegmentOrdinal,
    origin: Option<Position>,
    radius_km: Option<f64>,
    /// Wanted languages as `LanguageOffer::packed_code`, and whether each is exact.
    languages: Vec<(u64, bool)>,
    include_interpreted: bool,
    scored_by_text: bool,
    now: i64,
    keep: usize,
    count: Counting,
    columns: Arc<SegmentColumns>,
    /// Within a radius: the segment's indexes of the areas that cover the family.
    covering: Option<Vec<u32>>,
    /// Per index into the segment's domain codes.
    domain_counts: Vec<usize>,
    /// Per `LanguageOffer::packed_code`.
    language_counts: Vec<(u64, usize)>,
    best: BinaryHeap<Reverse<Ranked>>,
    total: usize,
}

impl RankingSegmentCollector {
    /// The text score a hit needs to make the page, once it is full: the page's worst score
    /// (a hit's score is its text score times factors of at most 1; one scoring as much as
    /// the worst may still win on the tie-breaker).
    pub fn bar(&self) -> Option<Score> {
        self.best
            .peek()
            .filter(|_| self.best.len() >= self.keep)
            .map(|worst| worst.0.0.score)
    }

    /// Whether every hit must be visited: to count them.
    pub fn counts(&self) -> bool {
        self.count != Counting::Nothing
    }

    fn nearest(&self, doc: DocId) -> Option<Distance> {
        let origin = self.origin?;
        self.columns
            .places(doc)
            .iter()
            .map(|place| Distance {
                km: distance_km(origin, place.position),
                confidential: place.confidential,
            })
            .min_by(|a, b| a.km.total_cmp(&b.km))
    }

    fn covers(&self, doc: DocId, distance: Option<Distance>) -> bool {
        let (Some(radius), Some(covering)) = (self.radius_km, &self.covering) else {
            return true;
        };
        distance.is_some_and(|d| d.km <= radius) || self.columns.areas(doc).iter().any(|a| covering.contains(a))
    }

    fn language_fit(&self, offers: &[u64]) -> Option<f32> {
        if self.languages.is_empty() {
            return None;
        }
        let fit = offers
            .iter()
            .copied()
            .filter_map(|value| {
                let mode = LanguageOffer::mode_of(value);
                if !self.include_interpreted && mode == LanguageMode::Interpreter {
                    return None;
                }
                let (_, exact) = self.languages.iter().find(|(code, _)| *code == value >> 8)?;
                Some(rank::language_fit(mode, *exact))
            })
            .fold(0.0, f32::max);
        Some(fit)
    }

    fn count_facets(&mut self, doc: DocId) {
        let columns = &*self.columns;
        for domain in columns.domains(doc) {
            self.domain_counts[*domain as usize] += 1;
        }
        // Counted by packed code: a language offered both by staff and through an
        // interpreter (adjacent values) counts once. A few dozen languages: a list beats a map.
        let mut previous = None;
        for code in columns.language_offers(doc).iter().map(|v| v >> 8) {
            if previous != Some(code) {
                match self.language_counts.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, count)) => *count += 1,
                    None => self.language_counts.push((code, 1)),
                }
            }
            previous = Some(code);
        }
    }

    /// Looks at one document the plan matched, with its text score (0 without text).
    pub fn collect(&mut self, doc: DocId, score: Score) {
        let language_fit = self.language_fit(self.columns.language_offers(doc));
        if language_fit == Some(0.0) {
            return;
        }
        let freshness = self.columns.freshness(doc);
        let stale = rank::is_stale(freshness >> 1, self.now);
        let mut signals = Signals {
            text_score: self.scored_by_text.then_some(score),
            language_fit,
            distance_km: None,
            stale,
            temporarily_closed: freshness & 1 == 1,
        };
        // A hit that could not make the page even next door is dropped before its distance is
        // measured, unless it is to be counted.
        if self.count == Counting::Nothing
            && let Some(bar) = self.bar()
            && rank::score(&signals) < bar
        {
            return;
        }
        let distance = self.nearest(doc);
        if !self.covers(doc, distance) {
            return;
        }
        self.total += 1;
        if self.count == Counting::TotalAndFacets {
            self.count_facets(doc);
        }
        if self.keep == 0 {
            return;
        }

        signals.distance_km = self.origin.map(|_| distance.map(|d| d.km));
        let score = rank::score(&signals);
        let full = self.best.len() >= self.keep;
        // Most hits cannot make the page: skip them before building a hit.
        if full && self.best.peek().is_some_and(|worst| score < worst.0.0.score) {
            return;
        }
        let hit = RankedHit {
            score,
            tie_breaker: self.columns.tie_breaker(doc),
            address: DocAddress::new(self.segment_ord, doc),
            distance,
            stale,
        };
        if !full {
            self.best.push(Reverse(Ranked(hit)));
        } else if let Some(worst) = self.best.peek()
            && hit.rank_cmp(&worst.0.0) == Ordering::Greater
        {
            self.best.pop();
            self.best.push(Reverse(Ranked(hit)));
        }
    }

    pub fn harvest(self) -> Collected {
        let codes = self.columns.domain_codes();
        let domain_counts = self
            .domain_counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .filter_map(|(at, count)| Some((codes.get(at)?.clone(), *count)))
            .collect();
        Collected {
            hits: self.best.into_iter().map(|Reverse(Ranked(hit))| hit).collect(),
            total: self.total,
            domain_counts,
            language_counts: self
                .language_counts
                .into_iter()
                .map(|(code, count)| (LanguageOffer::unpack(code << 8).code, count))
                .collect(),
        }
    }
}
