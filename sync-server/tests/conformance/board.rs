//! Conformance checks of the response board (`WorkflowStorage::board`, `incident_row`,
//! `open_disputes_by_grid`): its rows follow pushes, moves and escalations, it honours the
//! scope, its filters, order, paging and total, and the open disputes per grid.

use automerge::AutoCommit;
use automerge::transaction::Transactable;
use linli_domain::doc as write;
use linli_domain::protocol::PushOutcome;
use linli_domain::targets::Targets;
use linli_domain::{
    Department, DisputeOutcome, Incident, IncidentAction as A, IncidentCategory, IncidentStatus,
    Level, Millis, MoveDetail, Priority, moves,
};
use linli_sync_server::Device;
use linli_sync_server::Storage;
use linli_sync_server::board::{BoardQuery, IncidentRow};
use linli_sync_server::workflow::{self, ServerActor};
use linli_testkit::demo;

use super::{actor_of, commit_as, demo as seeded, push_one};

const MIN: Millis = 60_000;

/// An incident of `category` reported by `who` at `building` of `grid`.
fn report(
    who: &Device,
    id: &str,
    category: IncidentCategory,
    grid: &str,
    building: &str,
) -> AutoCommit {
    let mut d = AutoCommit::new().with_actor(actor_of(who));
    let i = Incident {
        id: id.into(),
        category,
        description: format!("{id} 的描述"),
        community_id: demo::COMMUNITY.into(),
        grid_id: grid.into(),
        micro_grid_id: None,
        building_id: Some(building.into()),
        unit_id: None,
        household_id: None,
        reporter: who.user_id.clone(),
        priority: Priority::Normal,
        assignee: None,
        department: None,
        reported_at: 1_700_000_000_000,
        received_at: None,
        status: IncidentStatus::Reported,
        level: Level::Grid,
        dispute: None,
        events: Vec::new(),
    };
    write::init_incident(&mut d, &i).unwrap();
    commit_as(who, &mut d);
    d
}

/// Reports and pushes an incident; its document as the reporter's phone holds it.
fn reported(
    s: &dyn Storage,
    who: &Device,
    id: &str,
    category: IncidentCategory,
    grid: &str,
    building: &str,
) -> AutoCommit {
    let mut d = report(who, id, category, grid, building);
    assert_eq!(push_one(s, who, id, d.save_after(&[])), PushOutcome::Stored);
    d
}

/// `who` makes `action` on `d` as a phone does and pushes it; the outcome.
fn make(
    s: &dyn Storage,
    who: &Device,
    id: &str,
    d: &mut AutoCommit,
    action: A,
    detail: MoveDetail,
) -> PushOutcome {
    d.set_actor(actor_of(who));
    let heads = d.get_heads();
    let n = d.get_changes(&[]).len();
    let at = 1_700_000_000_000 + n as Millis * 1000;
    let e = moves::event(format!("e-{n}"), action, who.user_id.clone(), at, detail);
    moves::apply(d, &e).unwrap();
    commit_as(who, d);
    push_one(s, who, id, d.save_after(&heads))
}

fn row(s: &dyn Storage, id: &str) -> IncidentRow {
    s.incident_row(id).unwrap().unwrap()
}

/// The sweep's step for `id` on a clock at `at`.
fn escalate_at(s: &dyn Storage, id: &str, at: Millis) -> Option<Level> {
    let server = ServerActor::new(std::sync::Arc::new(move || at));
    let mut made = None;
    s.write_workflow(&mut |tx| {
        made = workflow::escalate_one(tx, &server, id)?.map(|e| e.level);
        Ok(())
    })
    .unwrap();
    made
}

fn all(now: Millis) -> BoardQuery {
    BoardQuery {
        now,
        limit: 100,
        ..BoardQuery::default()
    }
}

fn ids(s: &dyn Storage, who: &Device, q: &BoardQuery) -> Vec<String> {
    s.board(&who.scope, q)
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.doc_id)
        .collect()
}

