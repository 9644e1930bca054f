//! Reading HSDS documents in every shape a directory hands them out — one object, an array,
//! a page of a list response (`contents`), NDJSON, or a directory of such files — into
//! records in the order they can be imported, each with the line it starts on.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{RecordKind, Rejection, Warning};
use crate::hsds::HsdsError;

/// The file endings a directory import reads; anything else in the directory is left alone.
const JSON_ENDINGS: [&str; 3] = ["json", "ndjson", "jsonl"];
const NDJSON_ENDINGS: [&str; 2] = ["ndjson", "jsonl"];

/// One record to import and where it came from.
pub(super) struct Item {
    /// `file:line` of the record, or of the record it is nested in.
    pub source: String,
    pub kind: RecordKind,
    pub record: Value,
    /// The HSDS id of the organization of the record this one was nested in: an
    /// organization's `locations` and `services`, a service's `service_at_locations`.
    pub organization: Option<String>,
}

impl Item {
    pub fn id(&self) -> Option<String> {
        self.record.get("id").and_then(Value::as_str).map(str::to_owned)
    }
}

/// What reading found: the records, in import order, and what could not be read.
#[derive(Default)]
pub(super) struct Read {
    pub items: Vec<Item>,
    pub rejected: Vec<Rejection>,
    pub warnings: Vec<Warning>,
    /// Records already queued, so a record repeated word for word (an organization nested
    /// in each of its services) is imported once.
    seen: HashSet<String>,
    /// The line of each record given in the text being read, by kind and id: a second
    /// record with the same id in one file is a mistake, not an update. (Across files the
    /// same record may come again: the full and the list form of the examples.)
    given: HashMap<(RecordKind, String), usize>,
}

