//! What the map accepts, with messages that name the field a front end should highlight.

use crate::geo::{Position, distance_km};
use crate::listings::ListingsError;
use crate::reference::ReferenceData;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_TEXT_CHARS: usize = 5_000;

/// Belgium and the Netherlands, each as a latitude/longitude box: what the map covers.
const COUNTRY_BOXES: [(&str, [f64; 4]); 2] = [
    ("Belgium", [49.49, 51.51, 2.54, 6.41]),
    ("the Netherlands", [50.75, 53.56, 3.35, 7.23]),
];

/// A location pinned this far from its municipality's centre is in the wrong place (the
/// largest Belgian municipalities are about 25 km across).
const MAX_KM_FROM_MUNICIPALITY: f64 = 30.0;

pub fn invalid<T>(field: &'static str, reason: impl Into<String>) -> Result<T, ListingsError> {
    Err(ListingsError::Invalid(field, reason.into()))
}

/// A name: not empty and not too long.
pub fn name(field: &'static str, value: &str) -> Result<(), ListingsError> {
    if value.trim().is_empty() {
        return invalid(field, "must not be empty");
    }
    text(field, value, MAX_NAME_CHARS)
}

pub fn text(field: &'static str, value: &str, max_chars: usize) -> Result<(), ListingsError> {
    if value.chars().count() > max_chars {
        return invalid(field, format!("is longer than {max_chars} characters"));
    }
    Ok(())
}

/// An optional text where the empty string means "none".
pub fn optional_text(field: &'static str, value: Option<&str>, max_chars: usize) -> Result<(), ListingsError> {
    value.map_or(Ok(()), |v| text(field, v, max_chars))
}

pub fn email(field: &'static str, value: Option<&str>) -> Result<(), ListingsError> {
    match value.filter(|e| !e.trim().is_empty()) {
        Some(email) if !crate::auth::looks_like_email(email) => {
            invalid(field, format!("`{email}` is not an email address"))
        }
        _ => Ok(()),
    }
}

pub fn phone(field: &'static str, value: Option<&str>) -> Result<(), ListingsError> {
    let Some(phone) = value.filter(|p| !p.trim().is_empty()) else {
        return Ok(());
    };
    if !crate::auth::looks_like_phone(phone) {
        return invalid(
            field,
            format!("`{phone}` is not a phone number such as +32 53 00 00 10"),
        );
    }
    Ok(())
}

pub fn url(field: &'static str, value: Option<&str>) -> Result<(), ListingsError> {
    match value.filter(|u| !u.trim().is_empty()) {
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
pub fn age(field: &'static str, value: Option<i32>) -> Result<(), ListingsError> {
    match value {
        Some(age) if !(0..=130).contains(&age) => invalid(field, format!("must be between 0 and 130, got {age}")),
        _ => Ok(()),
    }
}

pub fn age_range(min: Option<i32>, max: Option<i32>) -> Result<(), ListingsError> {
    age("ageMin", min)?;
    age("ageMax", max)?;
    match (min, max) {
        (Some(min), Some(max)) if min > max => {
            invalid("ageMin", format!("must not be above ageMax ({max}), got {min}"))
        }
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
        (Some(_), None) => return invalid("longitude", "is needed with latitude"),
        (None, Some(_)) => return invalid("latitude", "is needed with longitude"),
    };
    let inside = |[south, north, west, east]: [f64; 4]| {
        (south..=north).contains(&latitude) && (west..=east).contains(&longitude)
    };
    if !COUNTRY_BOXES.iter().any(|(_, area)| inside(*area)) {
        let countries = COUNTRY_BOXES.map(|(name, _)| name).join(" or ");
        return invalid(
            "latitude",
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
                "latitude",
                format!(
                    "and longitude ({latitude}, {longitude}) lie {km:.0} km from {}; check the position or the municipality",
                    municipality.name_nl
                ),
            );
        }
    }
    Ok(())
}

/// A Belgian enterprise number (KBO/BCE): ten digits, written as 0123.456.789 or 0123456789.
pub fn kbo_number(value: Option<&str>) -> Result<(), ListingsError> {
    let Some(number) = value.filter(|k| !k.trim().is_empty()) else {
        return Ok(());
    };
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let allowed = number.chars().all(|c| c.is_ascii_digit() || " .".contains(c));
    if !allowed || digits.len() != 10 {
        return invalid(
            "kboNumber",
            format!("`{number}` is not an enterprise number such as 0207.437.468"),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kbo_numbers_have_ten_digits() {
        assert!(kbo_number(Some("0207.437.468")).is_ok());
        assert!(kbo_number(Some("0207437468")).is_ok());
        assert!(kbo_number(Some("207.437.468")).is_err());
        assert!(kbo_number(Some("BE0207437468")).is_err());
    }

    #[test]
    fn urls_need_a_scheme_and_no_spaces() {
        assert!(url("url", Some("https://www.ocmw-aalst.be")).is_ok());
        assert!(url("url", Some("www.ocmw-aalst.be")).is_err());
        assert!(url("url", Some("https://ocmw aalst.be")).is_err());
        assert!(url("url", Some("")).is_ok());
    }
}