pub fn board_rows_follow_pushes_moves_and_escalations(s: &dyn Storage) {
    let d = seeded(s);
    assert!(s.incident_row("inc-1").unwrap().is_none());
    let mut inc = reported(
        s,
        &d.li,
        "inc-1",
        IncidentCategory::Noise,
        demo::GRID_1,
        demo::BUILDING_1,
    );
    let r = row(s, "inc-1");
    let received = r.received_at.expect("the server's receipt");
    let t = Targets::default();
    assert_eq!(r.status, IncidentStatus::Reported);
    assert!(r.open);
    assert_eq!((r.level, r.level_rank), (Level::Grid, 0));
    assert_eq!(r.respond_by, Some(received + t.response_ms));
    assert_eq!(r.next_due, r.respond_by, "the response is pending");
    assert_eq!(r.reporter, demo::USER_LI_MEI);
    assert_eq!(r.building_id.as_deref(), Some(demo::BUILDING_1));
    assert_eq!(r.description, "inc-1 的描述");

    // Accepted: the resolution is pending, Li handles it.
    assert_eq!(
        make(
            s,
            &d.li,
            "inc-1",
            &mut inc,
            A::Accept,
            MoveDetail::default()
        ),
        PushOutcome::Stored
    );
    let r = row(s, "inc-1");
    assert_eq!(r.status, IncidentStatus::Accepted);
    assert!(r.accepted_at.is_some());
    assert_eq!(r.handler.as_deref(), Some(demo::USER_LI_MEI));
    assert_eq!(r.next_due, Some(received + t.resolve_ms(Priority::Normal)));

    // Dispatched by the admin to a department.
    let dispatch = MoveDetail {
        department: Some(Department::Police),
        ..MoveDetail::default()
    };
    assert_eq!(
        make(s, &d.admin, "inc-1", &mut inc, A::Dispatch, dispatch),
        PushOutcome::Stored
    );
    let r = row(s, "inc-1");
    assert_eq!(r.status, IncidentStatus::Dispatched);
    assert_eq!(r.department, Some(Department::Police));

    // Moved by the admin to grid 2: off Li's board, onto Wang's.
    assert_eq!(ids(s, &d.li, &all(received)), ["inc-1"]);
    let heads = inc.get_heads();
    inc.set_actor(actor_of(&d.admin));
    inc.put(automerge::ROOT, "grid_id", demo::GRID_2).unwrap();
    inc.put(automerge::ROOT, "building_id", demo::BUILDING_9)
        .unwrap();
    commit_as(&d.admin, &mut inc);
    assert_eq!(
        push_one(s, &d.admin, "inc-1", inc.save_after(&heads)),
        PushOutcome::Stored
    );
    assert_eq!(row(s, "inc-1").grid_id, demo::GRID_2);
    assert!(ids(s, &d.li, &all(received)).is_empty());
    assert_eq!(ids(s, &d.wang, &all(received)), ["inc-1"]);

    // The sweep's escalation raises the row's level.
    reported(
        s,
        &d.li,
        "inc-2",
        IncidentCategory::Parking,
        demo::GRID_1,
        demo::BUILDING_2,
    );
    let received = row(s, "inc-2").received_at.unwrap();
    assert_eq!(
        escalate_at(s, "inc-2", received + 20 * MIN),
        Some(Level::Community)
    );
    let r = row(s, "inc-2");
    assert_eq!((r.level, r.level_rank), (Level::Community, 1));
    assert_eq!(r.status, IncidentStatus::Reported);
    // Its targets moved: the deadlines follow.
    let mut targets = s.targets(demo::COMMUNITY).unwrap();
    targets.base.response_ms = 30 * MIN;
    s.set_targets(demo::COMMUNITY, &targets).unwrap();
    assert_eq!(row(s, "inc-2").respond_by, Some(received + 30 * MIN));
}

pub fn the_board_honours_the_scope(s: &dyn Storage) {
    let d = seeded(s);
    let one = |id, grid, building| {
        reported(s, &d.li, id, IncidentCategory::Noise, grid, building);
    };
    one("inc-b1", demo::GRID_1, demo::BUILDING_1);
    one("inc-b2", demo::GRID_1, demo::BUILDING_2);
    reported(
        s,
        &d.wang,
        "inc-g2",
        IncidentCategory::Noise,
        demo::GRID_2,
        demo::BUILDING_9,
    );
    let now = s.server().now();
    assert_eq!(ids(s, &d.li, &all(now)).len(), 2);
    assert!(!ids(s, &d.li, &all(now)).contains(&"inc-g2".to_owned()));
    assert_eq!(ids(s, &d.wang, &all(now)), ["inc-g2"]);
    assert_eq!(ids(s, &d.zhao, &all(now)), ["inc-b1"], "building 1 only");
    let page = s.board(&d.admin.scope, &all(now)).unwrap();
    assert_eq!(page.total, 3);
    assert_eq!(page.rows.len(), 3);
    // A grid filter does not widen a scope.
    let other_grid = BoardQuery {
        grid_id: Some(demo::GRID_2.into()),
        ..all(now)
    };
    assert!(ids(s, &d.li, &other_grid).is_empty());
    assert_eq!(s.board(&d.li.scope, &other_grid).unwrap().total, 0);
}

