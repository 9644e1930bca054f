//! From a volunteer's question to a tantivy query: the family's place, the filters, and the
//! free text with typo correction and domain synonyms.

use std::collections::HashMap;
use std::ops::Bound;

use entity::enums::{Access, TargetGroup};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::{Searcher, TantivyError};

use super::SearchError;
use super::analysis::{LANGS, words};
use super::fields::{Coverage, Fields, enum_term, target_group_term};
use super::lexicon::{self, TermWord};
use crate::geo::Position;
use crate::reference::{Lang, ReferenceData};

/// Longer text is not a search but a paste; refusing it keeps queries cheap.
pub const MAX_TEXT_CHARS: usize = 500;
/// Words beyond these are ignored.
const MAX_WORDS: usize = 16;
/// A point further than this from every municipality centre is not on our map.
const MAX_KM_FROM_MAP: f64 = 30.0;
pub const MAX_RADIUS_KM: f64 = 300.0;

/// Boosts of the text fields: a word in a service's name says more than one in its
/// description; the organization name and domain words say least.
const NAME_BOOST: f32 = 2.0;
const DESCRIPTION_BOOST: f32 = 1.0;
const CONTEXT_BOOST: f32 = 0.7;
/// Score of a domain the query names by label or synonym ("huis zoeken" → housing), about
/// what a good word match in a description earns.
const SYNONYM_SCORE: f32 = 3.0;
/// Weight of a word that names a domain, against 1 for the others.
const NAMING_WORD_WEIGHT: f32 = 0.3;
/// Corrections kept per misspelt word, most frequent first.
const CORRECTIONS_PER_WORD: usize = 3;

/// The family's place.
#[derive(Clone, Debug, PartialEq)]
pub enum Near {
    PostalCode(String),
    Municipality(String),
    Position(Position),
}

/// One search, as the domain sees it; GraphQL input maps onto it.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    pub text: Option<String>,
    pub near: Option<Near>,
    pub radius_km: Option<f64>,
    pub domains: Vec<String>,
    pub languages: Vec<String>,
    pub include_interpreted: bool,
    pub target_groups: Vec<TargetGroup>,
    pub age: Option<i32>,
    pub free_only: bool,
    pub access: Option<Access>,
    pub lang: Lang,
    pub shown: Shown,
}

/// What the answer shows beyond the page's hits, so that a search does only that work: the
/// total and the facets mean visiting every hit instead of the best ones, snippets mean
/// reading and cutting descriptions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown {
    pub total: bool,
    pub facets: bool,
    pub snippets: bool,
}

impl Shown {
    pub const EVERYTHING: Shown = Shown {
        total: true,
        facets: true,
        snippets: true,
    };
    /// The page's hits and their explanations alone.
    pub const HITS: Shown = Shown {
        total: false,
        facets: false,
        snippets: false,
    };
}

impl Default for SearchRequest {
    fn default() -> Self {
        SearchRequest {
            text: None,
            near: None,
            radius_km: None,
            domains: Vec::new(),
            languages: Vec::new(),
            include_interpreted: true,
            target_groups: Vec::new(),
            age: None,
            free_only: false,
            access: None,
            lang: Lang::Nl,
            shown: Shown::EVERYTHING,
        }
    }
}

/// The family's place resolved: where distances are measured from, and the index terms of
/// the areas that cover it.
#[derive(Clone, Debug)]
pub struct ResolvedPlace {
    pub position: Position,
    pub coverage: Vec<String>,
}

/// A language asked for, as one of the codes it matches: `exact` when it is the code asked
/// for, not a relative through its macrolanguage.
#[derive(Clone, Debug)]
pub struct WantedLanguage {
    pub code: String,
    pub exact: bool,
}

/// A request checked against reference data, ready to run (`execute`).
pub struct Plan {
    pub place: Option<ResolvedPlace>,
    pub radius_km: Option<f64>,
    pub languages: Vec<WantedLanguage>,
    pub include_interpreted: bool,
    /// Domain codes that explain a hit: the ones filtered on and the ones the text named.
    pub explaining_domains: Vec<String>,
    /// The words the text was understood by, and as what.
    pub understood: Vec<Understood>,
    /// What a hit must match, each of them; they do not score.
    pub filters: Vec<Filter>,
    /// The text, if there was text: a hit must match one of its clauses, and they score it.
    pub text: Option<TextMatch>,
}

