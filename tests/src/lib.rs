//! End-to-end tests of the socialmap server live in `tests/api/`, one file per capability;
//! this library is intentionally empty.
