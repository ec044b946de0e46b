package cn.linli.app.state

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.HouseholdSummary
import uniffi.linli.LinliStore
import uniffi.linli.Place
import uniffi.linli.defaultVisitPolicy

data class HouseholdRow(val household: HouseholdSummary, val dueForVisit: Boolean)

data class HouseholdListUi(
    val loading: Boolean = true,
    /** The phone has no place tree yet: the first sync brings it. */
    val needsFirstSync: Boolean = false,
    /** From the top place down to the one listed; empty until the place tree is here. */
    val path: List<Place> = emptyList(),
    /** Places under the listed one, to narrow the list (grids, buildings, units). */
    val subPlaces: List<Place> = emptyList(),
    val query: String = "",
    val onlyDue: Boolean = false,
    val rows: List<HouseholdRow> = emptyList(),
    val dueCount: Int = 0,
    val notice: Notice? = null,
) {
    val place: Place? get() = path.lastOrNull()
}

/**
 * "My households": the households on this phone under the chosen place, with their care tags
 * and which are due for a visit.
 *
 * The phone holds only what the server's scope sends it (and what the user wrote), so the
 * top place lists exactly the user's households. Due-ness is the core's `households_due`
 * under the default policy; this class only marks the rows it returns. A non-blank [query]
 * searches every household on the phone (the core's index, Chinese names included).
 */
class HouseholdListState(
    store: LinliStore,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
    /** Now, in the store's corrected clock; replaceable so tests can look ahead. */
    private val clock: () -> Long = { store.now() },
) : StoreScreen<HouseholdListUi>(HouseholdListUi(), store, scope, io) {
    private val policy = defaultVisitPolicy()

    init {
        start()
    }

    fun search(query: String) {
        update { it.copy(query = query) }
        reload()
    }

    fun showOnlyDue(only: Boolean) {
        update { it.copy(onlyDue = only) }
        reload()
    }

    /** Narrows the list to [place], one of [HouseholdListUi.subPlaces]. */
    fun open(place: Place) {
        update { it.copy(path = it.path + place) }
        reload()
    }

    /** Back to the parent place; false at the top. */
    fun up(): Boolean {
        if (ui.value.path.size <= 1) return false
        update { it.copy(path = it.path.dropLast(1)) }
        reload()
        return true
    }

    override fun shows(change: DataChange) = change.households || change.reference

    override suspend fun load() {
        val asked = ui.value
        val loaded = withContext(io) {
            val path = asked.path.ifEmpty { listOfNotNull(store.placesUnder(null).firstOrNull()) }
            val place = path.lastOrNull() ?: return@withContext null
            val due = store.householdsDue(place.id, policy, clock())
            val dueIds = due.mapTo(HashSet()) { it.id }
            val listed = when {
                asked.query.isNotBlank() -> store.searchHouseholds(asked.query.trim(), SEARCH_LIMIT)
                asked.onlyDue -> due
                else -> store.householdsIn(place.id)
            }
            Loaded(path, store.placesUnder(place.id), listed.map { HouseholdRow(it, it.id in dueIds) }, due.size)
        }
        update {
            when {
                // Inputs moved on while loading: a reload for them is already queued.
                it.query != asked.query || it.onlyDue != asked.onlyDue || it.path != asked.path -> it
                loaded == null -> it.copy(loading = false, needsFirstSync = true, notice = null)
                else -> it.copy(
                    loading = false,
                    needsFirstSync = false,
                    path = loaded.path,
                    subPlaces = loaded.subPlaces,
                    rows = loaded.rows,
                    dueCount = loaded.dueCount,
                    notice = null,
                )
            }
        }
    }

    override fun failed(notice: Notice) = update { it.copy(loading = false, notice = notice) }

    private class Loaded(
        val path: List<Place>,
        val subPlaces: List<Place>,
        val rows: List<HouseholdRow>,
        val dueCount: Int,
    )

    private companion object {
        const val SEARCH_LIMIT = 200u
    }
}