pub fn the_board_filters_orders_and_pages(s: &dyn Storage) {
    let d = seeded(s);
    let mut accepted = reported(
        s,
        &d.li,
        "a-accepted",
        IncidentCategory::Noise,
        demo::GRID_1,
        demo::BUILDING_1,
    );
    reported(
        s,
        &d.li,
        "b-waiting",
        IncidentCategory::Parking,
        demo::GRID_1,
        demo::BUILDING_1,
    );
    reported(
        s,
        &d.li,
        "c-escalated",
        IncidentCategory::Parking,
        demo::GRID_1,
        demo::BUILDING_2,
    );
    let mut dispatched = reported(
        s,
        &d.wang,
        "d-dispatched",
        IncidentCategory::SafetyHazard,
        demo::GRID_2,
        demo::BUILDING_9,
    );
    assert_eq!(
        make(
            s,
            &d.li,
            "a-accepted",
            &mut accepted,
            A::Accept,
            MoveDetail::default()
        ),
        PushOutcome::Stored
    );
    assert_eq!(
        make(
            s,
            &d.admin,
            "d-dispatched",
            &mut dispatched,
            A::Accept,
            MoveDetail::default()
        ),
        PushOutcome::Stored
    );
    let to_property = MoveDetail {
        department: Some(Department::Property),
        ..MoveDetail::default()
    };
    assert_eq!(
        make(
            s,
            &d.admin,
            "d-dispatched",
            &mut dispatched,
            A::Dispatch,
            to_property
        ),
        PushOutcome::Stored
    );
    let received = row(s, "c-escalated").received_at.unwrap();
    assert_eq!(
        escalate_at(s, "c-escalated", received + 20 * MIN),
        Some(Level::Community)
    );
    let admin = &d.admin;

    // Nothing overdue yet: the escalated first, then by due time (the responses pending
    // before the resolutions), then by receipt and id.
    let early = all(received);
    assert_eq!(
        ids(s, admin, &early),
        ["c-escalated", "b-waiting", "a-accepted", "d-dispatched"]
    );
    // An hour on the responses are overdue (the escalated still first among them); the
    // accepted are not.
    let later = all(received + 60 * MIN);
    assert_eq!(
        ids(s, admin, &later),
        ["c-escalated", "b-waiting", "a-accepted", "d-dispatched"]
    );
    let page = s.board(&admin.scope, &later).unwrap();
    assert!(page.rows[0].overdue(later.now) && page.rows[1].overdue(later.now));
    assert!(!page.rows[2].overdue(later.now));

    // Paging: the pages are the order cut in pieces; the total is every match.
    let mut paged = Vec::new();
    for offset in [0, 2, 4] {
        let q = BoardQuery {
            offset,
            limit: 2,
            ..later.clone()
        };
        let page = s.board(&admin.scope, &q).unwrap();
        assert_eq!(page.total, 4);
        assert!(page.rows.len() <= 2);
        paged.extend(page.rows.into_iter().map(|r| r.doc_id));
    }
    assert_eq!(paged, ids(s, admin, &later));

    // Filters.
    let q = |f: &dyn Fn(&mut BoardQuery)| {
        let mut q = later.clone();
        f(&mut q);
        let page = s.board(&admin.scope, &q).unwrap();
        assert_eq!(page.total, page.rows.len() as u64);
        page.rows.into_iter().map(|r| r.doc_id).collect::<Vec<_>>()
    };
    assert_eq!(
        q(&|q| q.category = Some(IncidentCategory::Parking)),
        ["c-escalated", "b-waiting"]
    );
    assert_eq!(
        q(&|q| q.status = Some(IncidentStatus::Accepted)),
        ["a-accepted"]
    );
    assert_eq!(
        q(&|q| q.grid_id = Some(demo::GRID_2.into())),
        ["d-dispatched"]
    );
    assert_eq!(
        q(&|q| q.handler = Some(demo::USER_LI_MEI.into())),
        ["a-accepted"]
    );
    assert_eq!(
        q(&|q| q.department = Some(Department::Property)),
        ["d-dispatched"]
    );
    assert!(q(&|q| q.department = Some(Department::Police)).is_empty());
    assert_eq!(q(&|q| q.open_only = true).len(), 4);
}

