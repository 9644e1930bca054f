//! One pass over everything the query matched: each hit is scored with the ranking formula
//! (`rank`), the best `keep` are kept in order, and the facets are counted over all hits, not
//! just the page.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::fields::{LanguageOffer, unpack_position};
use entity::enums::LanguageMode;

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
            languages: self
                .languages
                .iter()
                .map(|w| (LanguageOffer::packed_code(&w.code), w.exact))
                .collect(),
            include_interpreted: self.include_interpreted,
            scored_by_text: self.scored_by_text,
            now: self.now,
            keep: self.keep,
            tie_breaker: fast.u64("tie_breaker")?,
            location: fast.u64("location")?,
            confidential_location: fast.u64("confidential_location")?,
            language_offer: fast.u64("language_offer")?,
            freshness: fast.i64("freshness")?,
            offers: Vec::new(),
            domain_counts: vec![0; domains.as_ref().map_or(0, |d| d.num_terms())],
            domains,
            covering_ords,
            language_counts: Vec::new(),
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
    /// Wanted languages as `LanguageOffer::packed_code`, and whether each is exact.
    languages: Vec<(u64, bool)>,
    include_interpreted: bool,
    scored_by_text: bool,
    now: i64,
    keep: usize,
    tie_breaker: Column<u64>,
    location: Column<u64>,
    confidential_location: Column<u64>,
    language_offer: Column<u64>,
    freshness: Column<i64>,
    /// The hit's language offers, reused from hit to hit.
    offers: Vec<u64>,
    domains: Option<StrColumn>,
    domain_counts: Vec<usize>,
    covering_ords: Option<(StrColumn, Vec<u64>)>,
    /// Per `LanguageOffer::packed_code`.
    language_counts: Vec<(u64, usize)>,
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
}

impl SegmentCollector for RankingSegmentCollector {
    type Fruit = Collected;

    fn collect(&mut self, doc: DocId, score: Score) {
        let distance = self.nearest(doc);
        if !self.covers(doc, distance) {
            return;
        }
        let mut offers = std::mem::take(&mut self.offers);
        offers.clear();
        offers.extend(self.language_offer.values_for_doc(doc));
        let language_fit = self.language_fit(&offers);
        if language_fit == Some(0.0) {
            self.offers = offers;
            return;
        }
        self.total += 1;
        if let Some(domains) = &self.domains {
            for ord in domains.term_ords(doc) {
                self.domain_counts[ord as usize] += 1;
            }
        }
        // Counted by packed code: a language offered both by staff and through an
        // interpreter (adjacent values) counts once. A few dozen languages: a list beats a map.
        let mut previous = None;
        for code in offers.iter().map(|v| v >> 8) {
            if previous != Some(code) {
                match self.language_counts.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, count)) => *count += 1,
                    None => self.language_counts.push((code, 1)),
                }
            }
            previous = Some(code);
        }
        self.offers = offers;
        if self.keep == 0 {
            return;
        }

        let freshness = self.freshness.first(doc).unwrap_or(0);
        let stale = rank::is_stale(freshness >> 1, self.now);
        let signals = Signals {
            text_score: self.scored_by_text.then_some(score),
            language_fit,
            distance_km: self.place.as_ref().map(|_| distance.map(|d| d.km)),
            stale,
            temporarily_closed: freshness & 1 == 1,
        };
        let score = rank::score(&signals);
        let full = self.best.len() >= self.keep;
        // Most hits cannot make the page: skip them before reading their tie-breaker.
        if full && self.best.peek().is_some_and(|worst| score < worst.0.0.score) {
            return;
        }
        let hit = RankedHit {
            score,
            tie_breaker: self.tie_breaker.first(doc).unwrap_or(0),
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
