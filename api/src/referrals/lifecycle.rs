//! The states of a referral and who may move it where (DESIGN.md, after the HL7 referral
//! task): `SENT → RECEIVED → ACCEPTED | DECLINED`, `ACCEPTED → COMPLETED | NO_SHOW`, the
//! referrer cancels until it is closed, and the deadline expires what nobody answered.

use entity::enums::ReferralStatus::{self, *};

/// Which side of a referral an organization is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The organization that sent it.
    Referring,
    /// The organization of the service it was sent to.
    Receiving,
}

impl Side {
    pub fn describe(self) -> &'static str {
        match self {
            Side::Referring => "the referring organization",
            Side::Receiving => "the receiving service",
        }
    }
}

/// The moves a user can make from `status`, and which side makes each. `EXPIRED` is not
/// among them: only the deadline sets it.
pub fn moves_from(status: ReferralStatus) -> &'static [(ReferralStatus, Side)] {
    match status {
        Sent => &[(Received, Side::Receiving), (Cancelled, Side::Referring)],
        Received => &[
            (Accepted, Side::Receiving),
            (Declined, Side::Receiving),
            (Cancelled, Side::Referring),
        ],
        Accepted => &[
            (Completed, Side::Receiving),
            (NoShow, Side::Receiving),
            (Cancelled, Side::Referring),
        ],
        Declined | Completed | NoShow | Cancelled | Expired => &[],
    }
}

/// A closed referral moves no more; its personal fields are erased after the retention time.
pub fn is_closed(status: ReferralStatus) -> bool {
    moves_from(status).is_empty()
}

/// Still waiting for the service's answer: what the deadline expires.
pub const AWAITING_ANSWER: [ReferralStatus; 2] = [Sent, Received];

/// Statuses that count as the service's answer, for response times.
pub fn is_response(status: ReferralStatus) -> bool {
    matches!(status, Received | Accepted | Declined)
}

/// The GraphQL spelling of a status, for messages.
pub fn name(status: ReferralStatus) -> &'static str {
    match status {
        Sent => "SENT",
        Received => "RECEIVED",
        Accepted => "ACCEPTED",
        Declined => "DECLINED",
        Completed => "COMPLETED",
        NoShow => "NO_SHOW",
        Cancelled => "CANCELLED",
        Expired => "EXPIRED",
    }
}

/// "RECEIVED (by the receiving service) or CANCELLED (by the referring organization)".
pub fn describe_moves(status: ReferralStatus) -> String {
    let moves: Vec<String> = moves_from(status)
        .iter()
        .map(|(to, side)| format!("{} (by {})", name(*to), side.describe()))
        .collect();
    match moves.as_slice() {
        [] => "nothing: it is closed".to_owned(),
        [only] => only.clone(),
        [first @ .., last] => format!("{} or {last}", first.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_open_referral_can_be_cancelled_by_its_referrer_and_closed_ones_not_at_all() {
        for status in [Sent, Received, Accepted] {
            assert!(moves_from(status).contains(&(Cancelled, Side::Referring)));
            assert!(!is_closed(status));
        }
        for status in [Declined, Completed, NoShow, Cancelled, Expired] {
            assert!(is_closed(status));
        }
        assert_eq!(
            describe_moves(Sent),
            "RECEIVED (by the receiving service) or CANCELLED (by the referring organization)"
        );
    }
}
