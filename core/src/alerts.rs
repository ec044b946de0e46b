//! Alerts after a background sync (issue 10): what changed for the signed-in user between
//! two snapshots of the store, as local notifications the shells raise.
//!
//! A shell keeps the last snapshot as text ([`AlertSnapshot::to_text`]) between background
//! runs, takes a new one after each sync and asks [`alerts`] what to say. The rule lives
//! here; the shells only word the kind. Three kinds:
//!
//! - `assigned`: an open incident whose assignee or dispatch handler is newly the user, by
//!   someone else's move (accepting an order oneself is not news);
//! - `escalated`: an incident whose level rose (督办: to the community, then the street);
//! - `follow_up_due`: a need the user owns, open or in hand, due by now and not already due
//!   at the old snapshot.
//!
//! Each alert has a stable key (`assigned:<id>`, `escalated:<id>:<level>`,
//! `follow_up_due:<id>`), so a shell that posts by key never shows one twice. Summaries
//! carry category labels only: never a name, phone, address or the incident's text.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::db::lock;
use crate::error::{Result, invalid};
use crate::model::*;
use crate::store::Store;

/// The snapshot text's format; a text of another version is refused as `bad_format`.
const FORMAT: u32 = 1;

/// What alerting needs of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentMark {
    pub id: String,
    pub category: IncidentCategory,
    pub status: IncidentStatus,
    pub assignee: Option<String>,
    pub handler: Option<String>,
    pub level: Level,
    /// Who made the latest change that can set the handler or the assignee (report, assign,
    /// accept, dispatch), from the change history: an assignment the user made themselves
    /// (accepting an order, reporting to themselves) is not news.
    #[serde(default)]
    pub assigned_by: Option<String>,
}

/// What alerting needs of one need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeedMark {
    pub id: String,
    pub category: NeedCategory,
    pub status: NeedStatus,
    pub owner: String,
    pub due_at: Millis,
}

/// The store as alerting sees it at one moment: incidents (assignee, handler, level) and
/// needs (owner, status, due date). No names, texts or addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSnapshot {
    pub format: u32,
    /// When it was taken (the store's clock).
    pub at: Millis,
    pub incidents: Vec<IncidentMark>,
    pub needs: Vec<NeedMark>,
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// An incident newly assigned or dispatched to the user (派给我的新工单).
    Assigned,
    /// An incident raised a level (督办).
    Escalated,
    /// A follow-up of the user's that fell due (跟进到期).
    FollowUpDue,
}

impl AlertKind {
    pub fn code(self) -> &'static str {
        match self {
            AlertKind::Assigned => "assigned",
            AlertKind::Escalated => "escalated",
            AlertKind::FollowUpDue => "follow_up_due",
        }
    }
}

/// One local notification to raise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable: the same event gives the same key, on every run.
    pub key: String,
    pub kind: AlertKind,
    /// The incident's or the need's id.
    pub record_id: String,
    /// A line for the notification (Chinese), with a category label and no personal data.
    pub summary: String,
}