/// A condition a hit must meet.
pub enum Filter {
    /// One of these terms, of any field.
    AnyTerm(Vec<Term>),
    /// Any other query (an age range).
    Query(Box<dyn Query>),
}

/// The text of a search as scoring clauses, any of which a hit must match; its text score is
/// the sum of the clauses it matches.
pub struct TextMatch {
    pub clauses: Vec<TextClause>,
}

pub enum TextClause {
    /// A word in one text field: BM25 times `boost`.
    Word { term: Term, boost: f32 },
    /// A domain the text names: a constant.
    Domain { term: Term, score: f32 },
}

impl TextMatch {
    /// The same as one tantivy query, which scores as `execute` does: for snippets.
    pub fn query(&self) -> Box<dyn Query> {
        if self.clauses.is_empty() {
            return Box::new(EmptyQuery);
        }
        let clauses = self
            .clauses
            .iter()
            .map(|clause| {
                let query: Box<dyn Query> = match clause {
                    TextClause::Word { term, boost } => Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        *boost,
                    )),
                    TextClause::Domain { term, score } => Box::new(ConstScoreQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::Basic)),
                        *score,
                    )),
                };
                (Occur::Should, query)
            })
            .collect();
        Box::new(BooleanQuery::new(clauses))
    }
}

impl SearchRequest {
    pub fn plan(
        &self,
        reference: &ReferenceData,
        fields: &Fields,
        vocabulary: &DomainVocabulary,
        searcher: &Searcher,
    ) -> Result<Plan, SearchError> {
        let place = self
            .near
            .as_ref()
            .map(|near| resolve_place(reference, near))
            .transpose()?;
        if let Some(km) = self.radius_km {
            if !(km > 0.0 && km <= MAX_RADIUS_KM) {
                return Err(SearchError::BadRadius(km));
            }
            if place.is_none() {
                return Err(SearchError::RadiusWithoutPlace);
            }
        }
        if let Some(age) = self.age
            && !(0..=130).contains(&age)
        {
            return Err(SearchError::BadAge(age));
        }
        let text = self.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        if let Some(text) = text
            && text.chars().count() > MAX_TEXT_CHARS
        {
            return Err(SearchError::TextTooLong(text.chars().count()));
        }

        let mut filters: Vec<Filter> = Vec::new();
        // Coverage is a term lookup, the most selective filter. Within a radius a service may
        // qualify by a location instead: the grid cells around the family are looked up too,
        // and the collector measures each distance.
        match (&place, self.radius_km) {
            (Some(place), None) => filters.push(any_term(fields.area, &place.coverage)),
            (Some(place), Some(km)) => {
                if let Some(cells) = crate::geo::cells_near(place.position, km) {
                    let areas = place.coverage.iter().map(|c| Term::from_field_text(fields.area, c));
                    let cells = cells.iter().map(|cell| Term::from_field_text(fields.cell, cell));
                    filters.push(Filter::AnyTerm(areas.chain(cells).collect()));
                }
            }
            (None, _) => {}
        }
        let mut explaining_domains = Vec::new();
        if !self.domains.is_empty() {
            let codes = reference.expand_domains(&self.domains)?;
            filters.push(any_term(fields.domain, &codes));
            explaining_domains.extend(codes);
        }
        let languages = wanted_languages(reference, &self.languages)?;
        if !languages.is_empty() {
            let mut terms: Vec<Term> = Vec::new();
            for language in &languages {
                terms.push(Term::from_field_text(fields.staff_language, &language.code));
                if self.include_interpreted {
                    terms.push(Term::from_field_text(fields.interpreted_language, &language.code));
                }
            }
            filters.push(Filter::AnyTerm(terms));
        }
        if !self.target_groups.is_empty() {
            // A service for everyone serves every group.
            let mut groups: Vec<String> = self.target_groups.iter().map(|g| target_group_term(*g)).collect();
            groups.push(target_group_term(TargetGroup::Everyone));
            filters.push(any_term(fields.target_group, &groups));
        }
        if let Some(age) = self.age {
            let age = i64::from(age);
            filters.push(Filter::Query(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(fields.age_min, age)),
            ))));
            filters.push(Filter::Query(Box::new(RangeQuery::new(
                Bound::Included(Term::from_field_i64(fields.age_max, age)),
                Bound::Unbounded,
            ))));
        }
        if self.free_only {
            filters.push(any_term(fields.cost, &[enum_term(&entity::enums::Cost::Free)]));
        }
        if let Some(access) = self.access {
            filters.push(any_term(fields.access, &[enum_term(&access)]));
        }

        let mut understood = Vec::new();
        let text = match text {
            Some(text) => {
                let planned = text_match(fields, vocabulary, searcher, text)?;
                explaining_domains.extend(planned.named);
                understood = planned.understood;
                Some(planned.text)
            }
            None => None,
        };
        explaining_domains.sort();
        explaining_domains.dedup();
        Ok(Plan {
            place,
            radius_km: self.radius_km,
            languages,
            include_interpreted: self.include_interpreted,
            explaining_domains,
            understood,
            filters,
            text,
        })
    }
}

