//! How households and incidents are laid out in Automerge documents.
//!
//! One document per household (its members, tags and visits inside it) and one per incident.
//! Everything that two people may add concurrently is a map keyed by a fresh id (members,
//! visits, lifecycle events) or by a stable code (tags), never a list, so concurrent adds
//! keep both sides. Scalar fields are last-writer-wins per field, resolved the same way on
//! every device by Automerge. A visit is written once and never edited, so it is one value
//! (its JSON) rather than a map of fields: one operation instead of a dozen per door knock.
//! Visits written as maps (the first layout) are still read.
//!
//! ## Layout versions
//!
//! Each document carries `v`: the oldest layout a reader must know to read it. A reader that
//! meets a document of a newer layout says "update the app" ([`Error::UnsupportedLayout`]),
//! never "corrupt", and a device stores such a document without showing it, so the rest of
//! a pulled page is applied. Within a layout, a reader keeps what it does not know: an event
//! code it does not know is [`IncidentAction::Other`] (skipped when the status is derived),
//! a tag code it does not know is skipped, fields it does not know are ignored.
//!
//! | kind | v | what changed |
//! |---|---|---|
//! | household | 1 | first layout: a visit is a map of fields |
//! | household | 2 | a visit is one value (its JSON); set by the first such visit |
//! | incident | 1 | first layout |
//!
//! Needs (`needs`, issue 10) came without a layout bump either: a household without the map
//! has no needs to follow up and reads as before, and an older reader ignores the map (the
//! needs stay inside its visits, as they always were). Each need is written once (the visit
//! it came from, category, text, first owner and due date); its status, owner and due date
//! are events in its own keyed map (`needs.rs` folds them). Households get the map when
//! created; an older one gets it with its first need, and if two phones do that at once both
//! maps are kept as an Automerge conflict and both are read. An incident converted from a
//! need names it in `need_id`, an optional field older readers ignore.
//!
//! `micro_grid_id` (the micro-grid, 微网格, of the record's building) came without a layout
//! bump: it is written only when the building has a micro-grid, and every reader treats it
//! as optional. A document without it reads exactly as before; an older reader ignores it
//! (fields it does not know are ignored), and still finds the grid it scopes by.
//!
//! ```text
//! household: { type, v, id, created_at, residency, housing, notes,
//!              address: { community_id, grid_id, micro_grid_id?, building_id?, unit_id?, room },
//!              members: { <id>: { name, relation, birth_year?, phone?, id_number?, removed } },
//!              tags:    { <tag code>: true },
//!              visits:  { <id>: "<JSON of the visit>" },
//!              needs?:  { <id>: { visit_id, category, text, by, at, owner, due_at,
//!                                 events: { <id>: { action, by, at, note, owner?, due_at?,
//!                                                   incident_id? } } } } }
//! incident:  { type, v, id, category, description, community_id, grid_id, micro_grid_id?,
//!              building_id?, unit_id?, household_id?, need_id?, reporter, priority, assignee?, reported_at,
//!              received_at? (the server's receipt), parties?, mediator? (disputes),
//!              events: { <id>: { action, by, at, note, to?, department?, reason?, rating?,
//!                                level?, outcome? } } }
//! ```

mod read;
mod write;

use crate::codes::Reason;
use automerge::{AutoCommit, ChangeHash, ROOT};

use read::req_str;

use crate::error::{Result, invalid};

pub use read::*;
pub use write::*;

/// The newest household layout this code reads and writes (see the module doc).
pub const HOUSEHOLD_LAYOUT: i64 = 2;
/// The newest incident layout this code reads and writes.
pub const INCIDENT_LAYOUT: i64 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocKind {
    Household,
    Incident,
}

impl DocKind {
    pub fn code(self) -> &'static str {
        match self {
            DocKind::Household => "household",
            DocKind::Incident => "incident",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "household" => Some(DocKind::Household),
            "incident" => Some(DocKind::Incident),
            _ => None,
        }
    }

    /// The newest layout of this kind that this code knows.
    pub fn layout(self) -> i64 {
        match self {
            DocKind::Household => HOUSEHOLD_LAYOUT,
            DocKind::Incident => INCIDENT_LAYOUT,
        }
    }
}

/// Heads as stored on device and server: sorted hex change hashes joined by ','.
pub fn heads_to_text(heads: &[ChangeHash]) -> String {
    let mut hs: Vec<String> = heads.iter().map(|h| h.to_string()).collect();
    hs.sort();
    hs.join(",")
}

/// The inverse of [`heads_to_text`].
pub fn heads_from_text(text: &str) -> Result<Vec<ChangeHash>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| invalid("heads", Reason::BadFormat)))
        .collect()
}

/// Where a document's record lives in the place tree: what the server scopes it by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocPlace {
    pub community_id: String,
    pub grid_id: String,
    pub micro_grid_id: Option<String>,
    pub building_id: Option<String>,
    pub unit_id: Option<String>,
}

/// The kind, id and place of a document, checking that it reads as a valid record.
pub fn describe(doc: &AutoCommit) -> Result<(DocKind, String, DocPlace)> {
    let kind = kind_of(doc)?;
    let id = req_str(doc, &ROOT, "id")?;
    let place = match kind {
        DocKind::Household => {
            let h = read_household(doc)?;
            DocPlace {
                community_id: h.address.community_id,
                grid_id: h.address.grid_id,
                micro_grid_id: h.address.micro_grid_id,
                building_id: h.address.building_id,
                unit_id: h.address.unit_id,
            }
        }
        DocKind::Incident => {
            let (i, _) = read_incident(doc)?;
            DocPlace {
                community_id: i.community_id,
                grid_id: i.grid_id,
                micro_grid_id: i.micro_grid_id,
                building_id: i.building_id,
                unit_id: i.unit_id,
            }
        }
    };
    Ok((kind, id, place))
}
