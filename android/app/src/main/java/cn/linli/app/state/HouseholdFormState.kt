package cn.linli.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import uniffi.linli.CareTag
import uniffi.linli.HouseholdSummary
import uniffi.linli.Housing
import uniffi.linli.LinliException
import uniffi.linli.LinliStore
import uniffi.linli.NewHousehold
import uniffi.linli.NewMember
import uniffi.linli.Place
import uniffi.linli.PlaceKind
import uniffi.linli.Residency

/** The household form's fields, by the names the core's validation uses for them. */
enum class HouseholdField(internal val coreName: String) {
    PLACE("place"),
    ROOM("room"),
    NOTES("notes"),
    MEMBER_NAME("name"),
    ID_NUMBER("id_number"),
    PHONE("phone"),
    BIRTH_YEAR("birth_year"),
    MOVED_OUT_AT("moved_out_at"),
    ;

    internal companion object {
        fun of(coreName: String) = entries.firstOrNull { it.coreName == coreName }
    }
}

data class HouseholdFormUi(
    /** Buildings and units to pick from (a household lives in one). */
    val places: List<Place> = emptyList(),
    val placeId: String? = null,
    val room: String = "",
    val residency: Residency = Residency.RESIDENT,
    val housing: Housing = Housing.OWNED,
    val tags: Set<CareTag> = emptySet(),
    val notes: String = "",
    /** Members entered with the household (more can be added later). */
    val members: List<NewMember> = emptyList(),
    /**
     * Households already registered at the chosen place and room (the core's
     * `householdsAtDoor`): shown as a warning, and the first save stops there; a second save
     * creates the household anyway (two households may share a door, e.g. tenants).
     */
    val duplicates: List<HouseholdSummary> = emptyList(),
    /**
     * Whether the user's role sees phones, ID numbers and sensitive tags (grid workers and
     * admins; not building or unit leaders, who enter them write-only). False until loaded.
     */
    val showSensitive: Boolean = false,
    val saving: Boolean = false,
    val errors: Map<HouseholdField, FieldError<HouseholdField>> = emptyMap(),
    val notice: Notice? = null,
    /** Set once saved: the screen closes. */
    val savedHouseholdId: String? = null,
)

/**
 * Registering a household (入户登记): its building or unit, room, residency, housing, care tags
 * and members. The core validates (ID numbers with their check character, phone numbers,
 * lengths); a refused value comes back on its field and nothing is written.
 */
class HouseholdFormState(
    private val store: LinliStore,
    private val io: CoroutineDispatcher,
) {
    private val mutableUi = MutableStateFlow(HouseholdFormUi())
    val ui: StateFlow<HouseholdFormUi> = mutableUi.asStateFlow()
    private var warned: Pair<String?, String>? = null

    /**
     * Reads the buildings and units to pick from (those of the user's places, `myPlaces`) and
     * whether the user sees sensitive fields.
     */
    suspend fun loadPlaces() {
        val (places, sensitive) = withContext(io) {
            store.myPlaces().filter { it.kind == PlaceKind.BUILDING || it.kind == PlaceKind.UNIT } to
                store.seesSensitive()
        }
        mutableUi.update { it.copy(places = places, showSensitive = sensitive) }
    }

    fun setPlace(placeId: String?) = mutableUi.update {
        it.copy(placeId = placeId, duplicates = emptyList(), errors = it.errors - HouseholdField.PLACE)
    }

    fun setRoom(room: String) = mutableUi.update {
        it.copy(room = room, duplicates = emptyList(), errors = it.errors - HouseholdField.ROOM)
    }

    fun setResidency(residency: Residency) = mutableUi.update { it.copy(residency = residency) }

    fun setHousing(housing: Housing) = mutableUi.update { it.copy(housing = housing) }

    fun setTag(tag: CareTag, on: Boolean) =
        mutableUi.update { it.copy(tags = if (on) it.tags + tag else it.tags - tag) }

    fun setNotes(notes: String) = mutableUi.update { it.copy(notes = notes, errors = it.errors - HouseholdField.NOTES) }

    fun addMember(member: NewMember) = mutableUi.update { it.copy(members = it.members + member) }

    fun removeMember(index: Int) =
        mutableUi.update { it.copy(members = it.members.filterIndexed { i, _ -> i != index }) }

    /**
     * Saves the household; true when written. If households are already registered at the same
     * place and room, the first call only fills [HouseholdFormUi.duplicates]; calling again
     * with nothing changed saves.
     */
    suspend fun submit(): Boolean {
        val form = ui.value
        if (form.saving || form.savedHouseholdId != null) return false
        val placeId = form.placeId
        if (placeId == null) {
            mutableUi.update {
                it.copy(errors = mapOf(HouseholdField.PLACE to FieldError(HouseholdField.PLACE, "required")))
            }
            return false
        }
        mutableUi.update { it.copy(saving = true, errors = emptyMap(), notice = null) }
        val key = placeId to form.room.trim()
        if (warned != key) {
            val same = sameDoor(placeId, form.room)
            if (same.isNotEmpty()) {
                warned = key
                mutableUi.update { it.copy(saving = false, duplicates = same) }
                return false
            }
        }
        val household = NewHousehold(
            placeId = placeId,
            room = form.room.trim(),
            residency = form.residency,
            housing = form.housing,
            tags = form.tags.toList(),
            notes = form.notes,
            members = form.members,
        )
        val result = trySave(io) { store.createHousehold(household) }
        mutableUi.update {
            when (result) {
                is Submission.Saved -> it.copy(saving = false, savedHouseholdId = result.value, duplicates = emptyList())
                is Submission.Refused -> refused(it, result)
                is Submission.Failed -> it.copy(saving = false, notice = result.notice)
            }
        }
        return result is Submission.Saved
    }

    /** The households already at [placeId] with [room] (the core's rule; blank rooms never
     * match). A failed look-up does not block the save: the warning is a courtesy. */
    private suspend fun sameDoor(placeId: String, room: String): List<HouseholdSummary> = try {
        withContext(io) { store.householdsAtDoor(placeId, room) }
    } catch (e: LinliException) {
        emptyList()
    }
}

internal fun <F> refusedOn(field: F?, result: Submission.Refused): Map<F, FieldError<F>>? =
    field?.let { mapOf(it to FieldError(it, result.reason)) }

private fun refused(ui: HouseholdFormUi, result: Submission.Refused): HouseholdFormUi =
    when (val errors = refusedOn(HouseholdField.of(result.field), result)) {
        null -> ui.copy(saving = false, notice = Notice(Message.CHECK_FORM))
        else -> ui.copy(saving = false, errors = errors)
    }
