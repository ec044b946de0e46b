package cn.linli.app.state

import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.withContext
import uniffi.linli.DataChange
import uniffi.linli.Discarded
import uniffi.linli.DocKind
import uniffi.linli.HouseholdPatch
import uniffi.linli.LinliException
import uniffi.linli.LinliStore
import uniffi.linli.Place
import uniffi.linli.PlaceKind
import uniffi.linli.RefusedDocument

data class RefusedUi(
    val loading: Boolean = true,
    /** Records the server refused, kept on the phone; each shows its reason (`outcome`). */
    val rows: List<RefusedDocument> = emptyList(),
    /** Where a record may be moved to fix it: buildings and units of the user's places. */
    val fixPlaces: List<Place> = emptyList(),
    /** The record an action is under way for. */
    val busy: String? = null,
    val notice: Notice? = null,
)

/**
 * "未同步的记录": the records the server refused, with why, and the two ways out. A fix is a
 * new write (a household or an incident moved to a building of the user's places); the next
 * sync pushes it and the server takes it. A refused record is not sent again until it changes, so the server
 * refuses nothing twice. [discard] drops the phone's own changes the server never
 * acknowledged: the record goes back to the server's version, or is deleted if the server
 * never had it.
 */
class RefusedState(
    store: LinliStore,
    scope: CoroutineScope,
    io: CoroutineDispatcher,
) : StoreScreen<RefusedUi>(RefusedUi(), store, scope, io) {
    init {
        start()
    }

    // Sync rounds report refused records as changed, and a fix or a discard is a change.
    override fun shows(change: DataChange) = change.households || change.incidents || change.reference

    override suspend fun load() {
        val (rows, places) = withContext(io) {
            store.refusedDocuments() to store.myPlaces().filter {
                it.kind == PlaceKind.BUILDING || it.kind == PlaceKind.UNIT
            }
        }
        update { it.copy(loading = false, rows = rows, fixPlaces = places) }
    }

    override fun failed(notice: Notice) = update { it.copy(loading = false, busy = null, notice = notice) }

    /**
     * Fixes a refused record by moving it to [placeId] (a building or unit of
     * [RefusedUi.fixPlaces]): a household's address, an incident's place. True when written; a
     * place outside the user's places is refused on the phone.
     */
    suspend fun moveTo(row: RefusedDocument, placeId: String): Boolean = act(row.docId) {
        when (row.kind) {
            DocKind.HOUSEHOLD -> store.updateHousehold(
                row.docId,
                HouseholdPatch(placeId = placeId, room = null, residency = null, housing = null, notes = null),
            )
            DocKind.INCIDENT -> store.setIncidentPlace(row.docId, placeId)
        }
    }

    /** Drops the phone's unacknowledged changes to [docId]; what is left, or null if it failed. */
    suspend fun discard(docId: String): Discarded? {
        var result: Discarded? = null
        act(docId) { result = store.discardLocalChanges(docId) }
        return result
    }

    private suspend fun act(docId: String, action: () -> Unit): Boolean {
        if (ui.value.busy != null) return false
        update { it.copy(busy = docId, notice = null) }
        val notice = try {
            withContext(io) { action() }
            null
        } catch (e: CancellationException) {
            throw e
        } catch (e: LinliException) {
            e.toNotice()
        }
        update { it.copy(busy = null, notice = notice) }
        // The write's own change notice reloads the list; a failed one changes nothing.
        if (notice == null) reload()
        return notice == null
    }
}
