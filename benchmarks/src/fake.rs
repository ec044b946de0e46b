//! Deterministic fake data for the benchmarks: a seeded generator (SplitMix64, no
//! dependency), Chinese names and mobile numbers, households of 1–4 members, visits,
//! incidents, and a generated county's place tree (communities → grids → buildings → units).
//! The same seed gives the same data on every run.

use linli_core::{
    CareTag, DisputeOutcome, Housing, IncidentAction, IncidentCategory, MoveDetail, Need,
    NeedCategory, NewHousehold, NewIncident, NewMember, NewVisit, Place, PlaceKind, Priority,
    Relation, Residency, VisitPurpose,
};

/// SplitMix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + self.below((hi - lo + 1) as usize) as i32
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

pub const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "梁", "郑", "谢", "宋", "唐", "邓", "冯", "曹", "彭", "曾",
];
/// Rarer surnames, one name in 16: the polyphonic ones read as surnames (单 shan, 曾 zeng
/// above, 解 xie, 区 ou, 仇 qiu, 朴 piao, 查 zha, 盖 ge), a homophone of 张 (章), and
/// compound surnames (four-character names, four-letter initials).
pub const RARE_SURNAMES: &[&str] = &[
    "单", "解", "区", "仇", "朴", "查", "盖", "章", "欧阳", "司马", "诸葛", "上官",
];
pub const GIVEN: &[&str] = &[
    "秀英", "桂兰", "建国", "志强", "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
    "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "玉兰", "淑珍",
    "国华", "小红", "子涵", "浩然", "欣怡", "宇轩", "文博", "雨桐", "德福", "凤英", "春梅", "海燕",
];
/// No generated name, phone or address contains this.
pub const NO_MATCH: &str = "不存在";
const NOTES: &[&str] = &[
    "独居，子女在外地工作",
    "行动不便，需定期上门",
    "租户，合同至年底",
    "低保户，每月复核",
    "家中有退役军人",
    "老人耳背，敲门需大声",
];
const NEEDS: &[(NeedCategory, &str)] = &[
    (NeedCategory::Repair, "卫生间漏水"),
    (NeedCategory::ElderCare, "想申请居家养老服务"),
    (NeedCategory::Repair, "楼道灯坏了"),
    (NeedCategory::Policy, "咨询医保报销政策"),
    (NeedCategory::Other, "孩子放学后无人看护"),
    (NeedCategory::Health, "需要家庭医生签约"),
    (NeedCategory::Employment, "儿子想找工作"),
];
const DONE: &[&str] = &["已联系物业", "已登记，转社区办理", "现场讲解政策", ""];
const INCIDENTS: &[(IncidentCategory, &str)] = &[
    (
        IncidentCategory::FlyingWireCharging,
        "3楼楼道飞线给电动车充电",
    ),
    (IncidentCategory::Parking, "消防通道停了两辆车"),
    (IncidentCategory::Noise, "夜间装修噪音"),
    (IncidentCategory::LeakRepair, "楼上漏水到楼下厨房"),
    (IncidentCategory::Dispute, "邻里因占用楼道发生争执"),
    (IncidentCategory::SafetyHazard, "单元门禁损坏"),
];
pub const DAY_MS: i64 = 24 * 3600 * 1000;

pub fn person_name(rng: &mut Rng) -> String {
    let surname = if rng.below(16) == 0 {
        rng.pick(RARE_SURNAMES)
    } else {
        rng.pick(SURNAMES)
    };
    format!("{surname}{}", rng.pick(GIVEN))
}

/// An 11-digit mobile number.
pub fn phone(rng: &mut Rng) -> String {
    format!(
        "1{}{:09}",
        rng.pick(&[3, 5, 7, 8, 9]),
        rng.next_u64() % 1_000_000_000
    )
}

pub fn member(rng: &mut Rng, relation: Relation, born: i32, with_phone: bool) -> NewMember {
    NewMember {
        name: person_name(rng),
        relation,
        birth_year: Some(born),
        phone: with_phone.then(|| phone(rng)),
        id_number: None,
    }
}