/// Documents with any of `values` in `field`.
fn any_term(field: Field, values: &[String]) -> Filter {
    Filter::AnyTerm(values.iter().map(|v| Term::from_field_text(field, v)).collect())
}

/// Where the family is: the point distances are measured from, and the municipalities it
/// lives in (a postal code may span several), whose coverage decides which services serve it.
#[derive(Clone, Debug)]
pub struct FamilyPlace {
    pub position: Position,
    pub municipalities: Vec<String>,
}

/// The family's place as search understands it. Public so that other implementations (the
/// benchmark's PostgreSQL baseline) apply the very same rule.
pub fn locate_family(reference: &ReferenceData, near: &Near) -> Result<FamilyPlace, SearchError> {
    match near {
        Near::PostalCode(code) => {
            let code = code.trim();
            let postal_code = reference
                .postal_code(code)
                .ok_or_else(|| SearchError::UnknownPostalCode(code.to_owned()))?;
            let municipalities = reference.municipalities_of_postal_code(code);
            let first = municipalities
                .first()
                .and_then(|m| reference.municipality(m))
                .ok_or_else(|| SearchError::UnknownPostalCode(code.to_owned()))?;
            let position = match (postal_code.latitude, postal_code.longitude) {
                (Some(latitude), Some(longitude)) => Position::new(latitude, longitude),
                _ => Position::new(first.latitude, first.longitude),
            };
            Ok(FamilyPlace {
                position,
                municipalities: municipalities.to_vec(),
            })
        }
        Near::Municipality(code) => {
            let municipality = reference.require_municipality(code.trim())?;
            Ok(FamilyPlace {
                position: Position::new(municipality.latitude, municipality.longitude),
                municipalities: vec![municipality.code.clone()],
            })
        }
        Near::Position(position) => {
            if !(-90.0..=90.0).contains(&position.latitude) || !(-180.0..=180.0).contains(&position.longitude) {
                return Err(SearchError::BadCoordinates);
            }
            // Without municipal borders, a point belongs to the municipality whose centre is
            // nearest: right for coverage in all but border streets.
            let (municipality, _) = reference
                .nearest_municipality(*position)
                .filter(|(_, km)| *km <= MAX_KM_FROM_MAP)
                .ok_or(SearchError::OutsideMap)?;
            Ok(FamilyPlace {
                position: *position,
                municipalities: vec![municipality.code.clone()],
            })
        }
    }
}

fn resolve_place(reference: &ReferenceData, near: &Near) -> Result<ResolvedPlace, SearchError> {
    let family = locate_family(reference, near)?;
    let mut coverage: Vec<String> = family
        .municipalities
        .iter()
        .flat_map(|code| Coverage::of_municipality(reference, code))
        .collect();
    coverage.sort();
    coverage.dedup();
    Ok(ResolvedPlace {
        position: family.position,
        coverage,
    })
}