impl Read {
    /// Reads a file, or the JSON and NDJSON files of a directory (not its subdirectories) in
    /// the order of their names.
    pub fn path(path: &Path) -> Result<Read, HsdsError> {
        let unreadable = |error| HsdsError::Unreadable(path.to_owned(), error);
        let mut read = Read::default();
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(unreadable)?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|file| file.is_file() && has_ending(file, &JSON_ENDINGS))
                .collect();
            files.sort();
            for file in files {
                let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
                match std::fs::read_to_string(&file) {
                    Ok(text) => read.text(&name, &text),
                    Err(error) => read.reject(name, format!("cannot be read: {error}")),
                }
            }
        } else {
            let text = std::fs::read_to_string(path).map_err(unreadable)?;
            read.text(&path.display().to_string(), &text);
        }
        Ok(read)
    }

    /// Reads one text named `name`: a file's name tells the kind of its records
    /// (`services.json`, `organization_list.json`); without one, each record's shape does.
    pub fn text(&mut self, name: &str, text: &str) {
        // Editors on Windows save JSON with a byte-order mark, which is no JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let named = RecordKind::named_by(name);
        self.given.clear();
        if has_ending(Path::new(name), &NDJSON_ENDINGS) {
            return self.lines(name, text, named);
        }
        match serde_json::from_str::<&RawValue>(text) {
            Ok(document) => self.document(name, text, 1, document, named),
            Err(_) if looks_like_ndjson(text) => self.lines(name, text, named),
            Err(error) => self.reject(
                format!("{name}:{}", error.line()),
                format!("is not JSON ({error}), so none of its records can be read"),
            ),
        }
    }

    /// Puts records in the order references resolve: taxonomies and their terms,
    /// organizations, locations, services, then the links of services to locations.
    pub fn in_import_order(mut self) -> Read {
        self.items.sort_by_key(|item| item.kind);
        self
    }

    /// NDJSON: one document per line. A line that is not JSON is rejected, the others read.
    fn lines(&mut self, name: &str, text: &str, named: Option<RecordKind>) {
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<&RawValue>(line) {
                Ok(document) => self.document(name, line, index + 1, document, named),
                Err(error) => self.reject(format!("{name}:{}", index + 1), format!("is not JSON: {error}")),
            }
        }
    }

    /// One JSON document that starts on `first_line` of `text`: an array or a page of
    /// records, or a record.
    fn document(&mut self, name: &str, text: &str, first_line: usize, document: &RawValue, named: Option<RecordKind>) {
        /// A page of a list response; only `contents` holds records.
        #[derive(Deserialize)]
        struct Page<'a> {
            #[serde(borrow)]
            contents: Vec<&'a RawValue>,
        }
        let mut lines = Lines::new(text, first_line);
        let json = document.get();
        let records = if json.starts_with('[') {
            serde_json::from_str::<Vec<&RawValue>>(json).ok()
        } else {
            serde_json::from_str::<Page>(json).ok().map(|page| page.contents)
        };
        for record in records.unwrap_or_else(|| vec![document]) {
            let line = lines.line_of(record);
            self.record(format!("{name}:{line}"), line, record, named);
        }
    }

    fn record(&mut self, source: String, line: usize, record: &RawValue, named: Option<RecordKind>) {
        let record: Value = match serde_json::from_str(record.get()) {
            Ok(record @ Value::Object(_)) => record,
            Ok(_) => return self.reject(source, "is not a JSON object, so not an HSDS record"),
            Err(error) => return self.reject(source, format!("cannot be read: {error}")),
        };
        let kind = match named {
            Some(kind) => kind,
            None => match Shape::of(record.as_object().expect("checked above")) {
                Shape::Record(kind) => kind,
                Shape::NoRecords(why) => {
                    return self.warnings.push(Warning {
                        source,
                        kind: RecordKind::Document,
                        id: None,
                        message: why.to_owned(),
                    });
                }
                Shape::Unreadable(why) => return self.reject(source, why),
            },
        };
        let id = text(&record, "id")
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty());
        if let Some(id) = id {
            match self.given.get(&(kind, id.clone())) {
                // Neither it nor what is nested in it is imported.
                Some(first) => {
                    let reason = format!(
                        "duplicate id, already given at line {first}: every record of a document has an id of its own, and only the first record with this id is imported"
                    );
                    return self.rejected.push(Rejection {
                        source,
                        kind,
                        id: Some(id),
                        reason,
                    });
                }
                None => {
                    self.given.insert((kind, id), line);
                }
            }
        }
        self.queue(&source, kind, record, None);
    }

    /// Queues a record and, before it, the records nested in it, each with the organization
    /// it belongs to.
    fn queue(&mut self, source: &str, kind: RecordKind, record: Value, organization: Option<String>) {
        let mut organization = organization;
        match kind {
            RecordKind::Organization => {
                let id = text(&record, "id");
                for location in objects(&record, "locations") {
                    self.queue(source, RecordKind::Location, location, id.clone());
                }
                for service in objects(&record, "services") {
                    self.queue(source, RecordKind::Service, service, id.clone());
                }
            }
            RecordKind::Service => {
                organization = organization_of_service(&record).or(organization);
                if let Some(nested) = record.get("organization").filter(|o| o.is_object()) {
                    self.queue(source, RecordKind::Organization, nested.clone(), None);
                }
                for link in objects(&record, "service_at_locations") {
                    if let Some(location) = link.get("location").filter(|l| l.is_object()) {
                        self.queue(source, RecordKind::Location, location.clone(), organization.clone());
                    }
                }
            }
            RecordKind::ServiceAtLocation => {
                let service = record.get("service").filter(|s| s.is_object());
                let service_organization = service.and_then(organization_of_service);
                if let Some(service) = service {
                    self.queue(source, RecordKind::Service, service.clone(), None);
                }
                if let Some(location) = record.get("location").filter(|l| l.is_object()) {
                    self.queue(source, RecordKind::Location, location.clone(), service_organization);
                }
            }
            RecordKind::Document | RecordKind::Taxonomy | RecordKind::TaxonomyTerm | RecordKind::Location => {}
        }
        if self.seen.insert(format!("{kind:?} {organization:?} {record}")) {
            self.items.push(Item {
                source: source.to_owned(),
                kind,
                record,
                organization,
            });
        }
    }

    fn reject(&mut self, source: String, reason: impl Into<String>) {
        self.rejected.push(Rejection {
            source,
            kind: RecordKind::Document,
            id: None,
            reason: reason.into(),
        });
    }
}

