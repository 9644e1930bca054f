//! Relay conventions: global ids (`base64("Service:<id>")`), and cursor pagination with
//! `first` (at most 100) and an opaque `after` cursor.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{OutputType, SimpleObject};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RelayError {
    #[error("`first` must be between 0 and {MAX_PAGE_SIZE}, got {0}; page through larger results with `after`")]
    PageTooLarge(i32),
    #[error("`after` is not a cursor this API gave out: pass the `cursor` of an edge or `pageInfo.endCursor`")]
    BadCursor,
    #[error("`{0}` is not a valid id: pass the `id` of an object this API returned")]
    BadId(String),
}

/// The kinds of objects that have a global id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Municipality,
    LifeDomain,
    Language,
    Organization,
    Service,
    Location,
}

impl NodeKind {
    fn name(self) -> &'static str {
        match self {
            NodeKind::Municipality => "Municipality",
            NodeKind::LifeDomain => "LifeDomain",
            NodeKind::Language => "Language",
            NodeKind::Organization => "Organization",
            NodeKind::Service => "Service",
            NodeKind::Location => "Location",
        }
    }

    const ALL: [NodeKind; 6] = [
        NodeKind::Municipality,
        NodeKind::LifeDomain,
        NodeKind::Language,
        NodeKind::Organization,
        NodeKind::Service,
        NodeKind::Location,
    ];
}

pub fn global_id(kind: NodeKind, key: &str) -> async_graphql::ID {
    async_graphql::ID(URL_SAFE_NO_PAD.encode(format!("{}:{key}", kind.name())))
}

/// Splits a global id into its kind and key.
pub fn parse_global_id(id: &str) -> Result<(NodeKind, String), RelayError> {
    let bad = || RelayError::BadId(id.to_owned());
    let decoded = URL_SAFE_NO_PAD.decode(id).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (name, key) = decoded.split_once(':').ok_or_else(bad)?;
    let kind = NodeKind::ALL.into_iter().find(|k| k.name() == name).ok_or_else(bad)?;
    Ok((kind, key.to_owned()))
}

/// The key of a global id that must be of `kind`; another kind's id is a bad id.
pub fn key_of(kind: NodeKind, id: &str) -> Result<String, RelayError> {
    match parse_global_id(id)? {
        (k, key) if k == kind => Ok(key),
        _ => Err(RelayError::BadId(id.to_owned())),
    }
}

/// A validated page request: skip `offset` items, take `limit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: usize,
    pub limit: usize,
}

impl PageRequest {
    /// How many rows to read for a page built by `page_probed`: one more than it shows.
    pub fn probe(&self) -> usize {
        self.limit + 1
    }

    pub fn new(first: Option<i32>, after: Option<&str>) -> Result<Self, RelayError> {
        let limit = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => n as usize,
            Some(n) => return Err(RelayError::PageTooLarge(n)),
        };
        let offset = match after {
            None => 0,
            Some(cursor) => decode_cursor(cursor)?.checked_add(1).ok_or(RelayError::BadCursor)?,
        };
        Ok(PageRequest { offset, limit })
    }
}

pub fn encode_cursor(position: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("at:{position}"))
}

fn decode_cursor(cursor: &str) -> Result<usize, RelayError> {
    let decoded = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| RelayError::BadCursor)?;
    std::str::from_utf8(&decoded)
        .ok()
        .and_then(|s| s.strip_prefix("at:"))
        .and_then(|n| n.parse().ok())
        // No list is anywhere near this long; larger positions are forged, and would
        // overflow the databases' OFFSET.
        .filter(|&position| position < u32::MAX as usize)
        .ok_or(RelayError::BadCursor)
}

/// Fields every connection carries besides `edges` and `pageInfo`.
#[derive(SimpleObject)]
pub struct ConnectionFields {
    /// How many items match, over all pages.
    pub total_count: u64,
}

pub type Page<T> = Connection<String, T, ConnectionFields>;

/// Builds a connection from one page of `items` that starts at `page.offset` of `total`.
pub fn page<T: OutputType>(page: PageRequest, items: Vec<T>, total: u64) -> Page<T> {
    let end = page.offset + items.len();
    let mut connection = Connection::with_additional_fields(
        page.offset > 0,
        (end as u64) < total,
        ConnectionFields { total_count: total },
    );
    connection.edges.extend(
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| Edge::new(encode_cursor(page.offset + i), item)),
    );
    connection
}

/// Builds a connection from a page read with one item more than asked for (`PageRequest::probe`),
/// so that whether another page follows is known without counting the whole list. `total` is
/// `None` when the query did not ask for `totalCount` (`wants_total`); the field is then
/// not in the response and the number put in its place is never seen.
pub fn page_probed<T: OutputType>(page: PageRequest, mut items: Vec<T>, total: Option<u64>) -> Page<T> {
    let more = items.len() > page.limit;
    items.truncate(page.limit);
    let seen = (page.offset + items.len()) as u64 + u64::from(more);
    let mut connection = self::page(page, items, total.unwrap_or(seen));
    connection.has_next_page = more;
    connection
}

/// Whether the connection field being resolved selects `totalCount`, through fragments too.
pub fn wants_total(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Pages through a list that is already in memory.
pub fn page_of_slice<T: OutputType>(request: PageRequest, items: Vec<T>) -> Page<T> {
    let total = items.len() as u64;
    let items = items.into_iter().skip(request.offset).take(request.limit).collect();
    page(request, items, total)
}

/// The query-complexity cost of a connection field: each of the `first` nodes (the default
/// page size when absent) costs what its selection costs, so nested pages multiply.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let nodes = first.map_or(DEFAULT_PAGE_SIZE, |n| n.clamp(0, MAX_PAGE_SIZE as i32) as usize);
    nodes.max(1).saturating_mul(child_complexity).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_and_ids_round_trip() {
        let request = PageRequest::new(Some(10), Some(&encode_cursor(29))).unwrap();
        assert_eq!(request, PageRequest { offset: 30, limit: 10 });
        let id = global_id(NodeKind::Service, "abc");
        assert_eq!(parse_global_id(&id).unwrap(), (NodeKind::Service, "abc".to_owned()));
        assert_eq!(
            key_of(NodeKind::Organization, &id),
            Err(RelayError::BadId(id.0.clone()))
        );
    }

    #[test]
    fn refuses_oversized_pages_and_foreign_cursors() {
        assert_eq!(PageRequest::new(Some(101), None), Err(RelayError::PageTooLarge(101)));
        assert_eq!(PageRequest::new(Some(-1), None), Err(RelayError::PageTooLarge(-1)));
        assert_eq!(PageRequest::new(None, Some("nonsense!")), Err(RelayError::BadCursor));
        let last = encode_cursor(usize::MAX);
        assert_eq!(PageRequest::new(None, Some(&last)), Err(RelayError::BadCursor));
    }

    proptest::proptest! {
        /// Ids and cursors come from clients: any string is an answer or a clear error.
        #[test]
        fn any_id_or_cursor_is_parsed_or_refused_never_a_panic(text in "\\PC*", first in proptest::option::of(proptest::num::i32::ANY)) {
            let _ = parse_global_id(&text);
            if let Ok(page) = PageRequest::new(first, Some(&text)) {
                proptest::prop_assert!(page.limit <= MAX_PAGE_SIZE);
            }
        }
    }
}