fn wanted_languages(reference: &ReferenceData, inputs: &[String]) -> Result<Vec<WantedLanguage>, SearchError> {
    let mut wanted: Vec<WantedLanguage> = Vec::new();
    for input in inputs {
        let asked = reference.normalize_language(input)?.code.clone();
        for code in reference.matching_languages(&asked) {
            let exact = code == asked;
            match wanted.iter_mut().find(|w| w.code == code) {
                Some(known) => known.exact |= exact,
                None => wanted.push(WantedLanguage { code, exact }),
            }
        }
    }
    Ok(wanted)
}

/// The text part of a search.
struct TextPlan {
    text: TextMatch,
    /// The domains the text names.
    named: Vec<String>,
    understood: Vec<Understood>,
}

/// The text as a query over every language's fields, and the domains it names.
///
/// Words that name a domain ("huis zoeken" → housing) count mostly through that domain: on
/// their own they would rank "open huis" above every housing service.
fn text_match(
    fields: &Fields,
    vocabulary: &DomainVocabulary,
    searcher: &Searcher,
    text: &str,
) -> Result<TextPlan, SearchError> {
    let raw_words: Vec<&str> = lexicon::split_words(text).into_iter().take(MAX_WORDS).collect();
    // Each word as each language's analyzer sees it (nothing if it is a stop word there).
    let analysed: Vec<Vec<(usize, String)>> = LANGS
        .iter()
        .map(|lang| {
            raw_words
                .iter()
                .enumerate()
                .filter_map(|(at, raw)| words(*lang, raw).into_iter().next().map(|w| (at, w)))
                .collect()
        })
        .collect();
    let (named, naming_words, understood) = vocabulary.named_in(&raw_words, &analysed);

    let mut clauses = Vec::new();
    for at in 0..raw_words.len() {
        let forms: Vec<(usize, &String)> = analysed
            .iter()
            .enumerate()
            .filter_map(|(i, seq)| seq.iter().find(|(a, _)| *a == at).map(|(_, w)| (i, w)))
            .collect();
        let known = forms.iter().try_fold(false, |known, (i, word)| {
            Ok::<_, TantivyError>(known || is_indexed(searcher, fields, *i, word)?)
        })?;
        let weight = if naming_words.contains(&at) {
            NAMING_WORD_WEIGHT
        } else {
            1.0
        };
        for (i, word) in forms {
            let terms = if known {
                vec![word.clone()]
            } else if word.chars().count() >= 5 {
                corrections(searcher, fields, i, word)?
            } else {
                Vec::new()
            };
            for term in terms {
                for (field, boost) in [
                    (fields.name[i], NAME_BOOST),
                    (fields.description[i], DESCRIPTION_BOOST),
                    (fields.context[i], CONTEXT_BOOST),
                ] {
                    clauses.push(TextClause::Word {
                        term: Term::from_field_text(field, &term),
                        boost: boost * weight,
                    });
                }
            }
        }
    }
    for code in &named {
        clauses.push(TextClause::Domain {
            term: Term::from_field_text(fields.domain, code),
            score: SYNONYM_SCORE,
        });
    }
    Ok(TextPlan {
        text: TextMatch { clauses },
        named,
        understood,
    })
}

fn text_fields(fields: &Fields, lang_index: usize) -> [Field; 3] {
    [
        fields.name[lang_index],
        fields.description[lang_index],
        fields.context[lang_index],
    ]
}