pub fn open_disputes_are_counted_per_grid(s: &dyn Storage) {
    let d = seeded(s);
    let dispute = |who: &Device, id, grid, building| {
        reported(s, who, id, IncidentCategory::Dispute, grid, building)
    };
    dispute(&d.li, "dispute-open", demo::GRID_1, demo::BUILDING_1);
    let mut settled = dispute(&d.li, "dispute-settled", demo::GRID_1, demo::BUILDING_2);
    let mut resolved = dispute(&d.wang, "dispute-resolved", demo::GRID_2, demo::BUILDING_9);
    reported(
        s,
        &d.li,
        "not-a-dispute",
        IncidentCategory::Noise,
        demo::GRID_1,
        demo::BUILDING_1,
    );
    let mediated = MoveDetail {
        outcome: Some(DisputeOutcome::Mediated),
        ..MoveDetail::default()
    };
    let closing = MoveDetail {
        note: "当事人已和解".into(),
        ..MoveDetail::default()
    };
    for (id, doc) in [
        ("dispute-settled", &mut settled),
        ("dispute-resolved", &mut resolved),
    ] {
        let admin = &d.admin;
        assert_eq!(
            make(s, admin, id, doc, A::Accept, MoveDetail::default()),
            PushOutcome::Stored
        );
        assert_eq!(
            make(s, admin, id, doc, A::Resolve, mediated.clone()),
            PushOutcome::Stored
        );
    }
    // Settled: closed with an outcome. Resolved with one but not closed: still open.
    assert_eq!(
        make(
            s,
            &d.admin,
            "dispute-settled",
            &mut settled,
            A::Close,
            closing
        ),
        PushOutcome::Stored
    );
    assert_eq!(row(s, "dispute-settled").status, IncidentStatus::Closed);
    assert!(!row(s, "dispute-settled").open);
    assert_eq!(
        row(s, "dispute-resolved").outcome,
        Some(DisputeOutcome::Mediated)
    );
    assert_eq!(
        s.open_disputes_by_grid(&d.admin.scope).unwrap(),
        [
            (demo::GRID_1.to_owned(), 1, 2),
            (demo::GRID_2.to_owned(), 1, 1)
        ]
    );
    assert_eq!(
        s.open_disputes_by_grid(&d.li.scope).unwrap(),
        [(demo::GRID_1.to_owned(), 1, 2)]
    );
    assert_eq!(
        s.open_disputes_by_grid(&d.wang.scope).unwrap(),
        [(demo::GRID_2.to_owned(), 1, 1)]
    );
    // The closed one is off a board of open rows.
    let open = BoardQuery {
        open_only: true,
        category: Some(IncidentCategory::Dispute),
        ..all(s.server().now())
    };
    assert_eq!(s.board(&d.admin.scope, &open).unwrap().total, 2);
}

pub fn a_micro_grid_workers_board_holds_their_micro_grid(s: &dyn Storage) {
    use linli_domain::{Place, PlaceKind, Role};
    use linli_sync_server::{User, admin};
    let d = seeded(s);
    let put = |id: &str, kind, parent: &str| {
        let place = Place {
            id: id.into(),
            kind,
            parent_id: Some(parent.into()),
            name: format!("{id}名"),
        };
        admin::create_place(s, &place).unwrap();
    };
    put("m-board", PlaceKind::MicroGrid, demo::GRID_1);
    put("b-board", PlaceKind::Building, "m-board");
    let user = User {
        id: "u-micro-board".into(),
        name: "微网格员".into(),
        role: Role::MicroGridWorker,
        community_id: demo::COMMUNITY.into(),
    };
    admin::create_user(s, &user).unwrap();
    admin::grant(s, "u-micro-board", "m-board").unwrap();
    let token = admin::enroll(s, "u-micro-board", None).unwrap().token;
    let micro = super::device(s, &token);
    // Reported at the micro-grid's building without naming the micro-grid (as a version-1
    // app writes it): the row is at the micro-grid, as the document is stored.
    reported(
        s,
        &d.li,
        "inc-micro",
        IncidentCategory::Noise,
        demo::GRID_1,
        "b-board",
    );
    reported(
        s,
        &d.li,
        "inc-plain",
        IncidentCategory::Noise,
        demo::GRID_1,
        demo::BUILDING_1,
    );
    assert_eq!(
        row(s, "inc-micro").micro_grid_id.as_deref(),
        Some("m-board")
    );
    let now = s.server().now();
    assert_eq!(ids(s, &micro, &all(now)), ["inc-micro"]);
    assert_eq!(ids(s, &d.li, &all(now)).len(), 2);
}
