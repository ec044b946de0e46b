//! Storing one request's pushes: each document judged ([`crate::merge::merge_push`]), stored,
//! and followed by what the server writes itself (`workflow.rs`: the receipt, the deadline),
//! all within the caller's one write transaction. Storage-independent.

use linli_domain::protocol::{DocPush, PushAck, PushOutcome};

use crate::error::Result;
use crate::merge::{self, DocWrite, Merge, Pusher};
use crate::workflow::{self, ServerActor};

/// Judges and stores every pushed document of one request: one acknowledgement per push, in
/// order; a refused document writes nothing and does not stop the others.
pub fn push_all(
    tx: &dyn DocWrite,
    server: &ServerActor,
    who: &Pusher<'_>,
    pushes: &[DocPush],
) -> Result<Vec<PushAck>> {
    let mut acks = Vec::with_capacity(pushes.len());
    for p in pushes {
        if tx.is_erased(&p.doc_id)? {
            // Erased: an offline phone may not bring it back. Nothing stored.
            tracing::info!(device = %who.device_id, "push of an erased document refused");
            acks.push(PushAck {
                doc_id: p.doc_id.clone(),
                outcome: PushOutcome::Erased,
            });
            continue;
        }
        let stored = tx.load_doc(&p.doc_id)?;
        let verdict = merge::merge_push(
            who,
            &p.doc_id,
            stored.as_ref(),
            &p.changes,
            &mut |id| tx.place(id),
            &mut |id| tx.staff(id),
        )?;
        let outcome = match verdict {
            Merge::Unchanged => PushOutcome::Stored,
            Merge::Changed(update) => {
                tx.store(who.device_id, &p.doc_id, &update)?;
                workflow::after_push(tx, server, &p.doc_id, &update)?;
                PushOutcome::Stored
            }
            Merge::Refused(outcome) => {
                // The device's own business, not the operator's: not an error.
                tracing::info!(device = %who.device_id, outcome = ?outcome, "push refused");
                outcome
            }
        };
        acks.push(PushAck {
            doc_id: p.doc_id.clone(),
            outcome,
        });
    }
    Ok(acks)
}
