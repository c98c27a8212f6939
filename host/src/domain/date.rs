//! Calendar dates. One definition with the plugin ABI (`kinerja_abi::dates`): the dates a
//! client sends and the dates a plugin reads are the same type. The host adds the clock, which
//! a plugin does not have.

pub use kinerja_abi::dates::{days_in_month, weekdays_between, Date};

/// Today by the server's clock (UTC).
pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Date::from_days(secs.div_euclid(86_400))
}
