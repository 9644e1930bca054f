//! How text is cut into searchable words, one analyzer per language the map is written in:
//! words, lower case, stop words dropped, accents folded ("crèche" = "creche"), then the
//! language's Snowball stemmer ("woningen" = "woning"). Queries go through the same analyzer
//! as the field they are matched against.

use std::cell::RefCell;

use tantivy::Index;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
    TokenizerManager,
};

use crate::reference::Lang;

/// A language services are described in and the index analyses: the map's working
/// languages. Texts in other languages are shown, not analysed; queries in the families'
/// languages go through the lexicon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Analyzed {
    Nl,
    Fr,
    En,
}

/// In field order.
pub const LANGS: [Analyzed; 3] = [Analyzed::Nl, Analyzed::Fr, Analyzed::En];

impl Analyzed {
    pub fn of(lang: Lang) -> Option<Analyzed> {
        LANGS.into_iter().find(|a| a.lang() == lang)
    }

    pub fn lang(self) -> Lang {
        match self {
            Analyzed::Nl => Lang::Nl,
            Analyzed::Fr => Lang::Fr,
            Analyzed::En => Lang::En,
        }
    }

    /// The position of its fields.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The shortest ISO 639 code, as translations and synonyms are stored.
    pub fn code(self) -> &'static str {
        self.lang().code()
    }

    /// ISO 639-3, as the lexicon names languages.
    pub fn iso639_3(self) -> &'static str {
        match self {
            Analyzed::Nl => "nld",
            Analyzed::Fr => "fra",
            Analyzed::En => "eng",
        }
    }
}

pub fn analyzer_name(lang: Analyzed) -> &'static str {
    match lang {
        Analyzed::Nl => "socialmap_nl",
        Analyzed::Fr => "socialmap_fr",
        Analyzed::En => "socialmap_en",
    }
}

fn stemmer_language(lang: Analyzed) -> Language {
    match lang {
        Analyzed::Nl => Language::Dutch,
        Analyzed::Fr => Language::French,
        Analyzed::En => Language::English,
    }
}

fn analyzer(lang: Analyzed) -> TextAnalyzer {
    let language = stemmer_language(lang);
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .dynamic();
    // Stop words are listed with accents, so they are removed before folding.
    let builder = match StopWordFilter::new(language) {
        Some(stop_words) => builder.filter_dynamic(stop_words),
        None => builder,
    };
    // Folding can yield capitals ("ꟻ" folds to "F"): lower-case again so every term is.
    builder
        .filter_dynamic(AsciiFoldingFilter)
        .filter_dynamic(LowerCaser)
        .filter_dynamic(Stemmer::new(language))
        .build()
}

/// Registers the analyzers on an index; they are code, not stored with the index.
pub fn register(index: &Index) {
    register_on(index.tokenizers());
}

fn register_on(manager: &TokenizerManager) {
    for lang in LANGS {
        manager.register(analyzer_name(lang), analyzer(lang));
    }
}

thread_local! {
    /// Building an analyzer builds its stop-word set; queries reuse one per thread.
    static ANALYZERS: RefCell<[TextAnalyzer; 3]> = RefCell::new(LANGS.map(analyzer));
}

/// The searchable words of `text` in `lang`, in order.
pub fn words(lang: Analyzed, text: &str) -> Vec<String> {
    ANALYZERS.with_borrow_mut(|analyzers| {
        let mut stream = analyzers[lang.index()].token_stream(text);
        let mut words = Vec::new();
        while let Some(token) = stream.next() {
            words.push(token.text.clone());
        }
        words
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_and_stems_per_language() {
        assert_eq!(words(Analyzed::Fr, "Crèche"), words(Analyzed::Fr, "creche"));
        assert_eq!(words(Analyzed::Nl, "woningen"), words(Analyzed::Nl, "woning"));
        assert_eq!(words(Analyzed::En, "the rents"), vec!["rent"]);
        assert_eq!(
            words(Analyzed::Nl, "hulp bij de huur"),
            words(Analyzed::Nl, "hulp huur")
        );
    }

    proptest::proptest! {
        /// Search text is whatever a volunteer types: it analyses to lower-case words, never a
        /// panic, in every language.
        #[test]
        fn any_text_analyses_to_lower_case_words(text in "\\PC{0,200}") {
            for lang in LANGS {
                for word in words(lang, &text) {
                    proptest::prop_assert!(!word.is_empty());
                    proptest::prop_assert_eq!(word.to_lowercase(), word.clone());
                }
            }
        }
    }
}
