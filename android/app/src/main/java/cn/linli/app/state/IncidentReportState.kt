package cn.linli.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import uniffi.linli.IncidentCategory
import uniffi.linli.LinliStore
import uniffi.linli.NewIncident
import uniffi.linli.Place
import uniffi.linli.PlaceKind
import uniffi.linli.Priority

/** The incident form's fields, by the names the core's validation uses for them. */
enum class IncidentField(internal val coreName: String) {
    DESCRIPTION("description"),
    PLACE("place"),
    ;

    internal companion object {
        fun of(coreName: String) = entries.firstOrNull { it.coreName == coreName }
    }
}

data class IncidentReportUi(
    val category: IncidentCategory = IncidentCategory.OTHER,
    val description: String = "",
    val priority: Priority = Priority.NORMAL,
    /** A grid, building or unit; may be left out when [householdId] is set. */
    val placeId: String? = null,
    val householdId: String? = null,
    /** Grids and buildings of the user's places, to pick [placeId] from. */
    val places: List<Place> = emptyList(),
    val saving: Boolean = false,
    val errors: Map<IncidentField, FieldError<IncidentField>> = emptyMap(),
    val notice: Notice? = null,
    val reportedId: String? = null,
)

/** Reporting an incident found in the grid (网格发现); its response clock starts on save. */
class IncidentReportState(
    private val store: LinliStore,
    private val io: CoroutineDispatcher,
    placeId: String? = null,
    householdId: String? = null,
) {
    private val mutableUi = MutableStateFlow(IncidentReportUi(placeId = placeId, householdId = householdId))
    val ui: StateFlow<IncidentReportUi> = mutableUi.asStateFlow()

    /**
     * Reads the places to pick from: the user's places (`my_places`: their grants and what is
     * under them; every place before the first sync brought grants), from the top down to
     * buildings. A place outside them would be refused on the phone.
     */
    suspend fun loadPlaces() {
        val places = withContext(io) {
            val mine = store.myPlaces()
            val ids = mine.mapTo(HashSet()) { it.id }
            // The top of each granted subtree has no parent among them.
            val children = mine.groupBy { place -> place.parentId?.takeIf { it in ids } }
            buildList {
                fun walk(parentId: String?) {
                    for (place in children[parentId].orEmpty()) {
                        // An incident happens at or below a grid (a micro-grid included).
                        if (place.kind != PlaceKind.COMMUNITY && place.kind != PlaceKind.STREET) add(place)
                        if (place.kind != PlaceKind.BUILDING) walk(place.id)
                    }
                }
                walk(null)
            }
        }
        mutableUi.update { it.copy(places = places) }
    }

    fun setCategory(category: IncidentCategory) = mutableUi.update { it.copy(category = category) }

    fun setDescription(text: String) = mutableUi.update {
        it.copy(description = text, errors = it.errors - IncidentField.DESCRIPTION)
    }

    fun setPriority(priority: Priority) = mutableUi.update { it.copy(priority = priority) }

    fun setPlace(placeId: String?) = mutableUi.update {
        it.copy(placeId = placeId, errors = it.errors - IncidentField.PLACE)
    }

    /** Reports the incident; true when written. */
    suspend fun submit(): Boolean {
        val form = ui.value
        if (form.saving || form.reportedId != null) return false
        mutableUi.update { it.copy(saving = true, errors = emptyMap(), notice = null) }
        val incident = NewIncident(
            category = form.category,
            description = form.description,
            placeId = form.placeId,
            householdId = form.householdId,
            priority = form.priority,
            assignee = null,
        )
        val result = trySave(io) { store.reportIncident(incident) }
        mutableUi.update {
            when (result) {
                is Submission.Saved -> it.copy(saving = false, reportedId = result.value)
                is Submission.Refused -> when (val field = IncidentField.of(result.field)) {
                    null -> it.copy(saving = false, notice = Notice(Message.CHECK_FORM))
                    else -> it.copy(saving = false, errors = mapOf(field to FieldError(field, result.reason)))
                }
                is Submission.Failed -> it.copy(saving = false, notice = result.notice)
            }
        }
        return result is Submission.Saved
    }
}
