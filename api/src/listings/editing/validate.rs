//! What the map accepts, with messages that name the field a front end should highlight.

use crate::geo::{Position, distance_km};
use crate::listings::{Field, ListingsError};
use crate::reference::ReferenceData;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 5_000;
/// Longer web addresses break browsers and link checkers; nobody types one.
pub const MAX_URL_CHARS: usize = 2_000;
/// The most an email address can be (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
/// Room for a number with its country code, spaces and an extension.
pub const MAX_PHONE_CHARS: usize = 40;

/// Belgium and the Netherlands, each as a latitude/longitude box: what the map covers.
const COUNTRY_BOXES: [(&str, [f64; 4]); 2] = [
    ("Belgium", [49.49, 51.51, 2.54, 6.41]),
    ("the Netherlands", [50.75, 53.56, 3.35, 7.23]),
];

/// A location pinned this far from its municipality's centre is in the wrong place (the
/// largest Belgian municipalities are about 25 km across).
const MAX_KM_FROM_MUNICIPALITY: f64 = 30.0;

pub fn invalid<T>(field: Field, reason: impl Into<String>) -> Result<T, ListingsError> {
    Err(ListingsError::Invalid(field, reason.into()))
}

/// Whether `c` shows nothing by itself: whitespace, control characters, Unicode format
/// characters (category Cf: the soft hyphen, zero-width space, joiners, direction marks and
/// bidi controls, the byte-order mark, tags…), variation selectors and the fillers and blanks
/// that render as empty space. Inside text some of them matter (a zero-width non-joiner in
/// Persian, a joiner in an emoji); alone they say nothing.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            u32::from(c),
            // Format characters (Cf).
            0x00AD
                | 0x0600..=0x0605
                | 0x061C
                | 0x06DD
                | 0x070F
                | 0x0890..=0x0891
                | 0x08E2
                | 0x180E
                | 0x200B..=0x200F
                | 0x202A..=0x202E
                | 0x2060..=0x206F
                | 0xFEFF
                | 0xFFF9..=0xFFFB
                | 0x110BD
                | 0x110CD
                | 0x13430..=0x1343F
                | 0x1BCA0..=0x1BCA3
                | 0x1D173..=0x1D17A
                | 0xE0000..=0xE007F
                // Combining grapheme joiner, variation selectors, Hangul fillers, Khmer
                // inherent vowels, Mongolian free variation selectors, the braille blank.
                | 0x034F
                | 0x115F..=0x1160
                | 0x17B4..=0x17B5
                | 0x180B..=0x180D
                | 0x180F
                | 0x2800
                | 0x3164
                | 0xFE00..=0xFE0F
                | 0xFFA0
                | 0xE0100..=0xE01EF
        )
}

/// Whether `value` is empty once the characters that show nothing are left out.
pub fn is_blank(value: &str) -> bool {
    value.chars().all(is_invisible)
}

/// A text that must say something: spaces and invisible characters do not count.
pub fn required(field: Field, value: &str) -> Result<(), ListingsError> {
    if is_blank(value) {
        return invalid(field, BLANK);
    }
    Ok(())
}

/// Why a blank text is refused, for the checks that word their own message around it.
pub const BLANK: &str = "must not be empty (spaces and invisible characters such as zero-width spaces do not count)";

