//! Referral statistics for municipalities: per month, municipality and life domain, how many
//! referrals, how they ended and how fast services answered. Counts only, and never a count
//! below five, so that no family can be singled out.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::enums::ReferralStatus;
use entity::referral;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::ReferralsError;
use crate::auth::{StatisticsScope, Viewer};
use crate::reference::ReferenceData;

/// Cells with fewer referrals than this are left out, and smaller counts are null.
pub const SMALLEST_SHOWN: u64 = 5;

#[derive(Clone, Debug, PartialEq)]
pub struct StatisticsRow {
    /// `2026-11`.
    pub month: String,
    pub municipality_code: String,
    /// Top-level life domain.
    pub domain_code: String,
    pub referrals: u64,
    /// Per status; `None` below five.
    pub outcomes: Vec<(ReferralStatus, Option<u64>)>,
    /// Median hours from sending to the first answer; `None` with fewer than five answers.
    pub median_response_hours: Option<f64>,
}

/// Statistics since `since`, for admins (any or all municipalities) and municipality editors
/// (their own).
pub async fn statistics(
    db: &DatabaseConnection,
    reference: &ReferenceData,
    viewer: &Viewer,
    municipality_code: Option<&str>,
    since: DateTime<Utc>,
) -> Result<Vec<StatisticsRow>, ReferralsError> {
    let Some(scope) = viewer.statistics_scope(municipality_code)? else {
        return Err(ReferralsError::Forbidden(
            "referral statistics are for admins and for the editors of that municipality".to_owned(),
        ));
    };
    if let Some(code) = municipality_code {
        reference.require_municipality(code)?;
    }
    let mut query = referral::Entity::find().filter(referral::Column::CreatedAt.gte(since));
    if let StatisticsScope::Only(codes) = scope {
        query = query.filter(referral::Column::MunicipalityCode.is_in(codes));
    }
    let mut cells: BTreeMap<(String, String, String), Vec<referral::Model>> = BTreeMap::new();
    for referral in query.all(db).await? {
        let domain = reference
            .domain(&referral.need_code)
            .and_then(|d| d.parent_code.clone())
            .unwrap_or_else(|| referral.need_code.clone());
        let key = (
            referral.created_at.format("%Y-%m").to_string(),
            referral.municipality_code.clone(),
            domain,
        );
        cells.entry(key).or_default().push(referral);
    }
    let shown = |n: u64| (n >= SMALLEST_SHOWN).then_some(n);
    Ok(cells
        .into_iter()
        .filter(|(_, referrals)| referrals.len() as u64 >= SMALLEST_SHOWN)
        .map(|((month, municipality_code, domain_code), referrals)| {
            let outcomes = <ReferralStatus as sea_orm::Iterable>::iter()
                .map(|status| {
                    let n = referrals.iter().filter(|r| r.status == status).count() as u64;
                    (status, shown(n))
                })
                .collect();
            let mut hours: Vec<f64> = referrals
                .iter()
                .filter_map(|r| Some((r.first_response_at? - r.created_at).num_seconds() as f64 / 3600.0))
                .collect();
            hours.sort_by(f64::total_cmp);
            let median_response_hours = shown(hours.len() as u64).map(|n| {
                let n = n as usize;
                if n % 2 == 1 {
                    hours[n / 2]
                } else {
                    (hours[n / 2 - 1] + hours[n / 2]) / 2.0
                }
            });
            StatisticsRow {
                month,
                municipality_code,
                domain_code,
                referrals: referrals.len() as u64,
                outcomes,
                median_response_hours,
            }
        })
        .collect())
}
