//! Roster rows against the place tree and the households already stored: what an import
//! would create and change. Pure, so the dry run and the import itself plan alike (the
//! import plans again against what is stored when it runs).
//!
//! Natural keys: a household is the one at the same building, unit and room; a member is
//! the one with the same ID number in that household, else the one with the same name (and
//! no other ID number). An ID number already registered in another household, a person
//! twice in the file, an unknown building or unit are problems. Blank cells change nothing;
//! tags are added, never removed. Importing the same file twice creates nothing the second
//! time and changes nothing.

use std::collections::{BTreeMap, HashMap};

use linli_domain::model::{
    Address, CareTag, Gender, Household, Housing, MemberPatch, NewMember, PersonResidence,
    Residency,
};
use linli_domain::{Place, PlaceKind};

use super::Problem;
use super::roster::RosterRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HouseholdAction {
    Create,
    Update,
    Same,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberAction {
    Create,
    Update,
    Same,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberPlan {
    pub line: usize,
    pub action: MemberAction,
    /// The stored member matched (none for a new one).
    pub existing_id: Option<String>,
    pub member: NewMember,
    /// What changes for a matched member (empty for a new one).
    pub patch: MemberPatch,
    pub gender: Option<Gender>,
    pub residence: Option<PersonResidence>,
    /// Whether gender, residence or the member's own tags change.
    pub details_change: bool,
    /// The member's own care tags after the import: those already set and the file's.
    pub tags: Vec<CareTag>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdPlan {
    pub line: usize,
    pub action: HouseholdAction,
    pub existing_id: Option<String>,
    pub address: Address,
    /// For a new household, what it is created with; for a stored one, what changes.
    pub residency: Option<Residency>,
    pub housing: Option<Housing>,
    pub notes: Option<String>,
    pub add_tags: Vec<CareTag>,
    pub members: Vec<MemberPlan>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub rows: usize,
    pub households_created: usize,
    pub households_updated: usize,
    pub households_same: usize,
    pub members_created: usize,
    pub members_updated: usize,
    pub members_same: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub households: Vec<HouseholdPlan>,
    pub problems: Vec<Problem>,
    pub counts: Counts,
}

impl Plan {
    /// The households that need a write.
    pub fn writes(&self) -> impl Iterator<Item = &HouseholdPlan> {
        self.households
            .iter()
            .filter(|h| h.action != HouseholdAction::Same)
    }
}

/// Names → places, for the rows' buildings and units.
struct Tree<'a> {
    by_id: HashMap<&'a str, &'a Place>,
    communities: &'a [String],
}

impl<'a> Tree<'a> {
    fn community_of(&self, p: &Place) -> Option<&'a str> {
        let mut at = p.parent_id.as_deref();
        for _ in 0..8 {
            let up = self.by_id.get(at?)?;
            if up.kind == PlaceKind::Community {
                return Some(up.id.as_str());
            }
            at = up.parent_id.as_deref();
        }
        None
    }

    fn address(&self, row: &RosterRow, places: &'a [Place]) -> Result<Address, Problem> {
        let buildings: Vec<&Place> = places
            .iter()
            .filter(|p| p.kind == PlaceKind::Building && p.name == row.building)
            .filter(|p| {
                self.community_of(p)
                    .is_some_and(|c| self.communities.iter().any(|x| x == c))
            })
            .collect();
        let building = match buildings.as_slice() {
            [] => {
                return Err(Problem::new(
                    row.line,
                    Some("楼栋"),
                    "楼栋不存在，或不在您管理的社区",
                ));
            }
            [b] => *b,
            _ => {
                return Err(Problem::new(
                    row.line,
                    Some("楼栋"),
                    "楼栋名称不唯一，请先在地点管理中改名",
                ));
            }
        };
        let mut address = Address {
            building_id: Some(building.id.clone()),
            room: row.room.trim().to_owned(),
            ..Address::default()
        };
        if let Some(u) = &row.unit {
            let unit = places.iter().find(|p| {
                p.kind == PlaceKind::Unit
                    && p.parent_id.as_deref() == Some(building.id.as_str())
                    && &p.name == u
            });
            match unit {
                Some(unit) => address.unit_id = Some(unit.id.clone()),
                None => {
                    return Err(Problem::new(row.line, Some("单元"), "该楼栋下没有这个单元"));
                }
            }
        }
        let mut at = building.parent_id.as_deref();
        while let Some(id) = at {
            let Some(up) = self.by_id.get(id) else { break };
            match up.kind {
                PlaceKind::MicroGrid => address.micro_grid_id = Some(up.id.clone()),
                PlaceKind::Grid => address.grid_id = up.id.clone(),
                PlaceKind::Community => {
                    address.community_id = up.id.clone();
                    break;
                }
                _ => {}
            }
            at = up.parent_id.as_deref();
        }
        if address.grid_id.is_empty() || address.community_id.is_empty() {
            return Err(Problem::new(row.line, Some("楼栋"), "楼栋不在任何网格下"));
        }
        Ok(address)
    }
}

type Key = (String, Option<String>, String);

fn key_of(a: &Address) -> Key {
    (
        a.building_id.clone().unwrap_or_default(),
        a.unit_id.clone(),
        a.room.trim().to_owned(),
    )
}

/// Plans `rows` (already checked) for an admin whose scope holds `communities`, against
/// the place tree `places` and the households `existing` stored in those communities.
pub fn plan(
    rows: &[RosterRow],
    places: &[Place],
    communities: &[String],
    existing: &[Household],
) -> Plan {
    let tree = Tree {
        by_id: places.iter().map(|p| (p.id.as_str(), p)).collect(),
        communities,
    };
    let mut by_key: HashMap<Key, &Household> = HashMap::new();
    let mut by_id_number: HashMap<&str, &str> = HashMap::new();
    for h in existing {
        by_key.entry(key_of(&h.address)).or_insert(h);
        for m in &h.members {
            if let Some(n) = &m.id_number {
                by_id_number.insert(n.as_str(), h.id.as_str());
            }
        }
    }
    let mut out = Plan::default();
    out.counts.rows = rows.len();
    let mut groups: BTreeMap<Key, usize> = BTreeMap::new();
    let mut seen_id_numbers: HashMap<String, usize> = HashMap::new();
    let mut seen_names: HashMap<(Key, String), usize> = HashMap::new();
    for row in rows {
        let address = match tree.address(row, places) {
            Ok(a) => a,
            Err(p) => {
                out.problems.push(p);
                continue;
            }
        };
        let key = key_of(&address);
        let stored = by_key.get(&key).copied();
        if let Some(m) = &row.member {
            if let Err(p) = person_problem(
                row.line,
                m,
                &key,
                stored,
                &seen_id_numbers,
                &seen_names,
                &by_id_number,
            ) {
                out.problems.push(p);
                continue;
            }
            if let Some(n) = &m.id_number {
                seen_id_numbers.insert(n.clone(), row.line);
            }
            seen_names.insert((key.clone(), m.name.trim().to_owned()), row.line);
        }
        let at = *groups.entry(key).or_insert_with(|| {
            out.households.push(HouseholdPlan {
                line: row.line,
                action: if stored.is_some() {
                    HouseholdAction::Same
                } else {
                    HouseholdAction::Create
                },
                existing_id: stored.map(|h| h.id.clone()),
                address: address.clone(),
                residency: None,
                housing: None,
                notes: None,
                add_tags: Vec::new(),
                members: Vec::new(),
            });
            out.households.len() - 1
        });
        let h = &mut out.households[at];
        household_fields(h, row, stored);
        if let Some(m) = &row.member {
            h.members.push(member_plan(row, m, stored));
        }
    }
    // A new household needs its residency and housing from one of its rows.
    out.households.retain(|h| {
        let complete =
            h.action != HouseholdAction::Create || (h.residency.is_some() && h.housing.is_some());
        if !complete {
            let column = if h.residency.is_none() {
                "居住类型"
            } else {
                "住房"
            };
            out.problems.push(Problem::new(
                h.line,
                Some(column),
                "新住户须填写居住类型和住房",
            ));
        }
        complete
    });
    for h in &mut out.households {
        let changed = h.members.iter().any(|m| m.action != MemberAction::Same)
            || h.residency.is_some()
            || h.housing.is_some()
            || h.notes.is_some()
            || !h.add_tags.is_empty();
        if h.action == HouseholdAction::Same && changed {
            h.action = HouseholdAction::Update;
        }
        let c = &mut out.counts;
        match h.action {
            HouseholdAction::Create => c.households_created += 1,
            HouseholdAction::Update => c.households_updated += 1,
            HouseholdAction::Same => c.households_same += 1,
        }
        for m in &h.members {
            match m.action {
                MemberAction::Create => c.members_created += 1,
                MemberAction::Update => c.members_updated += 1,
                MemberAction::Same => c.members_same += 1,
            }
        }
    }
    out.problems.sort_by_key(|p| p.line);
    out
}

/// The household fields a row gives: the first non-blank value of the household's rows;
/// for a stored household only what differs.
fn household_fields(h: &mut HouseholdPlan, row: &RosterRow, stored: Option<&Household>) {
    if h.residency.is_none()
        && let Some(r) = row.residency
        && stored.is_none_or(|s| s.residency != r)
    {
        h.residency = Some(r);
    }
    if h.housing.is_none()
        && let Some(x) = row.housing
        && stored.is_none_or(|s| s.housing != x)
    {
        h.housing = Some(x);
    }
    if h.notes.is_none()
        && let Some(n) = &row.notes
        && stored.is_none_or(|s| s.notes.trim() != n.trim())
    {
        h.notes = Some(n.clone());
    }
    for t in &row.tags {
        if !h.add_tags.contains(t) && stored.is_none_or(|s| !s.tags.contains(t)) {
            h.add_tags.push(*t);
        }
    }
    h.add_tags.sort();
}

/// A person twice in the file, or registered in another household.
fn person_problem(
    line: usize,
    m: &NewMember,
    key: &Key,
    stored: Option<&Household>,
    seen_id_numbers: &HashMap<String, usize>,
    seen_names: &HashMap<(Key, String), usize>,
    by_id_number: &HashMap<&str, &str>,
) -> Result<(), Problem> {
    if let Some(n) = &m.id_number
        && let Some(first) = seen_id_numbers.get(n)
    {
        return Err(Problem::new(
            line,
            Some("身份证号"),
            format!("与第 {first} 行重复（同一人出现两次）"),
        ));
    }
    if let Some(first) = seen_names.get(&(key.clone(), m.name.trim().to_owned())) {
        return Err(Problem::new(
            line,
            Some("姓名"),
            format!("与第 {first} 行是同一住户的同名成员"),
        ));
    }
    if let Some(n) = &m.id_number
        && let Some(h) = by_id_number.get(n.as_str())
        && stored.is_none_or(|s| s.id != *h)
    {
        return Err(Problem::new(
            line,
            Some("身份证号"),
            "此人已登记在其他住户，请先办理迁出",
        ));
    }
    Ok(())
}

fn member_plan(row: &RosterRow, m: &NewMember, stored: Option<&Household>) -> MemberPlan {
    let matched = stored.and_then(|h| {
        let by_number = m.id_number.as_ref().and_then(|n| {
            h.members
                .iter()
                .find(|x| x.id_number.as_deref() == Some(n.as_str()))
        });
        by_number.or_else(|| {
            h.members.iter().find(|x| {
                x.name.trim() == m.name.trim() && (x.id_number.is_none() || m.id_number.is_none())
            })
        })
    });
    let Some(x) = matched else {
        return MemberPlan {
            line: row.line,
            action: MemberAction::Create,
            existing_id: None,
            member: m.clone(),
            patch: MemberPatch::default(),
            gender: row.gender,
            residence: row.residence,
            details_change: row.gender.is_some()
                || row.residence.is_some()
                || !row.person_tags.is_empty(),
            tags: row.person_tags.clone(),
        };
    };
    let mut patch = MemberPatch::default();
    if x.name.trim() != m.name.trim() {
        patch.name = Some(m.name.clone());
    }
    if x.relation != m.relation {
        patch.relation = Some(m.relation);
    }
    if m.birth_year.is_some() && x.birth_year != m.birth_year {
        patch.birth_year = Some(m.birth_year);
    }
    if m.phone.is_some() && x.phone.as_deref().map(str::trim) != m.phone.as_deref() {
        patch.phone = Some(m.phone.clone());
    }
    if m.id_number.is_some() && x.id_number != m.id_number {
        patch.id_number = Some(m.id_number.clone());
    }
    let gender = row.gender.or(x.gender);
    let residence = row.residence.or(x.residence);
    let mut tags = x.tags.clone();
    for t in &row.person_tags {
        if !tags.contains(t) {
            tags.push(*t);
        }
    }
    tags.sort();
    let details_change = gender != x.gender || residence != x.residence || tags != x.tags;
    let action = if patch != MemberPatch::default() || details_change {
        MemberAction::Update
    } else {
        MemberAction::Same
    };
    MemberPlan {
        line: row.line,
        action,
        existing_id: Some(x.id.clone()),
        member: m.clone(),
        patch,
        gender,
        residence,
        details_change,
        tags,
    }
}
