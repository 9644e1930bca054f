//! Words in the families' own scripts: how they are cut out of a query and folded so that
//! the ways people write one word match ("إقامة" and "اقامة"; Persian "مکتب" typed with the
//! Arabic kaf "مكتب"; "жильё" and "жилье"; "sağlık" and "saglik"), and how the lexicon's
//! terms in those languages are found in a query. Dutch, French and English everyday phrases
//! go through those languages' analyzers instead, as domain synonyms do.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Tatweel (Arabic letter stretching), zero-width non-joiner and joiner (Persian half-space):
/// inside a word, never between words.
const IN_WORD: [char; 3] = ['\u{0640}', '\u{200C}', '\u{200D}'];

/// Arabic proclitics a word may carry before the lexicon's form: the article and "and",
/// "with", "for" in front of it ("والسكن", "بالسكن", "للسكن").
const ARABIC_PREFIXES: [&str; 9] = ["وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل"];

/// The words of a query, as typed: letters, digits and the marks written on them.
pub fn split_words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || is_combining_mark(c) || IN_WORD.contains(&c)))
        .filter(|w| !w.is_empty())
        .collect()
}

/// One word folded for matching: lower case, marks dropped (harakat, accents, hamza and
/// madda on alef), Arabic-script letter variants made one (alef forms, Persian yeh and kaf,
/// teh marbuta, heh forms), tatweel and half-spaces dropped, Turkish dotless i made i.
pub fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .nfd()
        .filter(|c| !is_combining_mark(*c) && !IN_WORD.contains(c))
        .map(|c| match c {
            'ٱ' => 'ا',
            'ى' | 'ی' | 'ې' | 'ۍ' => 'ي',
            'ک' => 'ك',
            'ة' | 'ە' | 'ھ' | 'ہ' => 'ه',
            'ı' => 'i',
            other => other,
        })
        .collect()
}

/// A folded query word and, for Arabic script, the word without its proclitics.
pub fn forms(word: &str) -> Vec<String> {
    let folded = fold(word);
    let mut forms = vec![folded.clone()];
    for prefix in ARABIC_PREFIXES {
        if let Some(rest) = folded.strip_prefix(prefix)
            && rest.chars().count() >= 2
        {
            forms.push(rest.to_owned());
        }
    }
    forms
}

/// One word of a lexicon term: folded, and whether it matches any word it begins (`*`).
#[derive(Clone, Debug, PartialEq)]
pub struct TermWord {
    pub folded: String,
    pub prefix: bool,
}

impl TermWord {
    /// The words of a term; a word ending in `*` matches any word it begins.
    pub fn of_term(term: &str) -> Vec<TermWord> {
        term.split_whitespace()
            .flat_map(|token| {
                let prefix = token.ends_with('*');
                let words = split_words(token);
                let last = words.len().saturating_sub(1);
                words.into_iter().enumerate().map(move |(at, word)| TermWord {
                    folded: fold(word),
                    prefix: prefix && at == last,
                })
            })
            .collect()
    }

    /// Whether one of a query word's `forms` is this word.
    pub fn matches(&self, forms: &[String]) -> bool {
        forms.iter().any(|form| {
            if self.prefix {
                form.starts_with(&self.folded)
            } else {
                *form == self.folded
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arabic_letter_variants_diacritics_and_tatweel_fold_alike() {
        assert_eq!(fold("إقامة"), fold("اقامه"));
        assert_eq!(fold("أكل"), fold("اكل"));
        assert_eq!(fold("سَكَن"), fold("سكن"));
        assert_eq!(fold("سـكـن"), fold("سكن"));
        assert_eq!(fold("آ"), fold("ا"));
        assert_eq!(split_words("سَكَن للعائلة"), ["سَكَن", "للعائلة"]);
    }

    #[test]
    fn persian_written_with_arabic_letters_folds_alike() {
        assert_eq!(fold("مکتب"), fold("مكتب"));
        assert_eq!(fold("کمک مالی"), fold("كمك مالي"));
        assert_eq!(split_words("می‌خواهم خانه"), ["می‌خواهم", "خانه"]);
    }

    #[test]
    fn cyrillic_and_latin_fold_their_marks() {
        assert_eq!(fold("жильё"), fold("жилье"));
        assert_eq!(fold("Sağlık"), fold("saglik"));
        assert_eq!(fold("İlaç"), fold("ilac"));
    }

    #[test]
    fn arabic_proclitics_are_tried_off() {
        assert!(forms("والسكن").contains(&fold("سكن")));
        assert!(forms("السكن").contains(&fold("سكن")));
    }

    #[test]
    fn a_starred_term_matches_the_words_it_begins() {
        let words = TermWord::of_term("житл*");
        assert_eq!(words.len(), 1);
        assert!(words[0].matches(&forms("житла")));
        assert!(!TermWord::of_term("житло")[0].matches(&forms("житла")));
        let phrase = TermWord::of_term("соціальн* допомог*");
        assert_eq!((phrase[0].prefix, phrase[1].prefix), (true, true));
        assert!(phrase[0].matches(&forms("соціальна")));
    }
}
