//! The console's response board through the server's storage: a street of communities filled
//! with server-written incidents (as `POST /api/v1/incidents` writes them, with moves and
//! escalations written in the same document), the board's first page as the console asks for
//! it ([`board_first_page`], which an HTTP variant can wrap once the console serves the
//! board), and the old way (every incident document in scope loaded and parsed, as the API's
//! reads did before the index) for comparison.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use automerge::AutoCommit;
use automerge::transaction::CommitOptions;
use linli_domain::doc::{self, DocKind, DocPlace, heads_to_text};
use linli_domain::scope::Scope;
use linli_domain::targets::{self, CommunityTargets};
use linli_domain::{
    Incident, IncidentAction, IncidentCategory, IncidentStatus, Level, Millis, MoveDetail, Place,
    PlaceKind, Priority, Role, moves,
};
use linli_sync_server::board::{self, BoardPage, BoardQuery, IncidentRow};
use linli_sync_server::merge::Update;
use linli_sync_server::workflow::{self, SYSTEM_DEVICE};
use linli_sync_server::{Auth, SqliteStorage, SyncStorage, WorkflowStorage};

use crate::server::ServerDb;
use crate::{Res, fail};

/// The board's page size.
pub const PAGE: u32 = 50;

const MIN: Millis = 60_000;

/// A grid of the street, with its community and its buildings.
pub struct Grid {
    pub community: String,
    pub grid: String,
    pub buildings: Vec<String>,
}

/// A street of `communities` communities, each with `grids` grids of 4 buildings: the places,
/// parents first, and the grids.
pub fn street(communities: usize, grids: usize) -> (Vec<Place>, Vec<Grid>) {
    let place = |id: String, kind, parent: Option<&str>| Place {
        name: format!("{id}名"),
        id,
        kind,
        parent_id: parent.map(Into::into),
    };
    let mut places = vec![place("street-bench".into(), PlaceKind::Street, None)];
    let mut all = Vec::new();
    for c in 0..communities {
        let community = format!("c-{c}");
        places.push(place(
            community.clone(),
            PlaceKind::Community,
            Some("street-bench"),
        ));
        for g in 0..grids {
            let grid = format!("c-{c}-g-{g}");
            places.push(place(grid.clone(), PlaceKind::Grid, Some(&community)));
            let buildings: Vec<String> = (0..4).map(|b| format!("{grid}-b-{b}")).collect();
            for b in &buildings {
                places.push(place(b.clone(), PlaceKind::Building, Some(&grid)));
            }
            all.push(Grid {
                community: community.clone(),
                grid,
                buildings,
            });
        }
    }
    (places, all)
}

/// A street admin of the street (scope: every community under it), as authenticated.
pub fn street_admin(db: &ServerDb) -> Res<Scope> {
    db.user(
        "street-admin",
        "街道管理员",
        Role::StreetAdmin,
        "c-0",
        "street-bench",
    )?;
    let (_, token) = db.enroll("street-admin")?;
    match db.storage().authenticate(&token)? {
        Auth::Device(d) => Ok(d.scope),
        _ => fail("the street admin's device does not authenticate"),
    }
}

/// What the fill made.
#[derive(Debug, Default)]
pub struct Filled {
    pub incidents: usize,
    pub overdue: usize,
    pub escalated: usize,
}