fn is_indexed(searcher: &Searcher, fields: &Fields, lang_index: usize, word: &str) -> Result<bool, TantivyError> {
    for field in text_fields(fields, lang_index) {
        if searcher.doc_freq(&Term::from_field_text(field, word))? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Indexed words one typo away from `word` (two for words of 10 letters or more), the most
/// frequent first: "huurcontrat" → "huurcontract".
fn corrections(
    searcher: &Searcher,
    fields: &Fields,
    lang_index: usize,
    word: &str,
) -> Result<Vec<String>, TantivyError> {
    let distance = if word.chars().count() >= 10 { 2 } else { 1 };
    // The automaton depends on the word only; building it is the costly part.
    let automaton =
        FuzzyTermQuery::new(Term::from_field_text(fields.name[lang_index], word), distance, true).automaton()?;
    let mut found: HashMap<String, u64> = HashMap::new();
    for field in text_fields(fields, lang_index) {
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().search(&automaton).into_stream()?;
            while stream.advance() {
                if let Ok(term) = std::str::from_utf8(stream.key()) {
                    *found.entry(term.to_owned()).or_default() += u64::from(stream.value().doc_freq);
                }
            }
        }
    }
    let mut found: Vec<(String, u64)> = found.into_iter().collect();
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(found
        .into_iter()
        .take(CORRECTIONS_PER_WORD)
        .map(|(term, _)| term)
        .collect())
}

/// How a query's words came to name a domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The domain's label.
    Label,
    /// One of the domain's synonyms.
    Synonym,
    /// A lexicon term: the families' languages, or everyday words.
    Lexicon,
}

/// Words of the query understood as naming a domain, to tell the volunteer why.
#[derive(Clone, Debug, PartialEq)]
pub struct Understood {
    /// The words as typed.
    pub text: String,
    pub domain_code: String,
    /// ISO 639-3 code of the language the words were understood in.
    pub language: String,
    pub via: Via,
    /// False for lexicon terms no speaker of the language has reviewed yet.
    pub reviewed: bool,
}

/// A phrase that names a domain, and where it comes from.
struct Naming {
    code: String,
    language: String,
    via: Via,
    reviewed: bool,
}

/// Domain labels, synonyms and lexicon terms, to see which domains a query names: in Dutch,
/// French and English as analysed word sequences, in the families' languages as folded words.
pub struct DomainVocabulary {
    phrases: Vec<(Naming, usize, Vec<String>)>,
    /// Phrases by their language's field index and first word.
    phrases_by_start: HashMap<(usize, String), Vec<usize>>,
    foreign: Vec<(Naming, Vec<TermWord>)>,
    /// Foreign terms by the first two letters of their first word (one, for a word of one):
    /// a query word only looks at the terms that could begin with it.
    foreign_by_start: HashMap<String, Vec<usize>>,
}

/// The first `letters` letters of `word`, if it has that many.
fn opening(word: &str, letters: usize) -> Option<&str> {
    let end = word.char_indices().nth(letters).map_or(word.len(), |(at, _)| at);
    (word[..end].chars().count() == letters).then_some(&word[..end])
}

impl DomainVocabulary {
    pub fn new(reference: &ReferenceData) -> Self {
        let mut phrases = Vec::new();
        for domain in reference.domains() {
            for (i, lang) in LANGS.into_iter().enumerate() {
                let mut texts = vec![(reference.domain_label(domain, lang.lang()).text, Via::Label)];
                texts.extend(
                    reference
                        .synonyms_of(&domain.code)
                        .iter()
                        .filter(|s| s.lang == lang.code())
                        .map(|s| (s.synonym.clone(), Via::Synonym)),
                );
                for (text, via) in texts {
                    let analysed = words(lang, &text);
                    if !analysed.is_empty() {
                        let naming = Naming {
                            code: domain.code.clone(),
                            language: lang.iso639_3().to_owned(),
                            via,
                            reviewed: true,
                        };
                        phrases.push((naming, i, analysed));
                    }
                }
            }
        }
        let mut foreign = Vec::new();
        for term in reference.lexicon() {
            let naming = Naming {
                code: term.domain_code.clone(),
                language: term.language.clone(),
                via: Via::Lexicon,
                reviewed: term.reviewed,
            };
            match LANGS.into_iter().find(|l| l.iso639_3() == term.language) {
                Some(lang) => {
                    let analysed = words(lang, &term.term);
                    if !analysed.is_empty() {
                        phrases.push((naming, lang.index(), analysed));
                    }
                }
                None => {
                    let words = TermWord::of_term(&term.term);
                    if !words.is_empty() {
                        foreign.push((naming, words));
                    }
                }
            }
        }
        let mut phrases_by_start: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for (at, (_, i, phrase)) in phrases.iter().enumerate() {
            phrases_by_start.entry((*i, phrase[0].clone())).or_default().push(at);
        }
        let mut foreign_by_start: HashMap<String, Vec<usize>> = HashMap::new();
        for (at, (_, words)) in foreign.iter().enumerate() {
            let first = &words[0].folded;
            let key = opening(first, 2).or_else(|| opening(first, 1)).unwrap_or_default();
            foreign_by_start.entry(key.to_owned()).or_default().push(at);
        }
        DomainVocabulary {
            phrases,
            phrases_by_start,
            foreign,
            foreign_by_start,
        }
    }

