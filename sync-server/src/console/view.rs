//! What the templates show: times in China Standard Time, names for ids, and the Chinese
//! message of every refusal code.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use linli_domain::protocol::Person;
use linli_domain::{Millis, Place, PlaceKind};

use crate::api::ApiError;
use crate::storage::{Device, Storage};

/// `MM-DD HH:MM` in UTC+8 (China has one time zone and no daylight saving).
pub fn time(ms: Millis) -> String {
    let Some(utc) = DateTime::from_timestamp_millis(ms) else {
        return "—".into();
    };
    let Some(cst) = FixedOffset::east_opt(8 * 3600) else {
        return "—".into();
    };
    utc.with_timezone(&cst).format("%m-%d %H:%M").to_string()
}

pub fn time_opt(ms: Option<Millis>) -> String {
    ms.map(time).unwrap_or_else(|| "—".into())
}

/// The Chinese message of an API refusal (`code`, and for bad input the field).
pub fn refusal(code: &str, field: Option<&str>) -> &'static str {
    match (code, field) {
        ("invalid", Some("category")) => "请选择事件类别。",
        ("invalid", Some("description")) => "请填写事件描述（不超过4000字）。",
        ("invalid", Some("place_id" | "place")) => "请选择发生地点（网格、楼栋或单元）。",
        ("invalid", Some("priority")) => "请选择紧急程度。",
        ("invalid", Some("to" | "department" | "target")) => "请选择派给的人员或部门。",
        ("invalid", Some("reason")) => "请选择退单原因。",
        ("invalid", Some("rating")) => "请选择回访评价。",
        ("invalid", Some("level")) => "请选择督办层级（高于当前层级）。",
        ("invalid", Some("outcome")) => "请选择调解结果。",
        ("invalid", Some("note")) => "此操作需要填写说明（不超过4000字）。",
        ("invalid", Some("contact")) => "联系方式不超过100字。",
        ("invalid", Some("action")) => "无效的操作。",
        ("invalid", _) => "输入有误，请检查后重试。",
        ("role", _) => "您的角色不能执行此操作。",
        ("not_handler", _) => "只有当前处置人可以执行此操作。",
        ("target", _) => "您不能派单给该对象。",
        ("illegal_move", _) => "事件当前状态不允许此操作（可能已被他人处理），请刷新后重试。",
        ("malformed", _) => "表单无效，请刷新后重试。",
        _ => "请求未能完成，请刷新后重试。",
    }
}

/// Error from a refusal, for a form re-rendered with it.
pub fn message(e: &ApiError) -> &'static str {
    if e.status == axum::http::StatusCode::NOT_FOUND {
        return "记录不存在，或不在您的管辖范围内。";
    }
    refusal(e.code, e.field)
}

/// The people and places of a user's communities (their reference data, as their phone
/// would receive it), read once per page: names for ids, and the choices of the forms.
#[derive(Default)]
pub struct Names {
    pub people: Vec<Person>,
    pub places: Vec<Place>,
    person_names: BTreeMap<String, String>,
    place_names: BTreeMap<String, String>,
}

impl Names {
    pub fn of(storage: &dyn Storage, device: &Device) -> crate::Result<Names> {
        // Version 0 is never current, so the whole reference data comes back.
        let Some(r) = storage.reference(device, 0)? else {
            return Ok(Names::default());
        };
        Ok(Names {
            person_names: r
                .people
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
            place_names: r
                .places
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
            people: r.people,
            places: r.places,
        })
    }

    /// A person's name, else their id; "系统" for the server.
    pub fn person(&self, id: &str) -> String {
        if id == crate::workflow::SYSTEM_USER {
            return "系统".into();
        }
        self.person_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// A place's name, else its id.
    pub fn place(&self, id: &str) -> String {
        self.place_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// "第一网格 · 安置小区1栋 · 1单元" for an incident's place.
    pub fn location(&self, grid: &str, building: Option<&str>, unit: Option<&str>) -> String {
        std::iter::once(grid)
            .chain(building)
            .chain(unit)
            .map(|id| self.place(id))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The places of `kind` the user's scope covers, by name.
    pub fn places_of(&self, device: &Device, kinds: &[PlaceKind]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .places
            .iter()
            .filter(|p| kinds.contains(&p.kind) && self.covers(device, p))
            .map(|p| (p.id.clone(), self.label(p)))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// A place's name with its parents' (below the community), e.g. "第一网格 · 安置小区1栋".
    fn label(&self, p: &Place) -> String {
        let mut parts = vec![p.name.clone()];
        let mut parent = p.parent_id.clone();
        while let Some(id) = parent {
            let Some(up) = self.places.iter().find(|x| x.id == id) else {
                break;
            };
            if matches!(up.kind, PlaceKind::Community | PlaceKind::Street) {
                break;
            }
            parts.push(up.name.clone());
            parent = up.parent_id.clone();
        }
        parts.reverse();
        parts.join(" · ")
    }

    /// Whether a place lies in the user's scope (itself or one of its parents granted).
    fn covers(&self, device: &Device, p: &Place) -> bool {
        let s = &device.scope;
        let mut at = Some(p);
        while let Some(place) = at {
            let granted = match place.kind {
                PlaceKind::Community => s.communities.contains(&place.id),
                PlaceKind::Grid => s.grids.contains(&place.id),
                PlaceKind::MicroGrid => s.micro_grids.contains(&place.id),
                PlaceKind::Building => s.buildings.contains(&place.id),
                PlaceKind::Unit => s.units.contains(&place.id),
                PlaceKind::Street => false,
            };
            if granted {
                return true;
            }
            at = place
                .parent_id
                .as_ref()
                .and_then(|id| self.places.iter().find(|x| &x.id == id));
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_china_standard_time() {
        // 2025-12-01T00:00:00Z is 08:00 in Beijing.
        assert_eq!(time(1_764_547_200_000), "12-01 08:00");
        assert_eq!(time_opt(None), "—");
    }
}