impl RecordKind {
    /// The kind a file's name promises: its stem is the HSDS object's name, singular or
    /// plural, optionally with the `_full` or `_list` of the official examples.
    fn named_by(file_name: &str) -> Option<RecordKind> {
        let stem = Path::new(file_name).file_stem()?.to_str()?.to_lowercase();
        let stem = stem
            .strip_suffix("_full")
            .or_else(|| stem.strip_suffix("_list"))
            .unwrap_or(&stem);
        Some(match stem {
            "organization" | "organizations" => RecordKind::Organization,
            "service" | "services" => RecordKind::Service,
            "location" | "locations" => RecordKind::Location,
            "service_at_location" | "service_at_locations" => RecordKind::ServiceAtLocation,
            "taxonomy" | "taxonomies" => RecordKind::Taxonomy,
            "taxonomy_term" | "taxonomy_terms" => RecordKind::TaxonomyTerm,
            _ => return None,
        })
    }
}

/// What a JSON object is, judged by the fields HSDS requires of each object or that only
/// one object has.
enum Shape {
    Record(RecordKind),
    /// A document that is fine but holds nothing to import.
    NoRecords(&'static str),
    Unreadable(&'static str),
}

/// Fields only an organization has (a taxonomy term or a taxonomy also has an id, a name
/// and a description).
const ORGANIZATION_FIELDS: [&str; 14] = [
    "alternate_name",
    "email",
    "website",
    "tax_status",
    "tax_id",
    "year_incorporated",
    "legal_status",
    "logo",
    "parent_organization_id",
    "phones",
    "contacts",
    "locations",
    "organization_identifiers",
    "attributes",
];

impl Shape {
    fn of(record: &Map<String, Value>) -> Shape {
        let has = |field: &str| record.contains_key(field);
        if has("openapi_url") {
            return Shape::NoRecords("is the root of an HSDS API (`GET /`): it describes the API and holds no records");
        }
        if record.keys().any(|key| key.ends_with(".csv")) {
            return Shape::Unreadable(
                "is the HSDS tabular form (the rows of each CSV table): the import reads the JSON form of the same records (`service_full.json`, `organization_full.json`, …)",
            );
        }
        if has("status") {
            Shape::Record(RecordKind::Service)
        } else if has("location_type") || has("addresses") {
            Shape::Record(RecordKind::Location)
        } else if (has("service") || has("service_id")) && (has("location") || has("location_id")) {
            Shape::Record(RecordKind::ServiceAtLocation)
        } else if [
            "code",
            "parent_id",
            "taxonomy",
            "taxonomy_id",
            "taxonomy_detail",
            "term_uri",
        ]
        .iter()
        .any(|field| has(field))
        {
            Shape::Record(RecordKind::TaxonomyTerm)
        } else if has("version") {
            Shape::Record(RecordKind::Taxonomy)
        } else if ORGANIZATION_FIELDS.iter().any(|field| has(field)) {
            Shape::Record(RecordKind::Organization)
        } else {
            Shape::Unreadable(
                "is not recognisably an HSDS record: name its file after its records (`organizations.json`, `services.ndjson`, `locations.json`, `service_at_locations.json`, `taxonomy_terms.json`, `taxonomies.json`), or give the fields that tell them apart (a service's `status`, a location's `location_type`)",
            )
        }
    }
}

/// Line numbers of the values in one text, counted as the values come (in order).
struct Lines<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str, first_line: usize) -> Self {
        Lines {
            text,
            offset: 0,
            line: first_line,
        }
    }

    /// The line `value` starts on; `value` was parsed from `text`, so it points into it.
    fn line_of(&mut self, value: &RawValue) -> usize {
        let offset = (value.get().as_ptr() as usize)
            .saturating_sub(self.text.as_ptr() as usize)
            .min(self.text.len());
        if offset < self.offset {
            return self.line;
        }
        self.line += self.text.as_bytes()[self.offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.offset = offset;
        self.line
    }
}

/// Several JSON documents one after the other, one per line.
fn looks_like_ndjson(text: &str) -> bool {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let first_is_json = lines
        .next()
        .is_some_and(|line| serde_json::from_str::<&RawValue>(line).is_ok());
    first_is_json && lines.next().is_some()
}

fn has_ending(path: &Path, endings: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| endings.iter().any(|ending| e.eq_ignore_ascii_case(ending)))
}

fn text(record: &Value, field: &str) -> Option<String> {
    record.get(field).and_then(Value::as_str).map(str::to_owned)
}

fn objects(record: &Value, field: &str) -> Vec<Value> {
    record
        .get(field)
        .and_then(Value::as_array)
        .map(|list| list.iter().filter(|v| v.is_object()).cloned().collect())
        .unwrap_or_default()
}

