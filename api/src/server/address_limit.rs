//! A rate limit per client address, for what anyone may try without an account (suggestions,
//! family access codes). An IPv6 client usually holds a whole /64 and can send from any
//! address in it, so the /64 counts as one client; an IPv4-mapped address is IPv4.

use std::net::IpAddr;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// The limiter remembers every address it saw; past this many it forgets those that are back
/// to a full quota, so anonymous callers cannot grow it without bound.
const REMEMBERED_ADDRESSES: usize = 10_000;

pub struct AddressLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl AddressLimiter {
    pub fn new(quota: Quota) -> Self {
        AddressLimiter(DefaultKeyedRateLimiter::keyed(quota))
    }

    /// Counts one attempt from `client`; over the limit, the seconds until the next one is
    /// allowed.
    pub fn check(&self, client: IpAddr) -> Result<(), u64> {
        if self.0.len() > REMEMBERED_ADDRESSES {
            self.0.retain_recent();
        }
        self.0
            .check_key(&client_key(client))
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()).as_secs().max(1))
    }
}

fn client_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & (u128::MAX << 64)).into()),
        },
        v4 => v4,
    }
}
