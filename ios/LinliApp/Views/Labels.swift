// The words for the core's enums and notices (keys into Localizable.strings). The switches
// are exhaustive: a new case in the core fails this build until it has a label. The `all`
// lists feed pickers (uniffi's enums are not CaseIterable).

import LinliKit
import SwiftUI

extension CareTag {
    static let all: [CareTag] = [.elderlyAlone, .disabled, .lowIncome, .leftBehindChild, .veteran, .partyMember, .correction]

    /// The tags a building or unit leader does not see (community correction / rehab,
    /// disability): shown only when the screen's `showSensitive` says so.
    var sensitive: Bool { self == .correction || self == .disabled }

    var label: LocalizedStringKey {
        switch self {
        case .elderlyAlone: return "tag.elderly_alone"
        case .disabled: return "tag.disabled"
        case .lowIncome: return "tag.low_income"
        case .leftBehindChild: return "tag.left_behind_child"
        case .veteran: return "tag.veteran"
        case .partyMember: return "tag.party_member"
        case .correction: return "tag.correction"
        }
    }
}

extension Residency {
    static let all: [Residency] = [.resident, .floating]

    var label: LocalizedStringKey {
        switch self {
        case .resident: return "residency.resident"
        case .floating: return "residency.floating"
        }
    }
}

extension Housing {
    static let all: [Housing] = [.owned, .rented, .resettlement]

    var label: LocalizedStringKey {
        switch self {
        case .owned: return "housing.owned"
        case .rented: return "housing.rented"
        case .resettlement: return "housing.resettlement"
        }
    }
}

extension Relation {
    static let all: [Relation] = [.head, .spouse, .child, .parent, .grandchild, .grandparent, .sibling, .tenant, .other]

    var label: LocalizedStringKey {
        switch self {
        case .head: return "relation.head"
        case .spouse: return "relation.spouse"
        case .child: return "relation.child"
        case .parent: return "relation.parent"
        case .grandchild: return "relation.grandchild"
        case .grandparent: return "relation.grandparent"
        case .sibling: return "relation.sibling"
        case .tenant: return "relation.tenant"
        case .other: return "relation.other"
        }
    }
}

extension VisitPurpose {
    static let all: [VisitPurpose] = [.askNeeds, .routine, .followUp, .care, .policy, .registration, .other]

    var label: LocalizedStringKey {
        switch self {
        case .routine: return "purpose.routine"
        case .askNeeds: return "purpose.ask_needs"
        case .followUp: return "purpose.follow_up"
        case .care: return "purpose.care"
        case .policy: return "purpose.policy"
        case .registration: return "purpose.registration"
        case .other: return "purpose.other"
        }
    }
}

extension NeedCategory {
    static let all: [NeedCategory] = [.repair, .elderCare, .dispute, .policy, .microWish, .employment, .health, .other]

    var label: LocalizedStringKey {
        switch self {
        case .repair: return "need.repair"
        case .elderCare: return "need.elder_care"
        case .dispute: return "need.dispute"
        case .policy: return "need.policy"
        case .microWish: return "need.micro_wish"
        case .employment: return "need.employment"
        case .health: return "need.health"
        case .other: return "need.other"
        }
    }
}

extension IncidentCategory {
    static let all: [IncidentCategory] = [
        .flyingWireCharging, .highRiseLittering, .leakRepair, .safetyHazard, .parking, .noise, .dispute, .other,
    ]

    var label: LocalizedStringKey {
        switch self {
        case .dispute: return "category.dispute"
        case .parking: return "category.parking"
        case .noise: return "category.noise"
        case .highRiseLittering: return "category.high_rise_littering"
        case .flyingWireCharging: return "category.flying_wire_charging"
        case .leakRepair: return "category.leak_repair"
        case .safetyHazard: return "category.safety_hazard"
        case .other: return "category.other"
        }
    }
}

extension Priority {
    static let all: [Priority] = [.low, .normal, .high, .urgent]