/// Fills the street with `n` server-written incidents, spread over its grids, received over
/// the last hours on the server's clock `clock` (moved back for each): 60 % accepted (their
/// resolution pending), 20 % waiting less than 15 minutes, 10 % overdue and 10 % overdue and
/// escalated (to the community; every tenth of those to the street). Batches of 500 per
/// write transaction.
pub fn fill(db: &ServerDb, clock: &Arc<AtomicI64>, grids: &[Grid], n: usize) -> Res<Filled> {
    let s = db.storage();
    let server = s.server().clone();
    let now = clock.load(Ordering::SeqCst);
    let mut made = Filled::default();
    let categories = IncidentCategory::ALL;
    let mut i = 0;
    while i < n {
        let end = (i + 500).min(n);
        s.write_workflow(&mut |tx| {
            for k in i..end {
                let Grid {
                    community,
                    grid,
                    buildings,
                } = &grids[k % grids.len()];
                let kind = k % 10;
                let age = match kind {
                    6 | 7 => (k % 14) as Millis * MIN,
                    _ => 2 * 60 * MIN + (k % 600) as Millis * MIN,
                };
                let at = now - age;
                clock.store(at, Ordering::SeqCst);
                let id = format!("inc-{k:06}");
                let place = DocPlace {
                    community_id: community.clone(),
                    grid_id: grid.clone(),
                    micro_grid_id: None,
                    building_id: Some(buildings[k % buildings.len()].clone()),
                    unit_id: None,
                };
                let incident = Incident {
                    id: id.clone(),
                    category: categories[k % categories.len()],
                    description: format!("第{k}件：楼道堆放杂物，影响通行"),
                    community_id: place.community_id.clone(),
                    grid_id: place.grid_id.clone(),
                    micro_grid_id: None,
                    building_id: place.building_id.clone(),
                    unit_id: None,
                    household_id: None,
                    reporter: format!("{grid}-worker"),
                    priority: Priority::Normal,
                    assignee: None,
                    department: None,
                    reported_at: at,
                    received_at: None,
                    status: IncidentStatus::Reported,
                    level: Level::Grid,
                    dispute: None,
                    events: Vec::new(),
                };
                let mut d = AutoCommit::new().with_actor(server.actor().clone());
                doc::init_incident(&mut d, &incident)?;
                let mut event = |action, level: Option<Level>, by: &str| {
                    let e = moves::event(
                        format!("e-{}", action_code(action, level)),
                        action,
                        by.to_owned(),
                        at + 1,
                        MoveDetail {
                            level,
                            ..MoveDetail::default()
                        },
                    );
                    moves::apply(&mut d, &e).map(|_| ())
                };
                match kind {
                    0..=5 => event(IncidentAction::Accept, None, &incident.reporter)?,
                    9 => {
                        event(IncidentAction::Escalate, Some(Level::Community), "system")?;
                        if k % 100 == 99 {
                            event(IncidentAction::Escalate, Some(Level::Street), "system")?;
                        }
                        made.escalated += 1;
                    }
                    _ => {}
                }
                if kind >= 8 {
                    made.overdue += 1;
                }
                d.commit_with(
                    CommitOptions::default()
                        .with_message(r#"{"u":"bench","op":"incident.report","f":[]}"#)
                        .with_time(at),
                );
                let update = Update {
                    kind: DocKind::Incident,
                    place,
                    snapshot: d.save_nocompress(),
                    heads: heads_to_text(&d.get_heads()),
                    new_changes: d.save_after(&[]),
                    moved: false,
                    left: None,
                };
                tx.store(SYSTEM_DEVICE, &id, &update)?;
                workflow::after_push(tx, &server, &id, &update)?;
                made.incidents += 1;
            }
            Ok(())
        })?;
        i = end;
    }
    clock.store(now, Ordering::SeqCst);
    Ok(made)
}

fn action_code(action: IncidentAction, level: Option<Level>) -> String {
    match level {
        Some(l) => format!("{}-{}", action.code(), l.code()),
        None => action.code().to_owned(),
    }
}

/// The board's first page as the console asks for it: open incidents in `scope`, overdue
/// judged at `now`, [`PAGE`] rows, from the index.
pub fn board_first_page(s: &SqliteStorage, scope: &Scope, now: Millis) -> Res<BoardPage> {
    let q = BoardQuery {
        open_only: true,
        now,
        offset: 0,
        limit: PAGE,
        ..BoardQuery::default()
    };
    Ok(s.board(scope, &q)?)
}

/// How many open incidents the board of `scope` has (a page of no rows: the count query).
pub fn board_total(s: &SqliteStorage, scope: &Scope, now: Millis) -> Res<u64> {
    let q = BoardQuery {
        open_only: true,
        now,
        limit: 0,
        ..BoardQuery::default()
    };
    Ok(s.board(scope, &q)?.total)
}

/// The same page the old way: every incident document in scope loaded and parsed (as the
/// API's reads did before the index), its deadlines from its community's targets, then
/// sorted in the board order.
pub fn board_first_page_from_documents(
    s: &SqliteStorage,
    scope: &Scope,
    now: Millis,
) -> Res<BoardPage> {
    let mut targets: BTreeMap<String, CommunityTargets> = BTreeMap::new();
    let mut rows: Vec<IncidentRow> = Vec::new();
    for (id, bytes) in s.incident_docs(scope)? {
        let d = AutoCommit::load(&bytes)?;
        let Ok((i, derived)) = doc::read_incident(&d) else {
            continue;
        };
        if derived.status == IncidentStatus::Closed {
            continue;
        }
        if !targets.contains_key(&i.community_id) {
            targets.insert(i.community_id.clone(), s.targets(&i.community_id)?);
        }
        let dl = match (i.received_at, targets.get(&i.community_id)) {
            (Some(at), Some(t)) => Some(targets::deadlines(
                at,
                i.priority,
                &t.for_category(i.category),
            )),
            _ => None,
        };
        rows.push(board::row_of(&id, &i, &derived, dl.as_ref()));
    }
    let total = rows.len() as u64;
    rows.sort_by(|a, b| board::board_order(a, b, now));
    rows.truncate(PAGE as usize);
    Ok(BoardPage { rows, total })
}