/// Bidi embedding, override and isolate controls: in a name they can make the text around it
/// display in another order than it is written (`\u{202e}OCMW` shows as `WMCO`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that never begin or end a name on purpose: whitespace, the zero-width space,
/// joiners, the word joiner, the byte-order mark and the soft hyphen. Direction marks stay:
/// they place punctuation at the end of a right-to-left name.
fn is_padding(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// A name as it is stored: without bidi controls, and without whitespace or zero-width
/// characters at either end.
pub fn tidy_name(value: &str) -> String {
    let kept: String = value.chars().filter(|c| !is_bidi_control(*c)).collect();
    kept.trim_matches(is_padding).to_owned()
}

/// A name: not blank and not too long.
pub fn name(field: Field, value: &str) -> Result<(), ListingsError> {
    required(field, value)?;
    text(field, value, MAX_NAME_CHARS)
}

pub fn text(field: Field, value: &str, max_chars: usize) -> Result<(), ListingsError> {
    if value.chars().count() > max_chars {
        return invalid(field, format!("is longer than {max_chars} characters"));
    }
    Ok(())
}

/// An optional text where the empty string means "none".
pub fn optional_text(field: Field, value: Option<&str>, max_chars: usize) -> Result<(), ListingsError> {
    value.map_or(Ok(()), |v| text(field, v, max_chars))
}

pub fn email(field: Field, value: Option<&str>) -> Result<(), ListingsError> {
    match value.filter(|e| !e.trim().is_empty()) {
        Some(email) if email.chars().count() > MAX_EMAIL_CHARS => invalid(
            field,
            format!("is longer than {MAX_EMAIL_CHARS} characters, the most an email address has"),
        ),
        Some(email) if !crate::auth::looks_like_email(email) => {
            invalid(field, format!("`{email}` is not an email address"))
        }
        _ => Ok(()),
    }
}

pub fn phone(field: Field, value: Option<&str>) -> Result<(), ListingsError> {
    let Some(phone) = value.filter(|p| !p.trim().is_empty()) else {
        return Ok(());
    };
    if phone.chars().count() > MAX_PHONE_CHARS {
        return invalid(
            field,
            format!("is longer than {MAX_PHONE_CHARS} characters: give one phone number such as +32 53 00 00 10"),
        );
    }
    if !crate::auth::looks_like_phone(phone) {
        return invalid(
            field,
            format!("`{phone}` is not a phone number such as +32 53 00 00 10"),
        );
    }
    Ok(())
}

pub fn url(field: Field, value: Option<&str>) -> Result<(), ListingsError> {
    match value.filter(|u| !u.trim().is_empty()) {
        Some(url) if url.chars().count() > MAX_URL_CHARS => invalid(
            field,
            format!(
                "is longer than {MAX_URL_CHARS} characters: give the address of the organization's or service's page, without tracking parameters"
            ),
        ),
        Some(url)
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) =>
        {
            invalid(
                field,
                format!("`{url}` must be a web address starting with https:// or http://"),
            )
        }
        _ => Ok(()),
    }
}

/// An age in years.
pub fn age(field: Field, value: Option<i32>) -> Result<(), ListingsError> {
    match value {
        Some(age) if !(0..=130).contains(&age) => invalid(field, format!("must be between 0 and 130, got {age}")),
        _ => Ok(()),
    }
}

pub fn age_range(min: Option<i32>, max: Option<i32>) -> Result<(), ListingsError> {
    age(Field::AgeMin, min)?;
    age(Field::AgeMax, max)?;
    match (min, max) {
        (Some(min), Some(max)) if min > max => invalid(
            Field::AgeMin,
            format!("must not be above the maximum age ({max}), got {min}"),
        ),
        _ => Ok(()),
    }
}

