//! Door-knock visits (走访): recording one. A visit is written once, into its household's
//! document, with its needs as follow-ups (`needs.rs`); lists of visits are queries
//! (`query.rs`).

use crate::doc::{self, DocKind};
use crate::error::Result;
use crate::model::*;
use crate::projection;
use crate::store::{Store, new_id};

impl Store {
    pub fn record_visit(&self, new: NewVisit) -> Result<String> {
        let now = self.now();
        new.validate(now)?;
        let visit = Visit {
            id: new_id(),
            household_id: new.household_id.clone(),
            visitor: self.identity().user_id.clone(),
            at: new.at.unwrap_or(now),
            purpose: new.purpose,
            needs: new.needs,
            done_on_spot: new.done_on_spot,
            follow_up: new.follow_up,
        };
        self.write(
            &new.household_id,
            DocKind::Household,
            false,
            "visit.record",
            |d, _| {
                doc::put_visit(d, &visit)?;
                // Each need raised becomes a follow-up, owned by the visitor, due by its
                // category's default (`needs.rs`).
                for n in &visit.needs {
                    let raised = RaisedNeed {
                        visit_id: visit.id.clone(),
                        category: n.category,
                        text: n.text.trim().to_owned(),
                        by: visit.visitor.clone(),
                        at: visit.at,
                        owner: visit.visitor.clone(),
                        due_at: default_due(n.category, visit.at),
                    };
                    doc::put_need(d, &new_id(), &raised)?;
                }
                Ok(((), vec![]))
            },
            |tx, d, _| {
                projection::visit(tx, &visit)?;
                if !visit.needs.is_empty() {
                    projection::needs_doc(tx, &visit.household_id, d)?;
                }
                Ok(())
            },
        )?;
        Ok(visit.id)
    }
}