    var label: LocalizedStringKey {
        switch self {
        case .low: return "priority.low"
        case .normal: return "priority.normal"
        case .high: return "priority.high"
        case .urgent: return "priority.urgent"
        }
    }
}

extension IncidentStatus {
    var label: LocalizedStringKey {
        switch self {
        case .reported: return "status.reported"
        case .accepted: return "status.accepted"
        case .dispatched: return "status.dispatched"
        case .inProgress: return "status.in_progress"
        case .resolved: return "status.resolved"
        case .closed: return "status.closed"
        }
    }
}

extension IncidentAction {
    static let all: [IncidentAction] = [.accept, .start, .resolve, .close, .reopen]

    var label: LocalizedStringKey {
        switch self {
        case .accept: return "action.accept"
        case .start: return "action.start"
        case .resolve: return "action.resolve"
        case .close: return "action.close"
        case .reopen: return "action.reopen"
        case .dispatch: return "action.dispatch"
        case .return: return "action.return"
        case .feedback: return "action.feedback"
        case .escalate: return "action.escalate"
        case .other: return "action.other"
        }
    }
}

extension NeedStatus {
    var label: LocalizedStringKey {
        switch self {
        case .open: return "need_status.open"
        case .inHand: return "need_status.in_hand"
        case .done: return "need_status.done"
        case .referred: return "need_status.referred"
        }
    }
}

extension NeedAction {
    var label: LocalizedStringKey {
        switch self {
        case .take: return "need_action.take"
        case .done: return "need_action.done"
        case .refer: return "need_action.refer"
        case .reopen: return "need_action.reopen"
        case .assign: return "need_action.assign"
        case .reschedule: return "need_action.reschedule"
        case .other: return "need_action.other"
        }
    }
}

extension Notice {
    var text: LocalizedStringKey {
        switch message {
        case .willSyncLater: return "notice.will_sync_later"
        case .signInAgain: return "notice.sign_in_again"
        case .deviceRevoked: return "notice.device_revoked"
        case .updateApp: return "notice.update_app"
        case .outsideArea: return "notice.outside_area \(count)"
        case .outsideMyPlaces: return "notice.outside_my_places"
        case .notAccepted: return "notice.not_accepted \(count)"
        case .serverTrouble: return "notice.server_trouble"
        case .storageFailed: return "notice.storage_failed"
        case .notOnDevice: return "notice.not_on_device"
        case .checkForm: return "notice.check_form"
        case .moveNotAllowed: return "notice.move_not_allowed"
        case .needMovedOn: return "notice.need_moved_on"
        case .notYourRole: return "notice.not_your_role"
        case .notTheHandler: return "notice.not_the_handler"
        case .dispatchTargetRefused: return "notice.dispatch_target_refused"
        case .unexpected: return "notice.unexpected"
        }
    }
}

extension Date {
    init(millis: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }

    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}

struct NoticeRow: View {
    let notice: Notice

    var body: some View {
        Label(notice.text, systemImage: "info.circle")
            .foregroundStyle(.secondary)
    }
}

struct TagChips: View {
    let tags: [CareTag]

    var body: some View {
        if !tags.isEmpty {
            HStack(spacing: 4) {
                ForEach(tags, id: \.self) { tag in
                    Text(tag.label)
                        .font(.caption2)
                        .padding(.horizontal, 6)
                        .padding(.vertical, 2)
                        .background(Capsule().fill(Color.accentColor.opacity(0.15)))
                }
            }
        }
    }
}

/// The "due for a visit" marker (待走访).
struct DueMarker: View {
    var body: some View {
        Label("households.due", systemImage: "clock.badge.exclamationmark")
            .font(.caption)
            .foregroundStyle(.orange)
    }
}

