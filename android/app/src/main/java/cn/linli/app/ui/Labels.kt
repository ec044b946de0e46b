package cn.linli.app.ui

import androidx.annotation.StringRes
import cn.linli.app.R
import cn.linli.app.state.Message
import uniffi.linli.CareTag
import uniffi.linli.Department
import uniffi.linli.Discarded
import uniffi.linli.DisputeOutcome
import uniffi.linli.DocKind
import uniffi.linli.Gender
import uniffi.linli.Housing
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentCategory
import uniffi.linli.IncidentStatus
import uniffi.linli.Level
import uniffi.linli.NeedAction
import uniffi.linli.NeedCategory
import uniffi.linli.NeedStatus
import uniffi.linli.PersonResidence
import uniffi.linli.Priority
import uniffi.linli.PushOutcome
import uniffi.linli.Rating
import uniffi.linli.Relation
import uniffi.linli.Residency
import uniffi.linli.ReturnReason
import uniffi.linli.VisitPurpose

// The core's enums and the state classes' message keys, as string resources. Exhaustive
// `when`s: a new variant in the core fails the build until it has a label in both languages.

@get:StringRes
val Message.label: Int
    get() = when (this) {
        Message.WILL_SYNC_LATER -> R.string.msg_will_sync_later
        Message.SIGN_IN_AGAIN -> R.string.msg_sign_in_again
        Message.DEVICE_REVOKED -> R.string.msg_device_revoked
        Message.UPDATE_APP -> R.string.msg_update_app
        Message.OUTSIDE_AREA -> R.string.msg_outside_area
        Message.OUTSIDE_MY_PLACES -> R.string.msg_outside_my_places
        Message.NOT_ACCEPTED -> R.string.msg_not_accepted
        Message.SERVER_TROUBLE -> R.string.msg_server_trouble
        Message.STORAGE_FAILED -> R.string.msg_storage_failed
        Message.NOT_ON_DEVICE -> R.string.msg_not_on_device
        Message.CHECK_FORM -> R.string.msg_check_form
        Message.MOVE_NOT_ALLOWED -> R.string.msg_move_not_allowed
        Message.NEED_MOVED_ON -> R.string.msg_need_moved_on
        Message.NOT_YOUR_ROLE -> R.string.msg_not_your_role
        Message.NOT_THE_HANDLER -> R.string.msg_not_the_handler
        Message.DISPATCH_TARGET_REFUSED -> R.string.msg_dispatch_target_refused
        Message.UNEXPECTED -> R.string.msg_unexpected
    }

@get:StringRes
val CareTag.label: Int
    get() = when (this) {
        CareTag.ELDERLY_ALONE -> R.string.tag_elderly_alone
        CareTag.DISABLED -> R.string.tag_disabled
        CareTag.LOW_INCOME -> R.string.tag_low_income
        CareTag.LEFT_BEHIND_CHILD -> R.string.tag_left_behind_child
        CareTag.VETERAN -> R.string.tag_veteran
        CareTag.PARTY_MEMBER -> R.string.tag_party_member
        CareTag.CORRECTION -> R.string.tag_correction
    }

@get:StringRes
val Relation.label: Int
    get() = when (this) {
        Relation.HEAD -> R.string.relation_head
        Relation.SPOUSE -> R.string.relation_spouse
        Relation.CHILD -> R.string.relation_child
        Relation.PARENT -> R.string.relation_parent
        Relation.GRANDCHILD -> R.string.relation_grandchild
        Relation.GRANDPARENT -> R.string.relation_grandparent
        Relation.SIBLING -> R.string.relation_sibling
        Relation.TENANT -> R.string.relation_tenant
        Relation.OTHER -> R.string.relation_other
    }

@get:StringRes
val VisitPurpose.label: Int
    get() = when (this) {
        VisitPurpose.ROUTINE -> R.string.purpose_routine
        VisitPurpose.ASK_NEEDS -> R.string.purpose_ask_needs
        VisitPurpose.FOLLOW_UP -> R.string.purpose_follow_up
        VisitPurpose.CARE -> R.string.purpose_care
        VisitPurpose.POLICY -> R.string.purpose_policy
        VisitPurpose.REGISTRATION -> R.string.purpose_registration
        VisitPurpose.OTHER -> R.string.purpose_other
    }