/// Coordinates: both or neither, in Belgium or the Netherlands, near the municipality.
pub fn coordinates(
    reference: &ReferenceData,
    municipality_code: &str,
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Result<(), ListingsError> {
    let (latitude, longitude) = match (latitude, longitude) {
        (None, None) => return Ok(()),
        (Some(latitude), Some(longitude)) => (latitude, longitude),
        (Some(_), None) => return invalid(Field::Longitude, "is needed with latitude"),
        (None, Some(_)) => return invalid(Field::Latitude, "is needed with longitude"),
    };
    let inside = |[south, north, west, east]: [f64; 4]| {
        (south..=north).contains(&latitude) && (west..=east).contains(&longitude)
    };
    if !COUNTRY_BOXES.iter().any(|(_, area)| inside(*area)) {
        let countries = COUNTRY_BOXES.map(|(name, _)| name).join(" or ");
        return invalid(
            Field::Latitude,
            format!(
                "and longitude ({latitude}, {longitude}) are outside {countries}; give decimal degrees, latitude first (Aalst is 50.94, 4.04)"
            ),
        );
    }
    if let Some(municipality) = reference.municipality(municipality_code) {
        let km = distance_km(
            Position::new(latitude, longitude),
            Position::new(municipality.latitude, municipality.longitude),
        );
        if km > MAX_KM_FROM_MUNICIPALITY {
            return invalid(
                Field::Latitude,
                format!(
                    "and longitude ({latitude}, {longitude}) lie {km:.0} km from {}; check the position or the municipality",
                    municipality.name_nl
                ),
            );
        }
    }
    Ok(())
}

/// A Belgian enterprise number (KBO/BCE), written as 0123.456.749 or 0123456749: ten
/// digits, the first 0 or 1, the last two a check on the first eight (97 minus their
/// remainder by 97), so that a mistyped digit is caught.
pub fn kbo_number(value: Option<&str>) -> Result<(), ListingsError> {
    let Some(number) = value.filter(|k| !k.trim().is_empty()) else {
        return Ok(());
    };
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let allowed = number.chars().all(|c| c.is_ascii_digit() || " .".contains(c));
    if number.chars().count() > 20 {
        return invalid(
            Field::KboNumber,
            "is longer than an enterprise number such as 0207.437.468",
        );
    }
    if !(allowed && digits.len() == 10 && digits.starts_with(['0', '1'])) {
        return invalid(
            Field::KboNumber,
            format!("`{number}` is not an enterprise number such as 0207.437.468 (ten digits, starting with 0 or 1)"),
        );
    }
    let (base, check) = digits.split_at(8);
    let (base, check): (u64, u64) = (base.parse().unwrap_or_default(), check.parse().unwrap_or_default());
    if base == 0 || 97 - base % 97 != check {
        return invalid(
            Field::KboNumber,
            format!(
                "`{number}` is not a valid enterprise number: its last two digits do not match the first eight; check it in the KBO public search"
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kbo_numbers_have_ten_digits_and_a_right_check() {
        assert!(kbo_number(Some("0207.437.468")).is_ok());
        assert!(kbo_number(Some("0207437468")).is_ok());
        assert!(kbo_number(Some("0207 437 468")).is_ok());
        assert!(kbo_number(Some("0123.456.749")).is_ok());
        assert!(kbo_number(Some("207.437.468")).is_err());
        assert!(kbo_number(Some("BE0207437468")).is_err());
        assert!(kbo_number(Some("0207.437.469")).is_err(), "a wrong check");
        assert!(kbo_number(Some("0207.437.486")).is_err(), "two digits swapped");
        assert!(kbo_number(Some("0000.000.000")).is_err(), "all zeros");
        assert!(kbo_number(Some("0000.000.097")).is_err(), "zero with its check");
        assert!(kbo_number(Some("2207.437.4xx")).is_err());
        assert!(kbo_number(Some("2000.000.068")).is_err(), "starts with 2");
    }

    #[test]
    fn invisible_characters_make_no_name() {
        for blank in [
            "",
            "   ",
            "\u{200b}",
            "\u{202e}",
            "\u{feff}",
            "\u{200b}\u{200c}\u{200d}\u{2060}",
            "\u{2066}\u{2069}\u{200e}\u{200f}",
            "\u{3164}\u{115f}\u{2800}",
            "\u{00a0}\u{3000}\u{fe0f}",
            "\u{e0001}\u{e0041}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
            assert!(name(Field::Name, blank).is_err(), "{blank:?}");
        }
        // Persian writes the zero-width non-joiner inside words; an emoji joins with ZWJ.
        for shown in ["می\u{200c}خواهم", "👨\u{200d}👩\u{200d}👧", "OCMW", "❤\u{fe0f}"] {
            assert!(!is_blank(shown), "{shown:?}");
        }
    }

    #[test]
    fn names_lose_bidi_controls_and_zero_width_padding() {
        assert_eq!(tidy_name("\u{feff} OCMW Aalst\u{200b} "), "OCMW Aalst");
        assert_eq!(tidy_name("Huis \u{202e}tnaw\u{202c}"), "Huis tnaw");
        assert_eq!(tidy_name("\u{2067}مركز\u{2069}"), "مركز");
        assert_eq!(tidy_name("می\u{200c}خواهم"), "می\u{200c}خواهم");
        assert_eq!(tidy_name("(ABC)\u{200f}"), "(ABC)\u{200f}", "a direction mark stays");
    }

    #[test]
    fn addresses_have_a_sane_length() {
        let long = format!("https://example.org/{}", "a".repeat(5_000));
        assert!(url(Field::Url, Some(&long)).is_err());
        assert!(url(Field::Url, Some(&format!("https://example.org/{}", "a".repeat(1_900)))).is_ok());
        let email_address = format!("{}@example.org", "a".repeat(250));
        assert!(
            matches!(email(Field::Email, Some(&email_address)), Err(ListingsError::Invalid(_, why)) if !why.contains("aaaa"))
        );
        assert!(phone(Field::Phone, Some(&format!("+32 53{}00 00 10", " ".repeat(40)))).is_err());
    }

    #[test]
    fn urls_need_a_scheme_and_no_spaces() {
        assert!(url(Field::Url, Some("https://www.ocmw-aalst.be")).is_ok());
        assert!(url(Field::Url, Some("www.ocmw-aalst.be")).is_err());
        assert!(url(Field::Url, Some("https://ocmw aalst.be")).is_err());
        assert!(url(Field::Url, Some("")).is_ok());
    }
}
