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

/// The languages services are described in, in field order.
pub const LANGS: [Lang; 3] = [Lang::Nl, Lang::Fr, Lang::En];

pub fn analyzer_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Nl => "socialmap_nl",
        Lang::Fr => "socialmap_fr",
        Lang::En => "socialmap_en",
    }
}

fn stemmer_language(lang: Lang) -> Language {
    match lang {
        Lang::Nl => Language::Dutch,
        Lang::Fr => Language::French,
        Lang::En => Language::English,
    }
}

fn analyzer(lang: Lang) -> TextAnalyzer {
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
pub fn words(lang: Lang, text: &str) -> Vec<String> {
    let at = LANGS.iter().position(|l| *l == lang).unwrap_or(0);
    ANALYZERS.with_borrow_mut(|analyzers| {
        let mut stream = analyzers[at].token_stream(text);
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
        assert_eq!(words(Lang::Fr, "Crèche"), words(Lang::Fr, "creche"));
        assert_eq!(words(Lang::Nl, "woningen"), words(Lang::Nl, "woning"));
        assert_eq!(words(Lang::En, "the rents"), vec!["rent"]);
        assert_eq!(words(Lang::Nl, "hulp bij de huur"), words(Lang::Nl, "hulp huur"));
    }

    proptest::proptest! {
        /// Search text is whatever a volunteer types: it analyses to lower-case words, never a
        /// panic, in every language.
        #[test]
        fn any_text_analyses_to_lower_case_words(text in "\\PC{0,200}") {
            for lang in [Lang::Nl, Lang::Fr, Lang::En] {
                for word in words(lang, &text) {
                    proptest::prop_assert!(!word.is_empty());
                    proptest::prop_assert_eq!(word.to_lowercase(), word.clone());
                }
            }
        }
    }
}