@get:StringRes
val NeedCategory.label: Int
    get() = when (this) {
        NeedCategory.REPAIR -> R.string.need_repair
        NeedCategory.ELDER_CARE -> R.string.need_elder_care
        NeedCategory.DISPUTE -> R.string.need_dispute
        NeedCategory.POLICY -> R.string.need_policy
        NeedCategory.MICRO_WISH -> R.string.need_micro_wish
        NeedCategory.EMPLOYMENT -> R.string.need_employment
        NeedCategory.HEALTH -> R.string.need_health
        NeedCategory.OTHER -> R.string.need_other
    }

@get:StringRes
val IncidentCategory.label: Int
    get() = when (this) {
        IncidentCategory.DISPUTE -> R.string.incident_dispute
        IncidentCategory.PARKING -> R.string.incident_parking
        IncidentCategory.NOISE -> R.string.incident_noise
        IncidentCategory.HIGH_RISE_LITTERING -> R.string.incident_high_rise_littering
        IncidentCategory.FLYING_WIRE_CHARGING -> R.string.incident_flying_wire_charging
        IncidentCategory.LEAK_REPAIR -> R.string.incident_leak_repair
        IncidentCategory.SAFETY_HAZARD -> R.string.incident_safety_hazard
        IncidentCategory.OTHER -> R.string.incident_other
    }

@get:StringRes
val Priority.label: Int
    get() = when (this) {
        Priority.LOW -> R.string.priority_low
        Priority.NORMAL -> R.string.priority_normal
        Priority.HIGH -> R.string.priority_high
        Priority.URGENT -> R.string.priority_urgent
    }

@get:StringRes
val IncidentStatus.label: Int
    get() = when (this) {
        IncidentStatus.REPORTED -> R.string.status_reported
        IncidentStatus.ACCEPTED -> R.string.status_accepted
        IncidentStatus.DISPATCHED -> R.string.status_dispatched
        IncidentStatus.IN_PROGRESS -> R.string.status_in_progress
        IncidentStatus.RESOLVED -> R.string.status_resolved
        IncidentStatus.CLOSED -> R.string.status_closed
    }

@get:StringRes
val IncidentAction.label: Int
    get() = when (this) {
        IncidentAction.ACCEPT -> R.string.action_accept
        IncidentAction.START -> R.string.action_start
        IncidentAction.RESOLVE -> R.string.action_resolve
        IncidentAction.CLOSE -> R.string.action_close
        IncidentAction.REOPEN -> R.string.action_reopen
        IncidentAction.DISPATCH -> R.string.action_dispatch
        IncidentAction.RETURN -> R.string.action_return
        IncidentAction.FEEDBACK -> R.string.action_feedback
        IncidentAction.ESCALATE -> R.string.action_escalate
        IncidentAction.OTHER -> R.string.action_other
    }

/** Why the server refused a record (the refused records' list). */
@get:StringRes
val PushOutcome.refusalReason: Int
    get() = when (this) {
        PushOutcome.STORED -> R.string.refused_stored
        PushOutcome.OUT_OF_SCOPE -> R.string.refused_out_of_scope
        PushOutcome.MISSING_DEPENDENCIES -> R.string.refused_missing_dependencies
        PushOutcome.INVALID -> R.string.refused_invalid
        PushOutcome.ERASED -> R.string.refused_erased
    }

@get:StringRes
val NeedStatus.label: Int
    get() = when (this) {
        NeedStatus.OPEN -> R.string.need_status_open
        NeedStatus.IN_HAND -> R.string.need_status_in_hand
        NeedStatus.DONE -> R.string.need_status_done
        NeedStatus.REFERRED -> R.string.need_status_referred
    }

@get:StringRes
val NeedAction.label: Int
    get() = when (this) {
        NeedAction.TAKE -> R.string.need_action_take
        NeedAction.DONE -> R.string.need_action_done
        NeedAction.REFER -> R.string.need_action_refer
        NeedAction.REOPEN -> R.string.need_action_reopen
        NeedAction.ASSIGN -> R.string.need_action_assign
        NeedAction.RESCHEDULE -> R.string.need_action_reschedule
        NeedAction.OTHER -> R.string.need_action_other
    }