extension PushOutcome {
    /// Why the server refused a record (the refused records' list).
    var refusalReason: LocalizedStringKey {
        switch self {
        case .stored: return "refused.stored"
        case .outOfScope: return "refused.out_of_scope"
        case .missingDependencies: return "refused.missing_dependencies"
        case .invalid: return "refused.invalid"
        case .erased: return "refused.erased"
        }
    }
}

/// The hint for a refused value, from the core's reason code (`FieldError.reason`).
func reasonHint(_ code: String) -> LocalizedStringKey {
    switch code {
    case "required": return "reason.required"
    case "too_long": return "reason.too_long"
    case "control_characters": return "reason.control_characters"
    case "out_of_range": return "reason.out_of_range"
    case "bad_format": return "reason.bad_format"
    case "check_character": return "reason.check_character"
    case "wrong_place": return "reason.wrong_place"
    case "not_allowed_here": return "reason.not_allowed_here"
    case "duplicate": return "reason.duplicate"
    // Codes the state classes give on the phone (Forms.swift, MemberFormState).
    case "outside my places": return "reason.outside_my_places"
    case "not a year": return "reason.not_a_year"
    default: return "reason.unknown"
    }
}

extension Gender {
    static let all: [Gender] = [.male, .female]

    var label: LocalizedStringKey {
        switch self {
        case .male: return "gender.male"
        case .female: return "gender.female"
        }
    }
}

/// A person's own residence status: 户籍 / 常住 / 流动.
extension PersonResidence {
    static let all: [PersonResidence] = [.registered, .resident, .floating]

    var label: LocalizedStringKey {
        switch self {
        case .registered: return "residence.registered"
        case .resident: return "residence.resident"
        case .floating: return "residence.floating"
        }
    }
}

extension ReturnReason {
    static let all: [ReturnReason] = [.jurisdiction, .ownership, .overlap, .other]

    var label: LocalizedStringKey {
        switch self {
        case .jurisdiction: return "return.jurisdiction"
        case .ownership: return "return.ownership"
        case .overlap: return "return.overlap"
        case .other: return "return.other"
        }
    }
}

extension Rating {
    static let all: [Rating] = [.satisfied, .basic, .unsatisfied]

    var label: LocalizedStringKey {
        switch self {
        case .satisfied: return "rating.satisfied"
        case .basic: return "rating.basic"
        case .unsatisfied: return "rating.unsatisfied"
        }
    }
}

extension Level {
    /// Where an escalation can go: above the grid, where an incident starts.
    static let above: [Level] = [.community, .street]

    var label: LocalizedStringKey {
        switch self {
        case .grid: return "level.grid"
        case .community: return "level.community"
        case .street: return "level.street"
        }
    }
}

extension Department {
    static let all: [Department] = [.property, .urbanManagement, .police, .mediation, .other]

    var label: LocalizedStringKey {
        switch self {
        case .property: return "department.property"
        case .urbanManagement: return "department.urban_management"
        case .police: return "department.police"
        case .mediation: return "department.mediation"
        case .other: return "department.other"
        }
    }
}

extension DisputeOutcome {
    static let all: [DisputeOutcome] = [.mediated, .failed, .transferred]

    var label: LocalizedStringKey {
        switch self {
        case .mediated: return "outcome.mediated"
        case .failed: return "outcome.failed"
        case .transferred: return "outcome.transferred"
        }
    }
}

extension DocKind {
    var label: LocalizedStringKey {
        switch self {
        case .household: return "refused.kind.household"
        case .incident: return "refused.kind.incident"
        }
    }
}

extension Discarded {
    /// What a discard left of the record.
    var label: LocalizedStringKey {
        switch self {
        case .nothing: return "discarded.nothing"
        case .reverted: return "discarded.reverted"
        case .deleted: return "discarded.deleted"
        }
    }
}

/// A localised hint for a refused value, from the core's reason code (`FieldError.reason`).
struct ReasonHint: View {
    let reason: String

    var body: some View {
        Text(reasonHint(reason)).font(.caption).foregroundStyle(.red)
    }
}