    /// Domains whose label, a synonym or a lexicon term appears in a query: word for word
    /// after analysis in the query analysed per language (`(word position, word)` per
    /// language), or folded in `raw` (the words as typed). Returns the domains, the positions
    /// of the words that named them, and what was understood.
    pub fn named_in<'a>(
        &'a self,
        raw: &[&str],
        query: &[Vec<(usize, String)>],
    ) -> (Vec<String>, Vec<usize>, Vec<Understood>) {
        let mut named = Vec::new();
        let mut naming_words = Vec::new();
        let mut found: Vec<(Vec<usize>, &Naming)> = Vec::new();
        let mut note = |naming: &'a Naming, positions: &[usize]| found.push((positions.to_vec(), naming));
        // Candidates by their first word, then checked in vocabulary order, so what is
        // understood comes out in the same order as a scan of the whole vocabulary would give.
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        for (i, seq) in query.iter().enumerate() {
            for (start, (_, word)) in seq.iter().enumerate() {
                if let Some(found) = self.phrases_by_start.get(&(i, word.clone())) {
                    candidates.extend(found.iter().map(|at| (*at, start)));
                }
            }
        }
        candidates.sort_unstable();
        for (at, start) in candidates {
            let (naming, i, phrase) = &self.phrases[at];
            let Some(window) = query[*i].get(start..start + phrase.len()) else {
                continue;
            };
            if window.iter().map(|(_, w)| w).eq(phrase.iter()) {
                named.push(naming.code.clone());
                let positions: Vec<usize> = window.iter().map(|(at, _)| *at).collect();
                note(naming, &positions);
                naming_words.extend(positions);
            }
        }
        let forms: Vec<Vec<String>> = raw.iter().map(|w| lexicon::forms(w)).collect();
        let mut candidates: Vec<(usize, usize)> = Vec::new();
        for (start, word_forms) in forms.iter().enumerate() {
            for key in word_forms.iter().flat_map(|f| [opening(f, 1), opening(f, 2)]).flatten() {
                if let Some(found) = self.foreign_by_start.get(key) {
                    candidates.extend(found.iter().map(|at| (*at, start)));
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        for (at, start) in candidates {
            let (naming, term) = &self.foreign[at];
            let Some(words) = forms.get(start..start + term.len()) else {
                continue;
            };
            if term.iter().zip(words).all(|(word, forms)| word.matches(forms)) {
                named.push(naming.code.clone());
                let positions: Vec<usize> = (start..start + term.len()).collect();
                note(naming, &positions);
                naming_words.extend(positions);
            }
        }
        // Each domain once per words; words inside a longer match for the same domain
        // ("kiralık" in "kiralık ev") add nothing.
        found.sort_by_key(|(positions, _)| (positions[0], std::cmp::Reverse(positions.len())));
        let mut understood: Vec<Understood> = Vec::new();
        for (at, (positions, naming)) in found.iter().enumerate() {
            let covered = found.iter().enumerate().any(|(other, (longer, by))| {
                other != at
                    && by.code == naming.code
                    && longer.len() > positions.len()
                    && positions.iter().all(|p| longer.contains(p))
            });
            let text = positions.iter().map(|p| raw[*p]).collect::<Vec<_>>().join(" ");
            if covered
                || understood
                    .iter()
                    .any(|u| u.text == text && u.domain_code == naming.code)
            {
                continue;
            }
            understood.push(Understood {
                text,
                domain_code: naming.code.clone(),
                language: naming.language.clone(),
                via: naming.via,
                reviewed: naming.reviewed,
            });
        }
        named.sort();
        named.dedup();
        naming_words.sort_unstable();
        naming_words.dedup();
        (named, naming_words, understood)
    }
}