impl AlertSnapshot {
    /// The snapshot as text to keep between background runs (JSON).
    pub fn to_text(&self) -> String {
        // A struct of strings, numbers and enums always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A snapshot kept by [`AlertSnapshot::to_text`]. Anything else, or a text of another
    /// format, is `InvalidInput { field: "snapshot", reason: bad_format }`.
    pub fn from_text(text: &str) -> Result<AlertSnapshot> {
        let snapshot: AlertSnapshot =
            serde_json::from_str(text).map_err(|_| invalid("snapshot", Reason::BadFormat))?;
        if snapshot.format != FORMAT {
            return Err(invalid("snapshot", Reason::BadFormat));
        }
        Ok(snapshot)
    }
}

impl Store {
    /// What alerting needs now, from the query tables; `at` is the moment it stands for
    /// (the store's `now()`, normally).
    pub fn alert_snapshot(&self, at: Millis) -> Result<AlertSnapshot> {
        let r = lock(&self.reader);
        let mut incidents = Vec::new();
        let mut stmt = r.prepare_cached(
            "SELECT i.id, i.category, i.status, i.assignee, i.handler, i.level, \
               (SELECT c.user_id FROM change_history c WHERE c.doc_id = i.id \
                  AND c.op IN ('incident.report', 'incident.assign', 'incident.accept', \
                               'incident.dispatch') \
                ORDER BY c.at DESC, c.hash DESC LIMIT 1) \
             FROM incidents i ORDER BY i.id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, Option<String>>(6)?,
            ))
        })?;
        for row in rows {
            let (id, category, status, assignee, handler, level, assigned_by) = row?;
            // Rows are written by this code: an unknown code cannot be there; skip it if so.
            let (Some(category), Some(status), Some(level)) = (
                IncidentCategory::from_code(&category),
                IncidentStatus::from_code(&status),
                Level::from_code(&level),
            ) else {
                continue;
            };
            incidents.push(IncidentMark {
                id,
                category,
                status,
                assignee,
                handler,
                level,
                assigned_by,
            });
        }
        let mut needs = Vec::new();
        let mut stmt =
            r.prepare_cached("SELECT id, category, status, owner, due_at FROM needs ORDER BY id")?;
        let rows = stmt.query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Millis>(4)?,
            ))
        })?;
        for row in rows {
            let (id, category, status, owner, due_at) = row?;
            let (Some(category), Some(status)) = (
                NeedCategory::from_code(&category),
                NeedStatus::from_code(&status),
            ) else {
                continue;
            };
            needs.push(NeedMark {
                id,
                category,
                status,
                owner,
                due_at,
            });
        }
        Ok(AlertSnapshot {
            format: FORMAT,
            at,
            incidents,
            needs,
        })
    }
}

fn mine(i: &IncidentMark, me: &str) -> bool {
    i.assignee.as_deref() == Some(me) || i.handler.as_deref() == Some(me)
}

fn followed(n: &NeedMark) -> bool {
    matches!(n.status, NeedStatus::Open | NeedStatus::InHand)
}

/// The alerts for `me` between the snapshot before a sync and the one after it, at `now`:
/// assignments first, then escalations, then follow-ups due, each in id order.
pub fn alerts(before: &AlertSnapshot, after: &AlertSnapshot, me: &str, now: Millis) -> Vec<Alert> {
    let old_incidents: HashMap<&str, &IncidentMark> = before
        .incidents
        .iter()
        .map(|i| (i.id.as_str(), i))
        .collect();
    let old_needs: HashMap<&str, &NeedMark> =
        before.needs.iter().map(|n| (n.id.as_str(), n)).collect();
    let mut out = Vec::new();
    for i in &after.incidents {
        let was = old_incidents.get(i.id.as_str());
        let news = i.assigned_by.as_deref() != Some(me);
        if i.status != IncidentStatus::Closed
            && mine(i, me)
            && news
            && !was.is_some_and(|w| mine(w, me))
        {
            out.push(Alert {
                key: format!("assigned:{}", i.id),
                kind: AlertKind::Assigned,
                record_id: i.id.clone(),
                summary: format!("新派单：{}", i.category.label()),
            });
        }
    }
    for i in &after.incidents {
        let was_level = old_incidents
            .get(i.id.as_str())
            .map_or(Level::Grid, |w| w.level);
        if i.level > was_level {
            out.push(Alert {
                key: format!("escalated:{}:{}", i.id, i.level.code()),
                kind: AlertKind::Escalated,
                record_id: i.id.clone(),
                summary: format!("事件已升级到{}：{}", i.level.label(), i.category.label()),
            });
        }
    }
    for n in &after.needs {
        if n.owner != me || !followed(n) || n.due_at > now {
            continue;
        }
        let was_due = old_needs
            .get(n.id.as_str())
            .is_some_and(|w| w.owner == me && followed(w) && w.due_at <= before.at);
        if !was_due {
            out.push(Alert {
                key: format!("follow_up_due:{}", n.id),
                kind: AlertKind::FollowUpDue,
                record_id: n.id.clone(),
                summary: format!("跟进到期：{}", n.category.label()),
            });
        }
    }
    out
}
