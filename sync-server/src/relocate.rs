//! Moving a building to another grid: its records follow it. Storage-independent: each
//! household and incident of the building gets one server-authored Automerge change (actor =
//! the server, message `u` = the admin who moved it, op `building.move`) that rewrites its
//! grid and micro-grid, stored as a move (`Update::moved`, `left` = the old place) in the
//! caller's one write transaction. So the old grid's devices are told `gone` through
//! `departures`, the new grid's devices receive the whole document, and later edits on either
//! side merge as usual.

use automerge::transaction::CommitOptions;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc};
use linli_domain::doc::{self, DocKind, DocPlace, heads_to_text};

use crate::error::{Error, Result};
use crate::merge::{DocWrite, Update};
use crate::workflow::{self, SYSTEM_DEVICE, ServerActor};

/// Where the building goes: its new grid, and micro-grid if its new parent is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrid {
    pub grid_id: String,
    pub micro_grid_id: Option<String>,
}

fn put_opt(d: &mut AutoCommit, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) => d.put(ROOT, key, v)?,
        None => {
            if d.get(ROOT, key)?.is_some() {
                d.delete(ROOT, key)?;
            }
        }
    }
    Ok(())
}

/// Rewrites one stored document's grid and micro-grid as a server change by `by`. Nothing is
/// written for a document already there, or one whose layout the server cannot read.
pub fn move_doc(
    tx: &dyn DocWrite,
    server: &ServerActor,
    doc_id: &str,
    to: &NewGrid,
    by: &str,
) -> Result<()> {
    let Some(stored) = tx.load_doc(doc_id)? else {
        return Err(Error::NotFound { kind: "document" });
    };
    if stored.place.grid_id == to.grid_id && stored.place.micro_grid_id == to.micro_grid_id {
        return Ok(());
    }
    let mut d = AutoCommit::load(&stored.snapshot)?;
    d.set_actor(server.actor().clone());
    let heads = d.get_heads();
    match stored.kind {
        DocKind::Household => {
            let Ok(mut address) = doc::read_address(&d) else {
                return Ok(());
            };
            address.grid_id = to.grid_id.clone();
            address.micro_grid_id = to.micro_grid_id.clone();
            doc::write_address(&mut d, &address)?;
        }
        DocKind::Incident => {
            d.put(ROOT, "grid_id", to.grid_id.as_str())?;
            put_opt(&mut d, "micro_grid_id", to.micro_grid_id.as_deref())?;
        }
    }
    let now = server.now();
    let note = serde_json::json!({ "u": by, "op": "building.move", "f": ["grid_id"] });
    if d.commit_with(
        CommitOptions::default()
            .with_message(note.to_string())
            .with_time(now),
    )
    .is_none()
    {
        return Ok(());
    }
    let place = DocPlace {
        grid_id: to.grid_id.clone(),
        micro_grid_id: to.micro_grid_id.clone(),
        ..stored.place.clone()
    };
    let update = Update {
        kind: stored.kind,
        place,
        snapshot: d.save_nocompress(),
        heads: heads_to_text(&d.get_heads()),
        new_changes: d.save_after(&heads),
        moved: true,
        left: Some(stored.place.clone()),
    };
    tx.store(SYSTEM_DEVICE, doc_id, &update)?;
    if stored.kind == DocKind::Incident {
        workflow::refresh_deadline(tx, now, doc_id, &d)?;
    }
    Ok(())
}