/// A household of 1–4 members (the head always with a mobile number), 0–2 care tags and
/// sometimes a note.
pub fn household(rng: &mut Rng, place_id: &str, room: String) -> NewHousehold {
    let head_born = rng.range(1938, 1988);
    let mut members = vec![member(rng, Relation::Head, head_born, true)];
    if rng.chance(70) {
        let born = head_born + rng.range(-4, 4);
        let with_phone = rng.chance(80);
        members.push(member(rng, Relation::Spouse, born, with_phone));
    }
    if rng.chance(40) {
        let born = (head_born + rng.range(22, 32)).min(2020);
        members.push(member(rng, Relation::Child, born, born < 2008));
    }
    if rng.chance(10) && head_born > 1965 {
        let born = head_born - rng.range(22, 30);
        members.push(member(rng, Relation::Parent, born, false));
    }
    let tag_count = match rng.below(10) {
        0..=2 => 0,
        3..=7 => 1,
        _ => 2,
    };
    let mut tags: Vec<CareTag> = Vec::new();
    while tags.len() < tag_count {
        let t = *rng.pick(CareTag::ALL);
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    NewHousehold {
        place_id: place_id.into(),
        room,
        residency: if rng.chance(85) {
            Residency::Resident
        } else {
            Residency::Floating
        },
        housing: *rng.pick(&[Housing::Owned, Housing::Rented, Housing::Resettlement]),
        tags,
        notes: if rng.chance(20) {
            (*rng.pick(NOTES)).into()
        } else {
            String::new()
        },
        members,
    }
}

/// A visit at `at` (None: now, as the form does).
pub fn visit(rng: &mut Rng, household_id: &str, at: Option<i64>) -> NewVisit {
    let needs = if rng.chance(60) {
        let (category, text) = *rng.pick(NEEDS);
        vec![Need {
            category,
            text: text.into(),
        }]
    } else {
        vec![]
    };
    NewVisit {
        household_id: household_id.into(),
        at,
        purpose: *rng.pick(&[
            VisitPurpose::Routine,
            VisitPurpose::AskNeeds,
            VisitPurpose::FollowUp,
            VisitPurpose::Care,
            VisitPurpose::Policy,
        ]),
        needs,
        done_on_spot: (*rng.pick(DONE)).into(),
        follow_up: rng.chance(30),
    }
}

/// A visit at a time within the week before `now`.
pub fn visit_this_week(rng: &mut Rng, household_id: &str, now: i64) -> NewVisit {
    let at = now - rng.range(1, 7 * 24 * 60) as i64 * 60_000;
    visit(rng, household_id, Some(at))
}

pub fn incident(rng: &mut Rng, place_id: Option<&str>, household: Option<&str>) -> NewIncident {
    let (category, text) = *rng.pick(INCIDENTS);
    NewIncident {
        category,
        description: text.into(),
        place_id: place_id.map(Into::into),
        household_id: household.map(Into::into),
        priority: *rng.pick(&[Priority::Normal, Priority::Normal, Priority::High]),
        assignee: None,
        dispute: None,
    }
}

/// What the form adds to a move: a resolved dispute carries its outcome (调解成功 here).
pub fn move_detail(category: IncidentCategory, action: IncidentAction, note: &str) -> MoveDetail {
    let dispute_resolved =
        action == IncidentAction::Resolve && category == IncidentCategory::Dispute;
    MoveDetail {
        note: note.into(),
        outcome: dispute_resolved.then_some(DisputeOutcome::Mediated),
        ..MoveDetail::default()
    }
}

/// Room of the `i`th household of a unit: floor and door, e.g. "1203".
pub fn room(i: usize, doors_per_floor: usize) -> String {
    format!("{}{:02}", i / doors_per_floor + 1, i % doors_per_floor + 1)
}

/// A community's places, parents first, and per grid its buildings and units.
pub struct Community {
    pub id: String,
    pub places: Vec<Place>,
    pub grids: Vec<Grid>,
}

pub struct Grid {
    pub id: String,
    pub buildings: Vec<String>,
    /// Two per building.
    pub units: Vec<String>,
}

fn place(id: &str, kind: PlaceKind, parent: Option<&str>, name: String) -> Place {
    Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name,
    }
}

/// Community `id` with `grids` grids of `buildings` buildings of two units each.
pub fn community(id: &str, name: &str, grids: usize, buildings: usize) -> Community {
    let mut places = vec![place(id, PlaceKind::Community, None, name.into())];
    let mut out = Vec::new();
    for g in 0..grids {
        let gid = format!("{id}-g{:02}", g + 1);
        places.push(place(
            &gid,
            PlaceKind::Grid,
            Some(id),
            format!("第{}网格", g + 1),
        ));
        let mut grid = Grid {
            id: gid.clone(),
            buildings: Vec::new(),
            units: Vec::new(),
        };
        for b in 0..buildings {
            let bid = format!("{gid}-b{:02}", b + 1);
            places.push(place(
                &bid,
                PlaceKind::Building,
                Some(&gid),
                format!("{}栋", b + 1),
            ));
            for u in 0..2 {
                let uid = format!("{bid}-u{}", u + 1);
                places.push(place(
                    &uid,
                    PlaceKind::Unit,
                    Some(&bid),
                    format!("{}单元", u + 1),
                ));
                grid.units.push(uid);
            }
            grid.buildings.push(bid);
        }
        out.push(grid);
    }
    Community {
        id: id.into(),
        places,
        grids: out,
    }
}

/// A county: `grids` grids in communities of `per_community` grids, `buildings` buildings a
/// grid. Community ids are `c01`, `c02`, …
pub fn county(grids: usize, per_community: usize, buildings: usize) -> Vec<Community> {
    let per = per_community.max(1);
    (0..grids.div_ceil(per))
        .map(|c| {
            let here = per.min(grids - c * per);
            community(
                &format!("c{:02}", c + 1),
                &format!("第{}社区", c + 1),
                here,
                buildings,
            )
        })
        .collect()
}
