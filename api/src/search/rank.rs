//! The ranking formula. A hit's score is a product of four factors:
//!
//! ```text
//! score = relevance × language_fit × proximity × freshness
//! ```
//!
//! - `relevance`: the text's BM25 score over names (×2), descriptions (×1) and organization
//!   and domain words (×0.7), plus 3 for a domain the text names by label or synonym; 1 when
//!   there is no text, so filters alone rank on the other factors.
//! - `language_fit` (when languages are asked for): staff who speak the language 1.0, staff
//!   who speak a language of the same macrolanguage 0.9, an interpreter for the language 0.6
//!   (0.55 for a relative). A family understands staff better than an interpreter, but an
//!   interpreter is far better than nothing, so it lowers a hit rather than hiding it.
//! - `proximity` (when a place is given): `1 / (1 + km / 15)`: a service 15 km away counts half
//!   as much as one next door, 45 km a quarter; families travel by bus. A service without a
//!   location (phone, online) counts as 15 km away: reachable, but no substitute for help
//!   nearby.
//! - `freshness`: 0.75 for a stale listing (not verified for 12 months), 0.5 for a service
//!   temporarily closed: still shown, because a volunteer may know better, but below the
//!   listings that are surely right.
//!
//! A product rather than a sum keeps every factor meaningful whatever the scale of BM25, which
//! varies with the query. Equal scores are ordered by a stable per-service number, so pages
//! never overlap.

use entity::enums::LanguageMode;

use crate::listings::STALE_AFTER_DAYS;

const DISTANCE_HALF_KM: f64 = 15.0;
const STALE_FACTOR: f32 = 0.75;
const CLOSED_FACTOR: f32 = 0.5;

/// What one hit brings to its score.
#[derive(Clone, Copy, Debug)]
pub struct Signals {
    /// The text score, or `None` without text.
    pub text_score: Option<f32>,
    /// `None` when no language was asked for.
    pub language_fit: Option<f32>,
    /// `Some(None)`: a place was given and the service has no location.
    pub distance_km: Option<Option<f64>>,
    pub stale: bool,
    pub temporarily_closed: bool,
}

pub fn score(signals: &Signals) -> f32 {
    let relevance = signals.text_score.unwrap_or(1.0);
    let language_fit = signals.language_fit.unwrap_or(1.0);
    let proximity = match signals.distance_km {
        None => 1.0,
        Some(km) => 1.0 / (1.0 + km.unwrap_or(DISTANCE_HALF_KM) / DISTANCE_HALF_KM) as f32,
    };
    let mut freshness = 1.0;
    if signals.stale {
        freshness *= STALE_FACTOR;
    }
    if signals.temporarily_closed {
        freshness *= CLOSED_FACTOR;
    }
    relevance * language_fit * proximity * freshness
}

/// How well one offered language serves a family asking for it.
pub fn language_fit(mode: LanguageMode, exact: bool) -> f32 {
    match (mode, exact) {
        (LanguageMode::Staff, true) => 1.0,
        (LanguageMode::Staff, false) => 0.9,
        (LanguageMode::Interpreter, true) => 0.6,
        (LanguageMode::Interpreter, false) => 0.55,
    }
}

/// Whether a listing last verified at `verified_at` (Unix seconds, 0 = never) is stale `now`.
pub fn is_stale(verified_at: i64, now: i64) -> bool {
    verified_at == 0 || now - verified_at > STALE_AFTER_DAYS * 24 * 3600
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals() -> Signals {
        Signals {
            text_score: Some(4.0),
            language_fit: Some(1.0),
            distance_km: Some(Some(2.0)),
            stale: false,
            temporarily_closed: false,
        }
    }

    #[test]
    fn staff_beats_interpreter_near_beats_far_fresh_beats_stale() {
        let base = score(&signals());
        let interpreter = Signals {
            language_fit: Some(language_fit(LanguageMode::Interpreter, true)),
            ..signals()
        };
        assert!(score(&interpreter) < base);
        let far = Signals {
            distance_km: Some(Some(40.0)),
            ..signals()
        };
        assert!(score(&far) < base);
        let stale = Signals {
            stale: true,
            ..signals()
        };
        assert!(score(&stale) < base);
        let phone_only = Signals {
            distance_km: Some(None),
            ..signals()
        };
        assert!(score(&phone_only) < base && score(&phone_only) > score(&far));
    }
}