/** The hint for a refused value, from the core's reason code (`FieldError.reason`). */
@StringRes
fun reasonHint(code: String): Int = when (code) {
    "required" -> R.string.reason_required
    "too_long" -> R.string.reason_too_long
    "control_characters" -> R.string.reason_control_characters
    "out_of_range" -> R.string.reason_out_of_range
    "bad_format" -> R.string.reason_bad_format
    "check_character" -> R.string.reason_check_character
    "wrong_place" -> R.string.reason_wrong_place
    "not_allowed_here" -> R.string.reason_not_allowed_here
    "duplicate" -> R.string.reason_duplicate
    // Codes the state classes give on the phone (Forms.kt, MemberFormState).
    "outside my places" -> R.string.reason_outside_my_places
    "not a year" -> R.string.reason_not_a_year
    "unknown" -> R.string.reason_unknown
    else -> R.string.reason_unknown
}

/**
 * The tags a building or unit leader does not see (community correction / rehab, disability):
 * shown only when the screen's `showSensitive` says so.
 */
val CareTag.sensitive: Boolean
    get() = this == CareTag.CORRECTION || this == CareTag.DISABLED

@get:StringRes
val Residency.label: Int
    get() = when (this) {
        Residency.RESIDENT -> R.string.residency_resident
        Residency.FLOATING -> R.string.residency_floating
    }

@get:StringRes
val Housing.label: Int
    get() = when (this) {
        Housing.OWNED -> R.string.housing_owned
        Housing.RENTED -> R.string.housing_rented
        Housing.RESETTLEMENT -> R.string.housing_resettlement
    }

@get:StringRes
val Gender.label: Int
    get() = when (this) {
        Gender.MALE -> R.string.gender_male
        Gender.FEMALE -> R.string.gender_female
    }

/** A person's own residence status: 户籍 / 常住 / 流动. */
@get:StringRes
val PersonResidence.label: Int
    get() = when (this) {
        PersonResidence.REGISTERED -> R.string.residence_registered
        PersonResidence.RESIDENT -> R.string.residence_resident
        PersonResidence.FLOATING -> R.string.residence_floating
    }

@get:StringRes
val ReturnReason.label: Int
    get() = when (this) {
        ReturnReason.JURISDICTION -> R.string.return_jurisdiction
        ReturnReason.OWNERSHIP -> R.string.return_ownership
        ReturnReason.OVERLAP -> R.string.return_overlap
        ReturnReason.OTHER -> R.string.return_other
    }

@get:StringRes
val Rating.label: Int
    get() = when (this) {
        Rating.SATISFIED -> R.string.rating_satisfied
        Rating.BASIC -> R.string.rating_basic
        Rating.UNSATISFIED -> R.string.rating_unsatisfied
    }

@get:StringRes
val Level.label: Int
    get() = when (this) {
        Level.GRID -> R.string.level_grid
        Level.COMMUNITY -> R.string.level_community
        Level.STREET -> R.string.level_street
    }

@get:StringRes
val Department.label: Int
    get() = when (this) {
        Department.PROPERTY -> R.string.department_property
        Department.URBAN_MANAGEMENT -> R.string.department_urban_management
        Department.POLICE -> R.string.department_police
        Department.MEDIATION -> R.string.department_mediation
        Department.OTHER -> R.string.department_other
    }

@get:StringRes
val DisputeOutcome.label: Int
    get() = when (this) {
        DisputeOutcome.MEDIATED -> R.string.outcome_mediated
        DisputeOutcome.FAILED -> R.string.outcome_failed
        DisputeOutcome.TRANSFERRED -> R.string.outcome_transferred
    }

@get:StringRes
val DocKind.label: Int
    get() = when (this) {
        DocKind.HOUSEHOLD -> R.string.refused_kind_household
        DocKind.INCIDENT -> R.string.refused_kind_incident
    }

/** What a discard left of the record. */
@get:StringRes
val Discarded.label: Int
    get() = when (this) {
        Discarded.NOTHING -> R.string.discarded_nothing
        Discarded.REVERTED -> R.string.discarded_reverted
        Discarded.DELETED -> R.string.discarded_deleted
    }
