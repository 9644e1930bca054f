//! One pass over everything the query matched: each hit is scored with the ranking formula
//! (`rank`), the best `keep` are kept in order, and the facets are counted over all hits, not
//! just the page.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap, HashMap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::fields::{LanguageOffer, unpack_position};
use super::query::{ResolvedPlace, WantedLanguage};
use super::rank::{self, Signals};
use crate::geo::distance_km;

/// What the collector needs to know of the request.
pub struct RankingCollector<'a> {
    pub place: Option<&'a ResolvedPlace>,
    pub radius_km: Option<f64>,
    pub languages: &'a [WantedLanguage],
    pub include_interpreted: bool,
    pub scored_by_text: bool,
    pub now: i64,
    /// How many of the best hits to keep: the page's offset plus its length.
    pub keep: usize,
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
    pub total: usize,
    pub domain_counts: BTreeMap<String, usize>,
    pub language_counts: BTreeMap<String, usize>,
}

impl Collector for RankingCollector<'_> {
    type Fruit = Collected;
    type Child = RankingSegmentCollector;

    fn for_segment(&self, segment_ord: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<Self::Child> {
        let fast = segment.fast_fields();
        let domains = fast.str("domain")?;
        // Within a radius the area is checked here, not in the query (see `query`).
        let covering_ords = match (self.radius_km, fast.str("area")?) {
            (Some(_), Some(areas)) => {
                let mut ords = Vec::new();
                for term in self.place.map(|p| p.coverage.as_slice()).unwrap_or_default() {
                    ords.extend(areas.dictionary().term_ord(term)?);
                }
                Some((areas, ords))
            }
            _ => None,
        };
        Ok(RankingSegmentCollector {
            segment_ord,
            place: self.place.cloned(),
            radius_km: self.radius_km,
            languages: self.languages.to_vec(),
            include_interpreted: self.include_interpreted,
            scored_by_text: self.scored_by_text,
            now: self.now,
            keep: self.keep,
            tie_breaker: fast.u64("tie_breaker")?,
            location: fast.u64("location")?,
            confidential_location: fast.u64("confidential_location")?,
            language_offer: fast.u64("language_offer")?,
            verified_at: fast.i64("verified_at")?,
            closed: fast.u64("closed")?,
            domain_counts: vec![0; domains.as_ref().map_or(0, |d| d.num_terms())],
            domains,
            covering_ords,
            language_counts: HashMap::new(),
            best: BinaryHeap::new(),
            total: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored_by_text
    }

    fn merge_fruits(&self, fruits: Vec<Collected>) -> tantivy::Result<Collected> {
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
        Ok(merged)
    }
}

pub struct RankingSegmentCollector {
    segment_ord: SegmentOrdinal,
    place: Option<ResolvedPlace>,
    radius_km: Option<f64>,
    languages: Vec<WantedLanguage>,
    include_interpreted: bool,
    scored_by_text: bool,
    now: i64,
    keep: usize,
    tie_breaker: Column<u64>,
    location: Column<u64>,
    confidential_location: Column<u64>,
    language_offer: Column<u64>,
    verified_at: Column<i64>,
    closed: Column<u64>,
    domains: Option<StrColumn>,
    domain_counts: Vec<usize>,
    covering_ords: Option<(StrColumn, Vec<u64>)>,
    language_counts: HashMap<u64, usize>,
    best: BinaryHeap<Reverse<Ranked>>,
    total: usize,
}

impl RankingSegmentCollector {
    fn nearest(&self, doc: DocId) -> Option<Distance> {
        let origin = self.place.as_ref()?.position;
        let public = self.location.values_for_doc(doc).map(|p| (p, false));
        let confidential = self.confidential_location.values_for_doc(doc).map(|p| (p, true));
        public
            .chain(confidential)
            .map(|(packed, confidential)| Distance {
                km: distance_km(origin, unpack_position(packed)),
                confidential,
            })
            .min_by(|a, b| a.km.total_cmp(&b.km))
    }

    fn covers(&self, doc: DocId, distance: Option<Distance>) -> bool {
        let (Some(radius), Some((areas, ords))) = (self.radius_km, &self.covering_ords) else {
            return true;
        };
        distance.is_some_and(|d| d.km <= radius) || areas.term_ords(doc).any(|ord| ords.contains(&ord))
    }

    fn language_fit(&self, doc: DocId) -> Option<f32> {
        if self.languages.is_empty() {
            return None;
        }
        let fit = self
            .language_offer
            .values_for_doc(doc)
            .map(LanguageOffer::unpack)
            .filter(|offer| self.include_interpreted || offer.mode == entity::enums::LanguageMode::Staff)
            .filter_map(|offer| {
                let wanted = self.languages.iter().find(|w| w.code == offer.code)?;
                Some(rank::language_fit(offer.mode, wanted.exact))
            })
            .fold(0.0, f32::max);
        Some(fit)
    }
}

impl SegmentCollector for RankingSegmentCollector {
    type Fruit = Collected;

    fn collect(&mut self, doc: DocId, score: Score) {
        let distance = self.nearest(doc);
        if !self.covers(doc, distance) {
            return;
        }
        let language_fit = self.language_fit(doc);
        if language_fit == Some(0.0) {
            return;
        }
        self.total += 1;
        if let Some(domains) = &self.domains {
            for ord in domains.term_ords(doc) {
                self.domain_counts[ord as usize] += 1;
            }
        }
        // Counted by packed code (mode bit dropped): no allocation per hit.
        let mut languages: Vec<u64> = self.language_offer.values_for_doc(doc).map(|v| v >> 8).collect();
        languages.sort_unstable();
        languages.dedup();
        for code in languages {
            *self.language_counts.entry(code).or_default() += 1;
        }

        let stale = rank::is_stale(self.verified_at.first(doc).unwrap_or(0), self.now);
        let signals = Signals {
            text_score: self.scored_by_text.then_some(score),
            language_fit,
            distance_km: self.place.as_ref().map(|_| distance.map(|d| d.km)),
            stale,
            temporarily_closed: self.closed.first(doc) == Some(1),
        };
        let hit = RankedHit {
            score: rank::score(&signals),
            tie_breaker: self.tie_breaker.first(doc).unwrap_or(0),
            address: DocAddress::new(self.segment_ord, doc),
            distance,
            stale,
        };
        if self.keep == 0 {
            return;
        }
        if self.best.len() < self.keep {
            self.best.push(Reverse(Ranked(hit)));
        } else if let Some(worst) = self.best.peek()
            && hit.rank_cmp(&worst.0.0) == Ordering::Greater
        {
            self.best.pop();
            self.best.push(Reverse(Ranked(hit)));
        }
    }

    fn harvest(self) -> Collected {
        let mut domain_counts = BTreeMap::new();
        if let Some(domains) = &self.domains {
            let mut code = String::new();
            for (ord, count) in self.domain_counts.iter().enumerate().filter(|(_, c)| **c > 0) {
                if domains.ord_to_str(ord as u64, &mut code).unwrap_or(false) {
                    domain_counts.insert(code.clone(), *count);
                }
            }
        }
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
