//! Builders of records as the apps' forms make them, with plausible Chinese content.

use linli_domain::*;

/// A member born in 1960.
pub fn member(name: &str, relation: Relation, phone: Option<&str>) -> NewMember {
    NewMember {
        name: name.into(),
        relation,
        birth_year: Some(1960),
        phone: phone.map(Into::into),
        id_number: None,
    }
}

/// A resident household in resettlement housing, without tags or notes.
pub fn household(place: &str, room: &str, members: Vec<NewMember>) -> NewHousehold {
    NewHousehold {
        place_id: place.into(),
        room: room.into(),
        residency: Residency::Resident,
        housing: Housing::Resettlement,
        tags: vec![],
        notes: String::new(),
        members,
    }
}

/// An elderly person living alone (空巢老人) in room `room`: one member, named after the room.
pub fn elderly_alone(place: &str, room: &str) -> NewHousehold {
    NewHousehold {
        tags: vec![CareTag::ElderlyAlone],
        ..household(
            place,
            room,
            vec![NewMember {
                name: format!("住户{room}"),
                relation: Relation::Head,
                birth_year: Some(1948),
                phone: None,
                id_number: None,
            }],
        )
    }
}

/// A door-knock visit now that found a leak and asked the property manager to fix it.
pub fn visit(household_id: &str) -> NewVisit {
    NewVisit {
        household_id: household_id.into(),
        at: None,
        purpose: VisitPurpose::AskNeeds,
        needs: vec![Need {
            category: NeedCategory::Repair,
            text: "卫生间漏水".into(),
        }],
        done_on_spot: "已联系物业".into(),
        follow_up: true,
    }
}

/// Flying-wire e-bike charging (飞线充电) reported at a household: it takes the household's
/// grid and building.
pub fn incident_at_household(household_id: &str) -> NewIncident {
    NewIncident {
        category: IncidentCategory::FlyingWireCharging,
        description: "楼道飞线充电".into(),
        place_id: None,
        household_id: Some(household_id.into()),
        priority: Priority::High,
        assignee: None,
        dispute: None,
    }
}