/// A service's organization: the nested one, else `organization_id`.
fn organization_of_service(service: &Value) -> Option<String> {
    service
        .get("organization")
        .and_then(|o| text(o, "id"))
        .or_else(|| text(service, "organization_id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(read: &Read) -> Vec<(String, RecordKind)> {
        read.items.iter().map(|i| (i.source.clone(), i.kind)).collect()
    }

    #[test]
    fn arrays_pages_and_ndjson_give_each_record_its_line() {
        let mut read = Read::default();
        read.text("services.json", "[\n {\"id\": \"a\"},\n\n {\"id\": \"b\"}\n]");
        read.text("a.json", "{\"contents\": [\n{\"id\": \"c\", \"status\": \"active\"}]}");
        read.text(
            "x",
            "{\"id\": \"d\", \"location_type\": \"physical\"}\n{\"id\": \"e\", \"status\": \"active\"}\n",
        );
        assert_eq!(
            kinds(&read),
            [
                ("services.json:2".to_owned(), RecordKind::Service),
                ("services.json:4".to_owned(), RecordKind::Service),
                ("a.json:2".to_owned(), RecordKind::Service),
                ("x:1".to_owned(), RecordKind::Location),
                ("x:2".to_owned(), RecordKind::Service),
            ]
        );
        assert!(read.rejected.is_empty());
    }

    #[test]
    fn a_byte_order_mark_is_no_reason_to_reject_a_file() {
        let mut read = Read::default();
        read.text("services.json", "\u{feff}{\"id\": \"a\"}");
        assert_eq!((read.items.len(), read.rejected.len()), (1, 0));
    }

    #[test]
    fn a_bad_ndjson_line_is_rejected_alone() {
        let mut read = Read::default();
        read.text("services.ndjson", "{\"id\": \"a\"}\n{\"id\": \n{\"id\": \"b\"}\n");
        assert_eq!(read.items.len(), 2);
        assert_eq!(read.rejected.len(), 1);
        assert_eq!(read.rejected[0].source, "services.ndjson:2");
    }

    #[test]
    fn a_second_record_with_an_id_in_one_file_is_rejected_with_the_line_of_the_first() {
        let mut read = Read::default();
        read.text(
            "services.ndjson",
            "{\"id\": \"a\", \"name\": \"A\"}\n{\"id\": \"b\"}\n{\"id\": \"a\", \"name\": \"A again\"}\n{\"id\": \" a \"}\n",
        );
        assert_eq!(read.items.len(), 2);
        let rejected: Vec<(&str, Option<&str>, &str)> = read
            .rejected
            .iter()
            .map(|r| (r.source.as_str(), r.id.as_deref(), r.reason.as_str()))
            .collect();
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        for (i, (source, id, reason)) in rejected.iter().enumerate() {
            assert_eq!(*source, format!("services.ndjson:{}", i + 3));
            assert_eq!(*id, Some("a"));
            assert!(reason.starts_with("duplicate id, already given at line 1"), "{reason}");
        }
        // Another file may give the same record again (as the examples' list and full forms do).
        read.text("services_list.json", "[{\"id\": \"a\", \"name\": \"A\"}]");
        assert_eq!(read.rejected.len(), 2);
    }

    #[test]
    fn file_names_name_kinds() {
        assert_eq!(
            RecordKind::named_by("service_at_location_list.json"),
            Some(RecordKind::ServiceAtLocation)
        );
        assert_eq!(RecordKind::named_by("taxonomies.ndjson"), Some(RecordKind::Taxonomy));
        assert_eq!(RecordKind::named_by("tabular.json"), None);
    }

    #[test]
    fn nested_records_come_first_with_their_organization() {
        let mut read = Read::default();
        read.text(
            "s.json",
            r#"{"id": "s", "status": "active", "organization": {"id": "o", "name": "O"},
                "service_at_locations": [{"id": "sal", "location": {"id": "l"}}]}"#,
        );
        let read = read.in_import_order();
        let order: Vec<(RecordKind, Option<String>, Option<String>)> = read
            .items
            .iter()
            .map(|i| (i.kind, i.id(), i.organization.clone()))
            .collect();
        assert_eq!(
            order,
            [
                (RecordKind::Organization, Some("o".into()), None),
                (RecordKind::Location, Some("l".into()), Some("o".into())),
                (RecordKind::Service, Some("s".into()), Some("o".into())),
            ]
        );
    }
}
