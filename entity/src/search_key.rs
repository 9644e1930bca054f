//! The rule that fills the `*_search` columns: lower case, accents and punctuation folded away,
//! so `LIKE` behaves the same on SQLite and PostgreSQL ("Crèche", "creche" and "CRECHE" meet).

/// Folds `text` to lower-case ASCII words separated by single spaces.
pub fn normalize(text: &str) -> String {
    let ascii = deunicode::deunicode(text).to_lowercase();
    let mut out = String::with_capacity(ascii.len());
    for word in ascii.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(normalize("Crèche  Het Zonnetje"), "creche het zonnetje");
        assert_eq!(normalize("Sint-Niklaas"), "sint niklaas");
        assert_eq!(normalize("Province d’Anvers"), "province d anvers");
        assert_eq!(normalize("  "), "");
    }

    proptest::proptest! {
        /// Whatever a user types, the key is lower-case ASCII words with single spaces, and
        /// normalising it again changes nothing.
        #[test]
        fn any_text_folds_to_a_stable_ascii_key(text in "\\PC*") {
            let key = normalize(&text);
            proptest::prop_assert!(key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' '));
            proptest::prop_assert!(!key.starts_with(' ') && !key.ends_with(' ') && !key.contains("  "));
            proptest::prop_assert_eq!(normalize(&key), key);
        }
    }
}
